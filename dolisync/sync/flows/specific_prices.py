"""Specific prices, shop → Dolibarr: classified and reported, never silently dropped.

Dolibarr's REST API has no endpoint for per-customer or per-quantity prices, and price levels
exist only with ``PRODUIT_MULTIPRICES`` (not on a default install). Each specific price of the
shop is counted as ``not_mappable`` with the limitation that blocks it
(:func:`dolisync.mapping.catalog_extras.classify_specific_price`). Writing group prices into
price levels when multiprices are on is not implemented yet: those are reported too.
No request is sent to Dolibarr by this flow.
"""

from __future__ import annotations

from dolisync.mapping.catalog_extras import classify_specific_price
from dolisync.sync.flows.catalog_data import CatalogData
from dolisync.sync.flows.context import FlowContext

__all__ = ["SpecificPriceFlow", "ENTITY"]

ENTITY = "specific_price"


class SpecificPriceFlow:
    """Report what happens to each specific price (see module docstring)."""

    def __init__(self, ctx: FlowContext, data: CatalogData) -> None:
        self.ctx = ctx
        self.data = data

    async def run(self) -> None:
        """Classify every specific price of the shop."""
        prices = await self.data.specific_prices()
        self.ctx.expect(ENTITY, len(prices))
        for price in prices:
            verdict = classify_specific_price(price, multiprices_enabled=self.ctx.settings.multiprices_enabled)
            reason = verdict.reason
            if verdict.mappable:
                reason = "group price for a Dolibarr price level: writing price levels is not implemented yet"
            self.ctx.not_mappable(ENTITY, price.id, f"specific price {price.id} (product {price.id_product}): {reason}")
