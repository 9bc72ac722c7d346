"""Attribute groups and values, shop → Dolibarr (only when combinations are variants).

A PrestaShop attribute group becomes a Dolibarr product attribute (``ref`` ``PSATTR<id>``,
``ref_ext`` = our key), each value an attribute value (``ref`` ``PSV<id>``), created once and
bound (entities ``attribute`` and ``attribute_value``). Healing: attributes are found again by
``ref_ext``/``ref`` in one listing, values by ``ref`` in one listing per attribute.
:meth:`AttributeFlow.ensure_values` is the dependency hook the product flow calls.
"""

from __future__ import annotations

from collections.abc import Iterable

from dolisync.clients.errors import NotFound
from dolisync.mapping.catalog import map_attribute, map_attribute_value
from dolisync.sync.binder import content_hash
from dolisync.sync.flows.catalog_data import CatalogData
from dolisync.sync.flows.context import FlowContext
from dolisync.sync.flows.lookup import pick_one

__all__ = ["AttributeFlow", "ATTRIBUTE", "ATTRIBUTE_VALUE"]

ATTRIBUTE = "attribute"
ATTRIBUTE_VALUE = "attribute_value"


class AttributeFlow:
    """Create/bind Dolibarr attributes and values for PrestaShop ones (see module docstring)."""

    def __init__(self, ctx: FlowContext, data: CatalogData) -> None:
        self.ctx = ctx
        self.data = data
        self._remote_attributes: list[dict[str, object]] | None = None
        self._remote_values: dict[str, list[dict[str, object]]] = {}
        self._groups_done: set[int] = set()

    async def run(self) -> None:
        """Sync every attribute value used by a combination of the shop."""
        combinations = await self.data.combinations_by_product()
        used = {value_id for items in combinations.values() for c in items
                for value_id in c.associations.product_option_values}
        await self.ensure_values(sorted(used))

    async def ensure_values(self, value_ids: Iterable[int]) -> None:
        """Make sure each PrestaShop attribute value (and its group) has a Dolibarr copy."""
        values = await self.data.option_values()
        for value_id in value_ids:
            value = values.get(value_id)
            if value is None:
                continue
            if self.ctx.bindings.target(ATTRIBUTE_VALUE, value_id) is not None:
                continue
            async with self.ctx.lock(f"attribute:{value.id_attribute_group}"):
                await self._ensure_group(value.id_attribute_group)
                attribute_id = self.ctx.bindings.target(ATTRIBUTE, value.id_attribute_group)
                if attribute_id is not None and self.ctx.bindings.target(ATTRIBUTE_VALUE, value_id) is None:
                    await self.ctx.guard(ATTRIBUTE_VALUE, value_id,
                                         lambda v=value, a=attribute_id: self._sync_value(v.id, a))

    async def _ensure_group(self, group_id: int) -> None:
        if group_id in self._groups_done:
            return
        self._groups_done.add(group_id)
        groups = await self.data.option_groups()
        group = groups.get(group_id)
        if group is None:
            return
        key = self.ctx.bindings.key(ATTRIBUTE, group_id)
        body = map_attribute(group, options=self.ctx.options, external_key=key)
        digest = content_hash(body)
        bindings = self.ctx.bindings
        if bindings.target(ATTRIBUTE, group_id) is not None and bindings.written_hash(ATTRIBUTE, group_id) == digest:
            return

        async def work() -> str:
            target = bindings.target(ATTRIBUTE, group_id)
            if target is None:
                remote = await self._attributes()
                target = pick_one(ATTRIBUTE, group_id,
                                  [str(row["id"]) for row in remote
                                   if row.get("ref_ext") == key or row.get("ref") == body["ref"]],
                                  f"ref {body['ref']!r}")
            if target is not None:
                try:
                    await self.ctx.erp.update(f"/products/attributes/{target}", body, entity=ATTRIBUTE,
                                              source_id=str(group_id))
                except NotFound:
                    target = None
                else:
                    bindings.bind(ATTRIBUTE, group_id, target, written_hash=digest)
                    return "updated"
            new_id = await self.ctx.erp.create("/products/attributes", body, entity=ATTRIBUTE, source_id=str(group_id))
            bindings.bind(ATTRIBUTE, group_id, new_id, written_hash=digest)
            return "created"

        await self.ctx.guard(ATTRIBUTE, group_id, work)

    async def _attributes(self) -> list[dict[str, object]]:
        if self._remote_attributes is None:
            rows = await self.ctx.erp.list_all("/products/attributes", params={"sortfield": "t.rowid"})
            self._remote_attributes = [row for row in rows if isinstance(row, dict)]
        return self._remote_attributes

    async def _values_of(self, attribute_id: str) -> list[dict[str, object]]:
        if attribute_id.startswith("-"):  # planned in a dry run: nothing to read yet
            return []
        if attribute_id not in self._remote_values:
            try:
                rows = await self.ctx.erp.get(f"/products/attributes/{attribute_id}/values")
            except NotFound:
                rows = []
            self._remote_values[attribute_id] = [row for row in rows or [] if isinstance(row, dict)]
        return self._remote_values[attribute_id]

    async def _sync_value(self, value_id: int, attribute_id: str) -> str:
        values = await self.data.option_values()
        body = map_attribute_value(values[value_id], options=self.ctx.options)
        existing = pick_one(ATTRIBUTE_VALUE, value_id,
                            [str(row["id"]) for row in await self._values_of(attribute_id) if row.get("ref") == body["ref"]],
                            f"ref {body['ref']!r}")
        if existing is not None:
            self.ctx.bindings.bind(ATTRIBUTE_VALUE, value_id, existing, written_hash=content_hash(body))
            return "unchanged"
        new_id = await self.ctx.erp.create(f"/products/attributes/{attribute_id}/values", body,
                                           entity=ATTRIBUTE_VALUE, source_id=str(value_id))
        self.ctx.bindings.bind(ATTRIBUTE_VALUE, value_id, new_id, written_hash=content_hash(body))
        return "created"
