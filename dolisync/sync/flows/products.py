"""Products and combinations, shop → Dolibarr.

Script per product: dependencies (tax table, features' extrafields, categories, attribute
values) → map → skip if the hash is unchanged → create or update → link categories → bind;
then its combinations, as Dolibarr variants (children of the product) or as separate products,
per the shop's ``combinations`` switch.

Idempotence and crash safety:

* The binding and the hash of what was written are stored only after *every* write of the
  item (body and category links) succeeded; a crash in between leaves the old state, so the
  next run finds the object again (below) and redoes the update, which is harmless.
* An unbound item is looked up before any create: by external key (``ref_ext``, one bulk
  listing for the whole run), and in ``ref`` matching mode by ref (adopting the existing
  product). Several candidates park the item; nothing is ever created twice.
* Variants are looked up in the parent's variant list (``variation_ref_ext``, then the
  attribute set) before ``POST /products/{id}/variants``, whose second call would re-point
  the combination to a new child (API.md §3.3). The child gets its own ``ref_ext`` (Dolibarr
  copies the parent's).

:meth:`ProductFlow.target_for` is the dependency hook of the stock and image flows.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from dolisync.clients.dolibarr_records import DoliVariant
from dolisync.clients.errors import NotFound, RemoteRejected
from dolisync.clients.prestashop_records import Combination, Product
from dolisync.mapping.catalog import (
    MappedObject,
    combination_label_suffix,
    linked_category_ids,
    map_combination_product,
    map_product,
    map_variant,
)
from dolisync.mapping.catalog_extras import product_feature_values
from dolisync.mapping.taxes import ProductVat
from dolisync.sync.binder import content_hash
from dolisync.sync.flows.attributes import ATTRIBUTE, ATTRIBUTE_VALUE, AttributeFlow
from dolisync.sync.flows.catalog_data import CatalogData
from dolisync.sync.flows.categories import ENTITY as CATEGORY
from dolisync.sync.flows.categories import ROOT_ENTITY as CATEGORY_ROOT
from dolisync.sync.flows.categories import CategoryFlow
from dolisync.sync.flows.context import AmbiguousMatch, FlowContext
from dolisync.sync.flows.features import ENTITY as FEATURE
from dolisync.sync.flows.features import FeatureFlow
from dolisync.sync.flows.lookup import ErpIndex, pick_one

__all__ = ["ProductFlow", "PRODUCT", "COMBINATION", "VARIANT_LINK", "owner_of"]

PRODUCT = "product"
COMBINATION = "combination"
VARIANT_LINK = "variant_combination"  # combination id -> Dolibarr product_attribute_combination id

_RANK = {"unchanged": 0, "updated": 1, "created": 2}


def product_digest(body: dict[str, Any], category_ids: list[str]) -> str:
    """What was written for a product: 32 hex digits of the body hash, then 32 of its links.

    Split so that a change of categories alone re-links without rewriting the product.
    """
    return content_hash(body)[:32] + content_hash({"categories": sorted(category_ids)})[:32]


def owner_of(id_product: int, id_product_attribute: int) -> tuple[str, int]:
    """The binding (entity, source id) holding the Dolibarr product of a product/combination."""
    return (COMBINATION, id_product_attribute) if id_product_attribute else (PRODUCT, id_product)


class ProductFlow:
    """Sync products and their combinations (see module docstring)."""

    def __init__(self, ctx: FlowContext, data: CatalogData, *, categories: CategoryFlow, features: FeatureFlow,
                 attributes: AttributeFlow) -> None:
        self.ctx = ctx
        self.data = data
        self.categories = categories
        self.features = features
        self.attributes = attributes
        # Variant children are left out (variant_filter=1): Dolibarr copies the parent's ref_ext
        # onto a new child, so a child caught by a crash before its own key was set would
        # otherwise look like a second copy of the parent. Children are found through the
        # parent's variant list instead.
        self.index = ErpIndex(ctx.erp, "/products", key_prefix=ctx.bindings.key_prefix(),
                              params={"variant_filter": 1}, by_ref=ctx.options.matching == "ref")
        self._synced: set[int] = set()
        self.created_targets: set[str] = set()  # Dolibarr products created in this run (stock 0)

    @property
    def variants_mode(self) -> bool:
        """True when combinations become Dolibarr variants."""
        return self.ctx.settings.combinations != "products"

    async def run(self) -> None:
        """Sync every product of the run (all, or those changed since the cursor), page by page
        of the product listing: a page is let go once its products are synced, so whole product
        records are never all held at once (see :mod:`dolisync.sync.flows.catalog_data`).

        Before a page's products are synced, the extrafields of every feature they use are
        ensured (what the feature flow does for the whole listing when products are not synced).
        """
        async with contextlib.aclosing(self.data.product_pages()) as pages:
            # the first page and the combinations listing are read at once (independent resources)
            reading = asyncio.ensure_future(anext(pages, None))
            try:
                combinations = await self.data.combinations_by_product()
                first = await reading
            finally:
                if not reading.done():  # the combinations failed: stop the page read before closing
                    reading.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await reading

            async def items() -> AsyncIterator[Product]:
                nonlocal first
                page, first = first, None
                while page is not None:
                    self.ctx.expect(PRODUCT, len(page))
                    self.ctx.expect(COMBINATION, sum(len(combinations.get(p.id, [])) for p in page))
                    await self.features.ensure({link.id for p in page for link in p.associations.product_features})
                    for product in page:
                        yield product
                    page = None  # let the page go before the next one is awaited
                    page = await anext(pages, None)

            async with contextlib.aclosing(items()) as stream:
                await self.ctx.each(stream, self.sync)

    async def sync(self, product: Product) -> None:
        """Sync one product (once per run) and its combinations; errors park it."""
        async with self.ctx.lock(f"product:{product.id}"):
            if product.id in self._synced:
                return
            self._synced.add(product.id)
            await self.ctx.guard(PRODUCT, product.id, lambda: self._sync_product(product))

    async def target_for(self, id_product: int, id_product_attribute: int = 0) -> str | None:
        """Dolibarr product id of a product/combination, syncing the product first if needed."""
        entity, source_id = owner_of(id_product, id_product_attribute)
        target = self.ctx.bindings.target(entity, source_id)
        if target is not None:
            return target
        if id_product in self._synced:  # handled in this run (maybe parked): wait for it to finish
            async with self.ctx.lock(f"product:{id_product}"):
                return self.ctx.bindings.target(entity, source_id)
        if self.data.lists_product(id_product) is False:
            return None  # the listing of this run was the whole shop: no such product (or a draft)
        product = (await self.data.all_products()).get(id_product)
        if product is not None:
            await self.sync(product)
        return self.ctx.bindings.target(entity, source_id)

    # -- one product -------------------------------------------------------------------------
    async def _sync_product(self, product: Product) -> str:
        vat = (await self.data.tax_table()).vat_for_group(product.id_tax_rules_group, source_id=product.id)
        extrafields = await self._extrafields(product)
        category_ids = await self._category_targets(product)
        combinations = (await self.data.combinations_by_product()).get(product.id, [])
        if combinations and not self.variants_mode:
            return await self._sync_combination_products(product, combinations, vat, extrafields, category_ids)

        key = self.ctx.bindings.key(PRODUCT, product.id)
        mapped = map_product(product, options=self.ctx.options, vat=vat, external_key=key, extrafields=extrafields)
        digest = product_digest(mapped.body, category_ids)
        outcome, target = await self._upsert(PRODUCT, product.id, mapped, digest, category_ids)
        self._report_problems(PRODUCT, product.id, mapped.problems)
        if combinations:
            parent_price = {k: mapped.body.get(k) for k in ("price", "price_ttc", "price_base_type", "tva_tx", "weight")}
            await self._sync_variants(product, combinations, target, mapped.body["ref"], vat, parent_price)
        return outcome

    async def _extrafields(self, product: Product) -> dict[str, str]:
        if not product.associations.product_features:
            return {}
        values = product_feature_values(product, await self.data.feature_values(), self.ctx.options)
        feature_ids = [link.id for link in product.associations.product_features]
        await self.features.ensure(feature_ids)
        bound = {self.ctx.bindings.target(FEATURE, fid) for fid in feature_ids}
        return {name: value for name, value in values.items() if name in bound}

    async def _category_targets(self, product: Product) -> list[str]:
        tree = await self.data.category_tree()
        targets = [await self.categories.ensure(cid) for cid in linked_category_ids(product, tree)]
        return sorted({target for target in targets if target is not None})

    def _report_problems(self, entity: str, source_id: int, problems: tuple[str, ...]) -> None:
        if problems:
            self.ctx.warn(entity, source_id, f"{entity} {source_id}: " + "; ".join(problems))
        else:
            self.ctx.clear_warning(entity, source_id)

    # -- create or update a Dolibarr product --------------------------------------------------
    async def _find(self, entity: str, source_id: int, key: str, ref: str) -> str | None:
        found = pick_one(entity, source_id, await self.index.by_key(key), f"ref_ext {key!r}")
        if found is None and self.ctx.options.matching == "ref":
            found = pick_one(entity, source_id, await self.index.by_ref(ref), f"ref {ref!r}")
            if found is not None:
                for other in (PRODUCT, COMBINATION):
                    owner = self.ctx.bindings.source_of(other, found)
                    if owner is not None:
                        raise AmbiguousMatch(entity, str(source_id),
                                             f"Dolibarr product #{found} with ref {ref!r} is already the copy of "
                                             f"{other} {owner}: give one of them another reference")
        return found

    async def _upsert(self, entity: str, source_id: int, mapped: MappedObject, digest: str,
                      category_ids: list[str]) -> tuple[str, str]:
        bindings = self.ctx.bindings
        sid = str(source_id)
        target = bindings.target(entity, source_id)
        stored = bindings.written_hash(entity, source_id)
        if target is not None and stored == digest:
            return "unchanged", target
        if target is not None and stored is not None and stored[:32] == digest[:32]:
            # same body, other categories: only the links are written
            await self._sync_links(target, category_ids, entity=entity, source_id=sid, created=False)
            bindings.bind(entity, source_id, target, written_hash=digest)
            return "updated", target
        if target is None:  # never bound, or a crash came between create and bind: look it up
            target = await self._find(entity, source_id, mapped.body["ref_ext"], mapped.body["ref"])
        if target is not None:
            try:
                await self._send(entity, source_id, mapped.body,
                                 lambda body: self.ctx.erp.update(f"/products/{target}", body, entity=entity,
                                                                  source_id=sid))
            except NotFound:
                bindings.unbind(entity, source_id)
            else:
                await self._sync_links(target, category_ids, entity=entity, source_id=sid, created=False)
                bindings.bind(entity, source_id, target, written_hash=digest)
                return "updated", target
        new_id = str(await self._send(entity, source_id, mapped.create_body(),
                                      lambda body: self.ctx.erp.create("/products", body, entity=entity,
                                                                       source_id=sid)))
        self.index.add(new_id, ref=mapped.body["ref"], key=mapped.body["ref_ext"])
        self.created_targets.add(new_id)
        await self._sync_links(new_id, category_ids, entity=entity, source_id=sid, created=True)
        bindings.bind(entity, source_id, new_id, written_hash=digest)
        return "created", new_id

    async def _send(self, entity: str, source_id: int, body: dict[str, Any],
                    write: Callable[[dict[str, Any]], Awaitable[Any]]) -> Any:
        """Write ``body``; if Dolibarr refuses its barcode as a duplicate, write it without the
        barcode and warn (the product syncs, the code is reported, not sent)."""
        try:
            result = await write(body)
        except RemoteRejected as error:
            if not body.get("barcode") or "barcode" not in str(error).lower():
                raise
            result = await write({**body, "barcode": "", "barcode_type": 0})
            self.ctx.warn(entity, source_id,
                          f"{entity} {source_id}: barcode {body['barcode']} is already used by another Dolibarr "
                          "product (another shop's copy, or a product made in Dolibarr); it was not sent: make "
                          "the codes unique, then edit the product to send it again", kind="barcode")
            return result
        if body.get("barcode"):
            self.ctx.clear_warning(entity, source_id, kind="barcode")
        return result

    async def _sync_links(self, product_id: str, wanted: list[str], *, entity: str, source_id: str,
                          created: bool) -> None:
        """Link the wanted categories, unlink ours that are no longer wanted (others untouched)."""
        current: set[str] = set()
        if not created and not product_id.startswith("-"):
            try:
                rows = await self.ctx.erp.get(f"/products/{product_id}/categories")
            except NotFound:
                rows = []
            current = {str(row.get("id")) for row in rows or [] if isinstance(row, dict)}
        ours = self.ctx.bindings.bound_targets(CATEGORY) | self.ctx.bindings.bound_targets(CATEGORY_ROOT)
        for category_id in sorted(set(wanted) - current):
            await self.ctx.erp.post(f"/categories/{category_id}/objects/product/{product_id}", None,
                                    entity=entity, source_id=source_id)
        for category_id in sorted((current & ours) - set(wanted)):
            await self.ctx.erp.delete(f"/categories/{category_id}/objects/product/{product_id}",
                                      entity=entity, source_id=source_id)

    # -- combinations as separate products -----------------------------------------------------
    async def _sync_combination_products(self, product: Product, combinations: list[Combination], vat: ProductVat,
                                         extrafields: dict[str, str], category_ids: list[str]) -> str:
        values = await self.data.option_values()
        groups = await self.data.option_groups()
        best = "unchanged"
        for combination in combinations:
            async def work(c: Combination = combination) -> str:
                key = self.ctx.bindings.key(COMBINATION, c.id)
                suffix = combination_label_suffix(c, values, groups, self.ctx.options)
                mapped = map_combination_product(c, product, options=self.ctx.options, vat=vat, external_key=key,
                                                 label_suffix=suffix, extrafields=extrafields)
                digest = product_digest(mapped.body, category_ids)
                outcome, _ = await self._upsert(COMBINATION, c.id, mapped, digest, category_ids)
                self._report_problems(COMBINATION, c.id, mapped.problems)
                return outcome

            outcome = await self.ctx.guard(COMBINATION, combination.id, work)
            if _RANK.get(outcome, 0) > _RANK[best]:
                best = outcome
        return best

    # -- combinations as variants --------------------------------------------------------------
    async def _sync_variants(self, product: Product, combinations: list[Combination], parent_id: str,
                             parent_ref: str, vat: ProductVat, parent_price: dict[str, Any]) -> None:
        value_ids = sorted({v for c in combinations for v in c.associations.product_option_values})
        await self.attributes.ensure_values(value_ids)
        bindings = self.ctx.bindings
        attribute_ids = {int(gid): int(target) for gid, b in bindings.entity(ATTRIBUTE).items()
                         if (target := b.target_id) and not target.startswith("-")}
        value_map = {int(vid): int(b.target_id) for vid, b in bindings.entity(ATTRIBUTE_VALUE).items()
                     if not b.target_id.startswith("-")}
        if self.ctx.dry_run:  # planned (negative) ids still let the plan show each variant
            attribute_ids.update({int(g): int(b.target_id) for g, b in bindings.entity(ATTRIBUTE).items()})
            value_map.update({int(v): int(b.target_id) for v, b in bindings.entity(ATTRIBUTE_VALUE).items()})
        values = await self.data.option_values()
        remote: list[DoliVariant] | None = None

        async def remote_variants() -> list[DoliVariant]:
            nonlocal remote
            if remote is None:
                remote = []
                # a parent created in this run has only the variants this run creates (and binds)
                if not parent_id.startswith("-") and parent_id not in self.created_targets:
                    try:
                        rows = await self.ctx.erp.get(f"/products/{parent_id}/variants")
                    except NotFound:
                        rows = []
                    remote = [DoliVariant.model_validate(row) for row in rows or [] if isinstance(row, dict)]
            return remote

        for combination in combinations:
            async def work(c: Combination = combination) -> str:
                key = bindings.key(COMBINATION, c.id)
                mapping = map_variant(c, parent_ref=parent_ref, options=self.ctx.options, vat=vat,
                                      attribute_ids=attribute_ids, value_ids=value_map, values=values,
                                      external_key=key)
                digest = content_hash({"variant": mapping.body, "child": mapping.child_body, "parent": parent_price,
                                       "parent_id": parent_id})
                self._report_problems(COMBINATION, c.id, mapping.problems)
                child = bindings.target(COMBINATION, c.id)
                if child is not None and bindings.written_hash(COMBINATION, c.id) == digest:
                    return "unchanged"
                link = bindings.target(VARIANT_LINK, c.id)
                if child is None or link is None:
                    wanted = {int(a): int(v) for a, v in mapping.body["features"].items()}
                    match = next((v for v in await remote_variants() if v.variation_ref_ext == key), None)
                    if match is None:
                        match = next((v for v in await remote_variants()
                                      if v.attribute_values == wanted
                                      or (child is not None and str(v.fk_product_child) == child)), None)
                    if match is not None:
                        child, link = str(match.fk_product_child), str(match.id)
                        bindings.bind(VARIANT_LINK, c.id, link)
                sid = str(c.id)
                if link is not None and child is not None:
                    await self.ctx.erp.update(f"/products/variants/{link}", {
                        "variation_price": mapping.body["price_impact"],
                        "variation_price_percentage": 0,
                        "variation_weight": mapping.body["weight_impact"],
                        "variation_ref_ext": key,
                    }, entity=COMBINATION, source_id=sid)
                    outcome = "updated"
                else:
                    child = str(await self.ctx.erp.create(f"/products/{parent_id}/variants", mapping.body,
                                                          entity=COMBINATION, source_id=sid))
                    self.created_targets.add(child)
                    outcome = "created"
                await self._send(COMBINATION, c.id, {**mapping.child_body, "ref": mapping.body["reference"]},
                                 lambda body, t=child: self.ctx.erp.update(f"/products/{t}", body, entity=COMBINATION,
                                                                           source_id=sid))
                bindings.bind(COMBINATION, c.id, child, written_hash=digest)
                return outcome

            await self.ctx.guard(COMBINATION, combination.id, work)

