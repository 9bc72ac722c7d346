"""Combination data, Dolibarr → PrestaShop (part of the ``product_data`` flow).

After its creation, a combination keeps following its Dolibarr twin (bound by the catalog,
entity ``combination``: a variant child, or a separate product): ``reference``, the ``weight``
impact and the barcodes (``ean13``/``upc``/``isbn``), mapped by
:func:`~dolisync.mapping.reverse.combination_data_fields`. The weight impact is the Dolibarr
product's weight minus its base: the Dolibarr parent's weight (variants), or the shop product's
own (combinations as separate products, whose parent has no twin) — the same rule as the
combination price impacts.

Like product data (field group ``data``) this follows Dolibarr whenever ``product_data`` is on:
equal values cost nothing, different ones go through the ownership rule (a shop edit of a value
we wrote is logged as a conflict) and out as one ``PATCH combinations/{id}`` per combination;
the catalog's hashes are primed around the writes exactly like for prices
(:class:`~dolisync.sync.reverse.echo.CatalogEcho`).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from dolisync.clients.prestashop_records import Combination, Product
from dolisync.mapping.catalog import product_ref
from dolisync.mapping.money import r6
from dolisync.mapping.reverse import combination_data_fields, combination_values, data_fields
from dolisync.sync.flows.products import COMBINATION, PRODUCT
from dolisync.sync.reverse.context import ReverseRun
from dolisync.sync.reverse.data import ReverseData
from dolisync.sync.reverse.echo import CatalogEcho

__all__ = ["CombinationDataFlow", "ENTITY"]

ENTITY = "erp_combination_data"


class CombinationDataFlow:
    """Write Dolibarr's variant data into the combinations (see module docstring)."""

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

    async def _base(self, product: Product) -> tuple[Decimal, str] | None:
        """(base weight in the shop unit, parent ref) of the product's combinations."""
        parent_id = self.run.catalog.target(PRODUCT, product.id)
        if parent_id is None:  # combinations as separate products: the shop product is the base
            return r6(product.weight), product_ref(product, self.run.flow.options)
        parent = (await self.data.products()).get(parent_id)
        if parent is None:
            return None
        return data_fields(parent, self.run.options)["weight"], str(parent.get("ref") or "")

    async def _sync(self, product: Product, combinations: list[Combination]) -> str:
        base = await self._base(product)
        if base is None:
            return "unchanged"
        base_weight, parent_ref = base
        doli = await self.data.products()
        writes: list[tuple[Combination, dict[str, Any]]] = []
        seen: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = []
        for combination in combinations:
            child_id = self.run.catalog.target(COMBINATION, combination.id)
            child = doli.get(child_id) if child_id else None
            if child is None:
                continue
            current = combination_values(combination)
            desired = combination_data_fields(child, base_weight=base_weight,
                                              default_reference=f"{parent_ref}-{combination.id}",
                                              current_reference=combination.reference, options=self.run.options)
            source_id = str(combination.id)
            if desired == current:
                seen.append((source_id, child_id, desired, desired))
                continue
            decision = self.run.decide(ENTITY, source_id, "data", desired=desired, current=current)
            if not decision.write:
                seen.append((source_id, child_id, desired, current))
                continue
            if decision.conflict:
                self.run.conflict(ENTITY, source_id, "data", current, desired)
            writes.append((combination, {k: v for k, v in desired.items() if current.get(k) != v}))
            seen.append((source_id, child_id, desired, desired))
        if writes:
            await self._write(product, writes)
        for source_id, child_id, read, written in seen:  # after the writes: a failed one is redone
            self.run.remember(ENTITY, source_id, child_id, read=read, written=written)
        return "updated" if writes else "unchanged"

    async def _write(self, product: Product, writes: list[tuple[Combination, dict[str, Any]]]) -> None:
        in_step = False if self.run.dry_run else await self.echo.in_sync(product)
        for combination, patch in writes:
            body = {"id": combination.id, **patch}
            await self.run.shop_write("PATCH", f"combinations/{combination.id}", patch, entity=ENTITY,
                                      source_id=str(combination.id),
                                      send=lambda b=body: self.run.prestashop.patch("combinations", b))
        if in_step:
            changed = {combination.id: patch for combination, patch in writes}
            cache = await self.data.catalog.combinations_by_product()
            cache[product.id] = [c.model_copy(update=changed[c.id]) if c.id in changed else c
                                 for c in cache.get(product.id, [])]
            await self.echo.prime(product)
