"""Stock, shop → Dolibarr: one labelled correction movement of the difference, per product.

Only when the shop's ``sync_stock`` is on. For every ``stock_availables`` row of the shop
(a simple product, or one combination; the product row of a product with combinations is
their sum and is skipped) the Dolibarr product is resolved (synced first when missing), and:

* if the PrestaShop quantity equals the one we last wrote (binding hash), nothing is read or
  written;
* otherwise Dolibarr's current stock in the shop's warehouse is read and the difference is
  posted as one movement. A crash after the movement and before the binding is harmless: the
  next run reads the new stock and finds no difference.
"""

from __future__ import annotations

from decimal import Decimal

from dolisync.clients.dolibarr_records import DoliProductStock
from dolisync.clients.errors import NotFound
from dolisync.mapping.catalog_extras import stock_correction
from dolisync.mapping.errors import MappingError
from dolisync.sync.binder import content_hash
from dolisync.sync.flows.catalog_data import CatalogData, StockLevel
from dolisync.sync.flows.context import FlowContext
from dolisync.sync.flows.products import ProductFlow

__all__ = ["StockFlow", "ENTITY"]

ENTITY = "stock"


class StockFlow:
    """Bring Dolibarr's warehouse stock to the PrestaShop quantities (see module docstring)."""

    def __init__(self, ctx: FlowContext, data: CatalogData, products: ProductFlow) -> None:
        self.ctx = ctx
        self.data = data
        self.products = products
        self._warehouse_id: int | None = None

    async def run(self) -> None:
        """Sync every stock row of the shop (unchanged quantities cost nothing)."""
        rows = await self.data.stock_levels()  # always all rows: a stock change does not touch date_upd
        combinations = await self.data.combinations_by_product()
        wanted = [row for row in rows if row.id_product_attribute or not combinations.get(row.id_product)]
        warehouse = await self.ctx.guard(ENTITY, "warehouse", self._resolve_warehouse)
        if warehouse in ("parked", "failed"):
            return
        self.ctx.expect(ENTITY, len(wanted))
        await self.ctx.each(wanted, self._row)

    async def _resolve_warehouse(self) -> str:
        name = self.ctx.settings.default_warehouse.strip()
        warehouses = await self.data.warehouses()
        for warehouse in warehouses:
            if name and name in (warehouse.ref, warehouse.label, str(warehouse.id)):
                self._warehouse_id = warehouse.id
        if self._warehouse_id is None and not name and len(warehouses) == 1:
            self._warehouse_id = warehouses[0].id
        if self._warehouse_id is None:
            known = ", ".join(sorted(w.ref or w.label for w in warehouses)) or "none"
            raise MappingError("configuration", self.ctx.settings.connection, "default_warehouse", name,
                               f"no Dolibarr warehouse has this ref/label (known: {known}): set default_warehouse "
                               "in the [[shop]] entry to one of them")
        return "skip"

    async def _row(self, row: StockLevel) -> None:
        source_id = f"{row.id_product}-{row.id_product_attribute}"
        await self.ctx.guard(ENTITY, source_id, lambda: self._sync_row(row, source_id))

    async def _sync_row(self, row: StockLevel, source_id: str) -> str:
        digest = content_hash({"quantity": row.quantity, "warehouse": self._warehouse_id})
        bindings = self.ctx.bindings
        if bindings.target(ENTITY, source_id) is not None and bindings.written_hash(ENTITY, source_id) == digest:
            return "unchanged"
        product_id = await self.products.target_for(row.id_product, row.id_product_attribute)
        if product_id is None:
            raise MappingError("stock", source_id, "id_product", row.id_product,
                               "the product (or combination) could not be synced to Dolibarr: fix it first "
                               "(see its own parked entry)")
        assert self._warehouse_id is not None
        current = Decimal(0)  # a product created in this run has no stock yet: no need to ask
        if not product_id.startswith("-") and product_id not in self.products.created_targets:
            try:
                answer = await self.ctx.erp.get(f"/products/{product_id}/stock",
                                                params={"selected_warehouse_id": self._warehouse_id})
                current = DoliProductStock.model_validate(answer).per_warehouse.get(self._warehouse_id, Decimal(0))
            except NotFound:
                current = Decimal(0)
        label = f"product {row.id_product}" + (f" combination {row.id_product_attribute}" if row.id_product_attribute else "")
        correction = stock_correction(product_id=int(product_id), warehouse_id=self._warehouse_id,
                                      prestashop_quantity=row.quantity, dolibarr_quantity=current,
                                      shop_name=self.ctx.options.shop_name, source_label=label)
        outcome = "unchanged"
        if correction.body is not None:
            await self.ctx.erp.post("/stockmovements", correction.body, entity=ENTITY, source_id=source_id)
            outcome = "updated"
        bindings.bind(ENTITY, source_id, product_id, written_hash=digest)
        return outcome
