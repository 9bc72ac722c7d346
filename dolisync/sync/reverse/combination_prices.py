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
from dolisync.sync.flows.products import COMBINATION, PRODUCT
from dolisync.sync.reverse.context import ReverseRun
from dolisync.sync.reverse.data import ReverseData
from dolisync.sync.reverse.echo import CatalogEcho

__all__ = ["CombinationPriceFlow", "ENTITY"]

ENTITY = "erp_combination_price"


class CombinationPriceFlow:
    """Write Dolibarr's variant prices as combination impacts (see module docstring)."""

    def __init__(self, run: ReverseRun, data: ReverseData, echo: CatalogEcho) -> None:
        self.run = run
        self.data = data
        self.echo = echo

    async def run_all(self) -> None:
        """Every product of the shop that has bound combinations."""
        bound = self.run.catalog.entity(COMBINATION)
        if not bound:
            return
        products = await self.data.catalog.all_products()
        by_product = await self.data.catalog.combinations_by_product()
        items = [(products[pid], combos) for pid, combos in sorted(by_product.items())
                 if pid in products and any(str(c.id) in bound for c in combos)]
        await self.run.flow.each(items, self._product)

    async def _product(self, item: tuple[Product, list[Combination]]) -> None:
        product, combinations = item
        await self.run.flow.guard(ENTITY, product.id, lambda: self._sync(product, combinations))

    async def _parent_price(self, product: Product) -> Decimal | None:
        doli = await self.data.products()
        parent_id = self.run.catalog.target(PRODUCT, product.id)
        if parent_id is None:  # combinations as separate products: the shop product is the base
            return r6(product.price)
        parent = doli.get(parent_id)
        return None if parent is None else await self._price(product, parent)

    async def _price(self, product: Product, doli: dict[str, Any]) -> Decimal:
        options = self.run.options
        rate = Decimal(0)
        if options.price_source == "TTC":
            table = await self.data.catalog.tax_table()
            rate = table.vat_for_group(product.id_tax_rules_group, source_id=product.id).total_rate
        return shop_price(doli, level=options.price_level, source=options.price_source, tax_rate=rate)

    async def _sync(self, product: Product, combinations: list[Combination]) -> str:
        base = await self._parent_price(product)
        if base is None:
            return "unchanged"
        doli = await self.data.products()
        writes: list[tuple[Combination, Decimal]] = []
        seen: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = []
        for combination in combinations:
            child_id = self.run.catalog.target(COMBINATION, combination.id)
            child = doli.get(child_id) if child_id else None
            if child is None:
                continue
            desired = {"price": r6(await self._price(product, child) - base)}
            current = {"price": r6(combination.price)}
            source_id = str(combination.id)
            if desired == current:
                seen.append((source_id, child_id, desired, desired))
                continue
            decision = self.run.decide(ENTITY, source_id, "price", desired=desired, current=current)
            if not decision.write:
                seen.append((source_id, child_id, desired, current))
                continue
            if decision.conflict:
                self.run.conflict(ENTITY, source_id, "price", current, desired)
            writes.append((combination, desired["price"]))
            seen.append((source_id, child_id, desired, desired))
        if writes:
            await self._write(product, writes)
        for source_id, child_id, read, written in seen:  # after the writes: a failed one is redone
            self.run.remember(ENTITY, source_id, child_id, read=read, written=written)
        return "updated" if writes else "unchanged"

    async def _write(self, product: Product, writes: list[tuple[Combination, Decimal]]) -> None:
        in_step = False if self.run.dry_run else await self.echo.in_sync(product)
        for combination, price in writes:
            body = {"id": combination.id, "price": price}
            await self.run.shop_write("PATCH", f"combinations/{combination.id}", {"price": price}, entity=ENTITY,
                                      source_id=str(combination.id),
                                      send=lambda b=body: self.run.prestashop.patch("combinations", b))
        if in_step:
            changed = {combination.id: price for combination, price in writes}
            cache = await self.data.catalog.combinations_by_product()
            cache[product.id] = [c.model_copy(update={"price": changed[c.id]}) if c.id in changed else c
                                 for c in cache.get(product.id, [])]
            await self.echo.prime(product)
