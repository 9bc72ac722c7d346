"""What the reverse combination flows share: one product's bound combinations brought to Dolibarr's values.

Contract of :class:`CombinationFieldsFlow` (subclasses name ``ENTITY`` and the ownership
``GROUP``, and say how to read the values):

* it visits every shop product having at least one combination bound by the catalog (entity
  ``combination``), one guarded item per product (a failure parks that product only);
* :meth:`~CombinationFieldsFlow.base` gives what the product's combinations are measured from
  (``None``: the Dolibarr twin is missing, nothing is done); :meth:`~CombinationFieldsFlow.fields`
  gives ``(desired, current)`` for one combination and its Dolibarr twin;
* values that differ go through the ownership rule (``GROUP``): a shop edit of a value we wrote
  is logged as a conflict; the changed keys go out as one ``PATCH combinations/{id}``;
* the catalog's hashes are primed around the writes
  (:class:`~dolisync.sync.reverse.echo.CatalogEcho`: in step before, the run's combinations
  cache updated, primed after), so the shop → ERP flow does not send them back;
* what was read and written is remembered after the writes, so a failed write is redone.
"""

from __future__ import annotations

from typing import Any, ClassVar

from dolisync.clients.prestashop_records import Combination, Product
from dolisync.sync.flows.products import COMBINATION
from dolisync.sync.reverse.context import ReverseRun
from dolisync.sync.reverse.data import ReverseData
from dolisync.sync.reverse.echo import CatalogEcho

__all__ = ["CombinationFieldsFlow"]


class CombinationFieldsFlow:
    """Base of the reverse combination flows (see module docstring)."""

    ENTITY: ClassVar[str]
    GROUP: ClassVar[str]

    def __init__(self, run: ReverseRun, data: ReverseData, echo: CatalogEcho) -> None:
        self.run = run
        self.data = data
        self.echo = echo

    async def base(self, product: Product) -> Any | None:
        """What the combinations of ``product`` are measured from; ``None`` skips the product."""
        raise NotImplementedError

    async def fields(self, product: Product, combination: Combination, twin: dict[str, Any],
                     base: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        """``(desired, current)`` values of one combination whose Dolibarr twin is ``twin``."""
        raise NotImplementedError

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
        await self.run.flow.guard(self.ENTITY, product.id, lambda: self._sync(product, combinations))

    async def _sync(self, product: Product, combinations: list[Combination]) -> str:
        base = await self.base(product)
        if base is None:
            return "unchanged"
        doli = await self.data.products()
        writes: list[tuple[Combination, dict[str, Any]]] = []
        seen: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = []
        for combination in combinations:
            child_id = self.run.catalog.target(COMBINATION, combination.id)
            child = doli.get(child_id) if child_id else None
            if child is None:
                continue
            desired, current = await self.fields(product, combination, child, base)
            source_id = str(combination.id)
            if desired == current:
                seen.append((source_id, child_id, desired, desired))
                continue
            decision = self.run.decide(self.ENTITY, source_id, self.GROUP, desired=desired, current=current)
            if not decision.write:
                seen.append((source_id, child_id, desired, current))
                continue
            if decision.conflict:
                self.run.conflict(self.ENTITY, source_id, self.GROUP, current, desired)
            writes.append((combination, {k: v for k, v in desired.items() if current.get(k) != v}))
            seen.append((source_id, child_id, desired, desired))
        if writes:
            await self._write(product, writes)
        for source_id, child_id, read, written in seen:  # after the writes: a failed one is redone
            self.run.remember(self.ENTITY, source_id, child_id, read=read, written=written)
        return "updated" if writes else "unchanged"

    async def _write(self, product: Product, writes: list[tuple[Combination, dict[str, Any]]]) -> None:
        in_step = False if self.run.dry_run else await self.echo.in_sync(product)
        for combination, patch in writes:
            body = {"id": combination.id, **patch}
            await self.run.shop_write("PATCH", f"combinations/{combination.id}", patch, entity=self.ENTITY,
                                      source_id=str(combination.id),
                                      send=lambda b=body: self.run.prestashop.patch("combinations", b))
        if in_step:
            changed = {combination.id: patch for combination, patch in writes}
            cache = await self.data.catalog.combinations_by_product()
            cache[product.id] = [c.model_copy(update=changed[c.id]) if c.id in changed else c
                                 for c in cache.get(product.id, [])]
            await self.echo.prime(product)
