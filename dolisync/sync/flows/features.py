"""Features, shop → Dolibarr: one product extrafield per PrestaShop feature, created on first use.

Entity ``feature`` binds a PrestaShop feature id to the extrafield name. The existing
extrafields are read once (``GET /setup/extrafields?elementtype=product``), so a crash
between "created" and "bound" is healed by finding the name, and a 409 "exists" is adoption,
not an error. Values are written with the products (``array_options``).
"""

from __future__ import annotations

from collections.abc import Iterable

from dolisync.clients.errors import NotFound, RemoteRejected
from dolisync.mapping.catalog_extras import feature_extrafield_definition, feature_extrafield_name
from dolisync.sync.flows.catalog_data import CatalogData
from dolisync.sync.flows.context import FlowContext

__all__ = ["FeatureFlow", "ENTITY"]

ENTITY = "feature"


class FeatureFlow:
    """Ensure the extrafields of the features the products use (see module docstring)."""

    def __init__(self, ctx: FlowContext, data: CatalogData) -> None:
        self.ctx = ctx
        self.data = data
        self._existing: set[str] | None = None

    async def run(self) -> None:
        """Ensure an extrafield for every feature used by a product of the run (the products flow
        does the same page by page, so the engine runs this only when products are not synced)."""
        summaries = await self.data.product_summaries()
        await self.ensure({feature_id for summary in summaries for feature_id in summary.feature_ids})

    async def ensure(self, feature_ids: Iterable[int]) -> None:
        """Create the missing extrafields (one at a time; creation is admin work, rare)."""
        for feature_id in sorted(set(feature_ids)):
            if self.ctx.bindings.target(ENTITY, feature_id) is not None:
                continue
            async with self.ctx.lock("extrafields"):
                if self.ctx.bindings.target(ENTITY, feature_id) is None:
                    await self.ctx.guard(ENTITY, feature_id, lambda f=feature_id: self._ensure_one(f))

    async def _existing_names(self) -> set[str]:
        if self._existing is None:
            try:
                answer = await self.ctx.erp.get("/setup/extrafields", params={"elementtype": "product"})
            except NotFound:
                answer = {}
            product = answer.get("product", {}) if isinstance(answer, dict) else {}
            self._existing = set(product) if isinstance(product, dict) else set()
        return self._existing

    async def _ensure_one(self, feature_id: int) -> str:
        name = feature_extrafield_name(feature_id)
        if name in await self._existing_names():
            self.ctx.bindings.bind(ENTITY, feature_id, name)
            return "unchanged"
        features = await self.data.features()
        feature = features.get(feature_id)
        if feature is None:
            from dolisync.mapping.errors import MappingError

            raise MappingError("features", feature_id, "id", feature_id,
                               "a product uses a feature that does not exist in PrestaShop: re-assign its features")
        body = feature_extrafield_definition(feature, self.ctx.options)
        try:
            await self.ctx.erp.post(f"/setup/extrafields/product/{name}", body, entity=ENTITY,
                                    source_id=str(feature_id))
        except RemoteRejected as error:
            if error.status != 409:
                raise
        (await self._existing_names()).add(name)
        self.ctx.bindings.bind(ENTITY, feature_id, name)
        return "created"
