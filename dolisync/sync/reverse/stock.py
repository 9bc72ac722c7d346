"""Stock, Dolibarr → PrestaShop: each product/combination gets the shop's figure.

For every ``stock_availables`` row of the shop (a simple product, or one combination — the
product row of a product with combinations is their sum, which PrestaShop recomputes itself):

* the Dolibarr product is the one bound by the catalog (``product``/``combination``); an
  unbound row is not ours and is left alone;
* the wanted quantity is :func:`~dolisync.mapping.reverse.shop_quantity` of its stock
  (warehouses of the shop, physical or virtual, minus the safety buffer);
* equal to the shop's quantity: nothing is written (the echo of our own write, or a shop
  already in step), only the state is remembered;
* otherwise the ownership rule decides (:meth:`ReverseRun.decide`); a write is one
  ``PATCH stock_availables/{id}`` with the quantity, then the shop → ERP stock hash is primed
  so that flow does not send the same figure back as a movement.
"""

from __future__ import annotations

import asyncio

from dolisync.clients.prestashop_records import StockAvailable
from dolisync.mapping.errors import MappingError
from dolisync.mapping.reverse import shop_quantity, stock_figures
from dolisync.sync.flows.products import owner_of
from dolisync.sync.reverse.context import ReverseRun
from dolisync.sync.reverse.data import ReverseData
from dolisync.sync.reverse.echo import prime_stock

__all__ = ["ReverseStockFlow", "ENTITY"]

ENTITY = "erp_stock"


class ReverseStockFlow:
    """Write Dolibarr's stock figures into the shop (see module docstring)."""

    def __init__(self, run: ReverseRun, data: ReverseData) -> None:
        self.run = run
        self.data = data
        self._catalog_warehouse: int | None = None

    async def run_all(self) -> None:
        """Every stock row of the shop."""
        # the listings of both sides at once (each is paged sequentially): the run waits for the longest
        warehouses, rows, combinations, _products = await asyncio.gather(
            self.run.flow.guard(ENTITY, "warehouses", self._check_warehouses), self.data.catalog.stock_rows(),
            self.data.catalog.combinations_by_product(), self.data.products())
        if warehouses in ("parked", "failed"):
            return
        wanted = [row for row in rows if row.id_product_attribute or not combinations.get(row.id_product)]
        self._catalog_warehouse = await self.data.catalog_warehouse_id()
        await self.run.flow.each(wanted, self._row)

    async def _check_warehouses(self) -> str:
        await self.data.warehouse_ids()
        return "skip"

    async def _row(self, row: StockAvailable) -> None:
        source_id = f"{row.id_product}-{row.id_product_attribute}"
        entity, bound_id = owner_of(row.id_product, row.id_product_attribute)
        doli_id = self.run.catalog.target(entity, bound_id)
        if doli_id is None or doli_id.startswith("-"):
            return  # not a product of ours (or not yet in Dolibarr): nothing to follow
        await self.run.flow.guard(ENTITY, source_id, lambda: self._sync(row, source_id, doli_id))

    async def _sync(self, row: StockAvailable, source_id: str, doli_id: str) -> str:
        product = (await self.data.products()).get(doli_id)
        if product is None:
            raise MappingError("stock", source_id, "product", doli_id,
                               "the Dolibarr product bound to this PrestaShop product no longer exists: "
                               "restore it, or delete the binding (dolisync retry after fixing)")
        per_warehouse, physical, virtual = stock_figures(product)
        options = self.run.options
        quantity = shop_quantity(per_warehouse, warehouse_ids=await self.data.warehouse_ids(),
                                 kind=options.stock_kind, physical_total=physical, virtual_total=virtual,
                                 buffer=options.stock_buffer)
        desired, current = {"quantity": quantity}, {"quantity": row.quantity}
        if quantity == row.quantity:
            self.run.remember(ENTITY, source_id, doli_id, read=desired, written=desired)
            return "unchanged"
        decision = self.run.decide(ENTITY, source_id, "stock", desired=desired, current=current)
        if not decision.write:
            self.run.remember(ENTITY, source_id, doli_id, read=desired, written=current)
            return "unchanged"
        if decision.conflict:
            self.run.conflict(ENTITY, source_id, "stock", row.quantity, quantity)
        await self.run.shop_write("PATCH", f"stock_availables/{row.id}", {"quantity": quantity}, entity=ENTITY,
                                  source_id=source_id,
                                  send=lambda: self.run.prestashop.patch("stock_availables",
                                                                         {"id": row.id, "quantity": quantity}))
        if not self.run.dry_run:
            prime_stock(self.run.catalog, id_product=row.id_product,
                        id_product_attribute=row.id_product_attribute, doli_product_id=doli_id, quantity=quantity,
                        warehouse_id=self._catalog_warehouse, old_quantity=row.quantity,
                        force=self.run.ownership.get("stock") == "dolibarr")
        self.run.remember(ENTITY, source_id, doli_id, read=desired, written=desired)
        return "updated"
