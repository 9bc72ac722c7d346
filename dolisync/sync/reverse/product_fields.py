"""Prices and product data, Dolibarr → PrestaShop, per field group, for bound products.

For every PrestaShop product bound (by the catalog) to a Dolibarr product, and for each field
group switched on — ``price`` (flow ``prices``), ``data``, ``categories`` and ``active`` (flow
``product_data``), ``descriptions`` (flow ``product_data`` with ``descriptions_on_update``):

* ``categories``: the product's membership of the shop categories linked to a Dolibarr
  category follows Dolibarr (others are kept; the default category stays valid, see
  :func:`~dolisync.mapping.reverse.category_fields`); like ``data`` it follows Dolibarr
  whenever ``product_data`` is on;

1. map the Dolibarr product (:mod:`dolisync.mapping.reverse`) and read the shop's current
   values in the same shape;
2. equal: nothing to write (our own echo, or already in step) — the state is remembered;
3. different: the ownership rule decides, a conflict is logged when a Dolibarr-owned field was
   edited in the shop;
4. the changed groups go out in **one** ``PATCH products/{id}``; before it, the catalog is asked
   whether it was in step with the shop, and after it the catalog's hashes are primed
   (:class:`~dolisync.sync.reverse.echo.CatalogEcho`), so the shop → ERP flow does not send
   our value back.
"""

from __future__ import annotations

from typing import Any

from dolisync.clients.prestashop_records import Product
from dolisync.mapping.reverse import (
    active_fields,
    category_fields,
    data_fields,
    description_fields,
    shop_price,
    shop_values,
)
from dolisync.sync.flows.categories import ENTITY as CATEGORY
from dolisync.sync.reverse.context import ReverseRun
from dolisync.sync.reverse.data import ReverseData
from dolisync.sync.reverse.echo import CatalogEcho

__all__ = ["ProductFieldsFlow", "ENTITY", "groups_for"]

ENTITY = "erp_product"


def groups_for(flows: set[str], descriptions_on_update: bool) -> list[str]:
    """The field groups written for the switched-on flows."""
    groups: list[str] = []
    if "prices" in flows:
        groups.append("price")
    if "product_data" in flows:
        groups += ["data", "categories", "active"]
        if descriptions_on_update:
            groups.append("descriptions")
    return groups


class ProductFieldsFlow:
    """Write Dolibarr's prices and product data into the shop (see module docstring)."""

    def __init__(self, run: ReverseRun, data: ReverseData, echo: CatalogEcho, groups: list[str]) -> None:
        self.run = run
        self.data = data
        self.echo = echo
        self.groups = groups

    async def run_all(self) -> None:
        """Every bound product of the shop."""
        if not self.groups:
            return
        await self.run.flow.each(await self.data.bound_products(self.run.catalog), self._item)

    async def _item(self, item: tuple[Product, dict[str, Any]]) -> None:
        product, doli = item
        await self.run.flow.guard(ENTITY, product.id, lambda: self._sync(product, doli))

    async def desired(self, product: Product, doli: dict[str, Any], group: str) -> dict[str, Any]:
        """Dolibarr's values of ``group`` for this shop."""
        options = self.run.options
        if group == "price":
            rate = await self._tax_rate(product) if options.price_source == "TTC" else 0
            return {"price": shop_price(doli, level=options.price_level, source=options.price_source,
                                        tax_rate=rate)}  # type: ignore[arg-type]
        if group == "data":
            return data_fields(doli, options)
        if group == "active":
            return active_fields(doli)
        if group == "categories":
            return await self._categories(product, doli)
        return description_fields(doli, options)

    async def _categories(self, product: Product, doli: dict[str, Any]) -> dict[str, Any]:
        linked = {int(sid): binding.target_id for sid, binding in self.run.catalog.entity(CATEGORY).items()
                  if sid.isdigit() and not binding.target_id.startswith("-")}
        members = await self.data.category_members(sorted(set(linked.values())))
        wanted = {shop_id for shop_id, doli_id in linked.items() if str(doli["id"]) in members.get(doli_id, ())}
        return category_fields(list(product.associations.categories), product.id_category_default,
                               managed=set(linked), wanted=wanted)

    async def _tax_rate(self, product: Product) -> Any:
        table = await self.data.catalog.tax_table()
        return table.vat_for_group(product.id_tax_rules_group, source_id=product.id).total_rate

    async def _sync(self, product: Product, doli: dict[str, Any]) -> str:
        source_id = str(product.id)
        patch: dict[str, Any] = {}
        remembered: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
        for group in self.groups:
            entity = f"{ENTITY}_{group}"
            desired = await self.desired(product, doli, group)
            current = shop_values(product, group, self.run.options)
            if desired == current:
                remembered.append((entity, desired, desired))
                continue
            decision = self.run.decide(entity, source_id, group, desired=desired, current=current)
            if not decision.write:
                remembered.append((entity, desired, current))
                continue
            if decision.conflict:
                self.run.conflict(ENTITY, source_id, group, current, desired)
            patch.update({name: value for name, value in desired.items() if current.get(name) != value})
            remembered.append((entity, desired, desired))
        outcome = "unchanged"
        if patch:
            await self._write(product, patch)
            outcome = "updated"
        for entity, read, written in remembered:
            self.run.remember(entity, source_id, doli["id"], read=read, written=written)
        return outcome

    async def _write(self, product: Product, patch: dict[str, Any]) -> None:
        in_step = False if self.run.dry_run else await self.echo.in_sync(product)
        fields = {name: value for name, value in patch.items() if name != "categories"}
        body: dict[str, Any] = {"id": product.id, **fields}
        update: dict[str, Any] = dict(fields)
        if "categories" in patch:  # associations are replaced as a whole
            body["associations"] = {"categories": [{"id": cid} for cid in patch["categories"]]}
            update["associations"] = product.associations.model_copy(update={"categories": patch["categories"]})
        await self.run.shop_write("PATCH", f"products/{product.id}", patch, entity=ENTITY, source_id=str(product.id),
                                  send=lambda: self.run.prestashop.patch("products", body))
        updated = product.model_copy(update=update)
        if not self.run.dry_run:  # later flows of the run (combination impacts) see the new values
            (await self.data.catalog.all_products())[product.id] = updated
        if in_step:
            await self.echo.prime(updated)
