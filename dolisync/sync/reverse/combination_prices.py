"""Combination prices, Dolibarr → PrestaShop (part of the ``prices`` flow).

A PrestaShop combination carries a price *impact* (tax excl.) over its product's price. Its
Dolibarr twin (bound by the catalog, entity ``combination``) is a product of its own: a variant
child (``combinations = "variants"``) or a separate product (``"products"``). The wanted impact is
the shop price of that Dolibarr product minus the product's shop price — the Dolibarr parent's
(variants), or the shop product's own (separate products, whose parent has no twin).

Per product, the impacts that differ are decided by the ownership rule (group ``price``), then
written as ``PATCH combinations/{id}`` ``price``; the catalog's hashes are primed exactly like for
products (:class:`~dolisync.sync.reverse.echo.CatalogEcho`: in step before, primed after), the
combinations cache of the run being updated with the new impacts first.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from dolisync.clients.prestashop_records import Combination, Product
from dolisync.mapping.money import r6
from dolisync.mapping.reverse import shop_price
from dolisync.sync.flows.products import PRODUCT
from dolisync.sync.reverse.combination_flow import CombinationFieldsFlow

__all__ = ["CombinationPriceFlow", "ENTITY"]

ENTITY = "erp_combination_price"


class CombinationPriceFlow(CombinationFieldsFlow):
    """Write Dolibarr's variant prices as combination impacts (see module docstring)."""

    ENTITY = ENTITY
    GROUP = "price"

    async def base(self, product: Product) -> Decimal | None:
        """The shop price the impacts are measured from."""
        parent_id = self.run.catalog.target(PRODUCT, product.id)
        if parent_id is None:  # combinations as separate products: the shop product is the base
            return r6(product.price)
        parent = (await self.data.products()).get(parent_id)
        return None if parent is None else await self._price(product, parent)

    async def fields(self, product: Product, combination: Combination, twin: dict[str, Any],
                     base: Decimal) -> tuple[dict[str, Any], dict[str, Any]]:
        return {"price": r6(await self._price(product, twin) - base)}, {"price": r6(combination.price)}

    async def _price(self, product: Product, doli: dict[str, Any]) -> Decimal:
        options = self.run.options
        rate = Decimal(0)
        if options.price_source == "TTC":
            table = await self.data.catalog.tax_table()
            rate = table.vat_for_group(product.id_tax_rules_group, source_id=product.id).total_rate
        return shop_price(doli, level=options.price_level, source=options.price_source, tax_rate=rate)
