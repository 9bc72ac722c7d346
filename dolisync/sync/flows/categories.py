"""Categories, shop → Dolibarr: the tree under the shop's home, each parent before its children.

Script per category: dependencies (its parent, recursively) → map → skip if the hash is
unchanged → create or update (``ref_ext`` always sent: a PUT without it clears it) → bind.
The shop's home is one container category labelled with the shop name (entity
``category_root``). :meth:`CategoryFlow.ensure` is what other flows call for a category they
need: a category missing in Dolibarr is synced first, not skipped.
"""

from __future__ import annotations

from dolisync.clients.errors import NotFound
from dolisync.clients.prestashop_records import Category
from dolisync.mapping.catalog import CategoryTree, map_category, shop_root_category
from dolisync.sync.binder import content_hash
from dolisync.sync.flows.catalog_data import CatalogData
from dolisync.sync.flows.context import FlowContext
from dolisync.sync.flows.lookup import ErpIndex, pick_one

__all__ = ["CategoryFlow", "ENTITY", "ROOT_ENTITY"]

ENTITY = "category"
ROOT_ENTITY = "category_root"


class CategoryFlow:
    """Sync the category tree of one shop (see module docstring)."""

    def __init__(self, ctx: FlowContext, data: CatalogData) -> None:
        self.ctx = ctx
        self.data = data
        self.index = ErpIndex(ctx.erp, "/categories", key_prefix=ctx.bindings.key_prefix(),
                              params={"type": "product"})
        self._done: set[int] = set()

    async def run(self) -> None:
        """Sync every category under the shop's home (parents before children)."""
        tree = await self.data.category_tree()
        await self.ctx.guard(ROOT_ENTITY, tree.home_id, self._sync_root)
        ordered = tree.ordered()
        self.ctx.expect(ENTITY, len(ordered))
        # siblings in parallel; ensure() syncs a parent before its children (per-category locks)
        await self.ctx.each(ordered, lambda category: self.ensure(category.id))

    async def ensure(self, category_id: int) -> str | None:
        """Dolibarr id of a PrestaShop category, syncing it (and its parents) first if needed.

        The home category answers the shop container; a category outside the shop tree
        answers None. A category that could not be synced (parked) answers None too.
        """
        tree = await self.data.category_tree()
        if category_id == tree.home_id:
            if tree.home_id not in self._done:
                await self.ctx.guard(ROOT_ENTITY, tree.home_id, self._sync_root)
            return self.ctx.bindings.target(ROOT_ENTITY, tree.home_id)
        category = tree.by_id.get(category_id)
        if category is None or not tree.in_shop_tree(category_id):
            return None
        async with self.ctx.lock(f"category:{category_id}"):
            if category_id not in self._done:
                parent_id = await self.ensure(category.id_parent)
                if parent_id is not None:
                    await self.ctx.guard(ENTITY, category_id, lambda: self._sync_one(category, tree, int(parent_id)))
                self._done.add(category_id)
        return self.ctx.bindings.target(ENTITY, category_id)

    async def _sync_root(self) -> str:
        tree = await self.data.category_tree()
        self._done.add(tree.home_id)
        key = self.ctx.bindings.key(ROOT_ENTITY, tree.home_id)
        body = shop_root_category(self.ctx.options, key)
        return await self._write(ROOT_ENTITY, tree.home_id, body, key)

    async def _sync_one(self, category: Category, tree: CategoryTree, parent_id: int) -> str:
        key = self.ctx.bindings.key(ENTITY, category.id)
        body = map_category(category, tree=tree, options=self.ctx.options, parent_target_id=parent_id,
                            external_key=key)
        return await self._write(ENTITY, category.id, body, key)

    async def _write(self, entity: str, source_id: int, body: dict[str, object], key: str) -> str:
        bindings = self.ctx.bindings
        digest = content_hash(body)
        target = bindings.target(entity, source_id)
        if target is not None and bindings.written_hash(entity, source_id) == digest:
            return "unchanged"
        if target is None:
            target = pick_one(entity, source_id, await self.index.by_key(key), f"ref_ext {key!r}")
        if target is not None:
            try:
                await self.ctx.erp.update(f"/categories/{target}", body, entity=entity, source_id=str(source_id))
            except NotFound:
                bindings.unbind(entity, source_id)
                target = None
            else:
                bindings.bind(entity, source_id, target, written_hash=digest)
                return "updated"
        new_id = await self.ctx.erp.create("/categories", body, entity=entity, source_id=str(source_id))
        self.index.add(new_id, key=key)
        bindings.bind(entity, source_id, new_id, written_hash=digest)
        return "created"


