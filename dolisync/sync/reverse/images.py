"""Images of bound products, Dolibarr → PrestaShop (field group ``images``, flow ``product_data``).

Runs only when ``ownership.images`` is ``dolibarr`` or ``shared``. For every PrestaShop product
bound (``product``) to a Dolibarr product, the Dolibarr product's image documents (files ending
in .jpg/.jpeg/.png/.gif/.webp, in Dolibarr's order) are made the shop's images:

* **twins** — a document and a shop image are the same picture when a reverse binding says so
  (entity ``erp_image``: source ``<Dolibarr id>/<file>``, target the image id, ``read_hash`` =
  the document's MD5) or when the catalog's own image binding (``image``: ``p<id>-<image>`` →
  ``<ref>/<file>``) points at that file (images the shop → ERP flow copied into Dolibarr);
* a document with no twin is **uploaded**; a document whose content changed (MD5, as listed by
  Dolibarr, else computed) **replaces** its twin in place (same image id); a shop image whose
  twin document was deleted in Dolibarr is **deleted** (only images dolisync knows: bound);
* the **cover** is the twin of the document named ``*-cover.<ext>``, else of the first one;
* with ``dolibarr`` master, shop edits are overwritten and logged as one conflict per product:
  a twin deleted in the shop is uploaded again, a shop image that is no document's twin is
  deleted (only while Dolibarr has at least one image of the product: a product is never
  stripped of every photo because its Dolibarr copy has none yet), a changed cover is reset;
* with ``shared``, only Dolibarr's own changes are written (new, changed, deleted documents;
  the cover when the documents changed); shop edits are left to the shop → ERP image flow.

Cost: one documents listing per bound product and run (no download unless something changed);
a product whose document list and shop image set are both what we last saw costs nothing more.

Echo suppression: after an upload or replace, the shop image is read back once and the
catalog's ``image`` binding is primed with the hash the shop → ERP flow would compute for it
(the shop may re-encode what it stores), so that flow does not copy it back into Dolibarr; a
deleted image loses its catalog binding, so that flow does not delete its document either.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from dolisync.clients.errors import NotFound
from dolisync.clients.prestashop_records import Product
from dolisync.mapping.catalog import product_ref
from dolisync.mapping.catalog_extras import image_document
from dolisync.sync.binder import content_hash
from dolisync.sync.flows.images import ENTITY as CATALOG_IMAGE
from dolisync.sync.reverse.context import ReverseRun, owner_of_group
from dolisync.sync.reverse.data import ReverseData

__all__ = ["ENTITY", "IMAGE_EXTENSIONS", "IMAGE_MIME", "ReverseImageFlow", "SET_ENTITY", "wanted_cover"]

ENTITY = "erp_image"
SET_ENTITY = "erp_product_images"
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".gif", ".webp")
IMAGE_MIME = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".gif": "image/gif",
              ".webp": "image/webp"}
_MD5 = re.compile(r"[0-9a-f]{32}")


@dataclass(frozen=True, slots=True)
class _Doc:
    """One image document of a Dolibarr product."""

    name: str
    md5: str  # "" until computed


@dataclass(slots=True)
class _Plan:
    """What one product needs (computed before any write)."""

    uploads: list[_Doc] = field(default_factory=list)
    replaces: list[tuple[_Doc, int]] = field(default_factory=list)
    deletes: list[int] = field(default_factory=list)
    twins: dict[str, int] = field(default_factory=dict)  # document name -> shop image id (kept ones)
    overrides_shop: bool = False  # a shop edit is undone (re-upload of a deleted twin, extra deleted)

    def __bool__(self) -> bool:
        return bool(self.uploads or self.replaces or self.deletes)


def wanted_cover(names: list[str]) -> str | None:
    """The document that should be the cover: the one named ``*-cover.<ext>``, else the first."""
    for name in names:
        if name.rsplit(".", 1)[0].endswith("-cover"):
            return name
    return names[0] if names else None


class ReverseImageFlow:
    """Make Dolibarr's image documents the shop's images (see module docstring)."""

    def __init__(self, run: ReverseRun, data: ReverseData) -> None:
        self.run = run
        self.data = data
        self.owner = owner_of_group(run.ownership, "images")

    async def run_all(self) -> None:
        """Every bound product of the shop (nothing when the shop owns images)."""
        if self.owner not in ("dolibarr", "shared"):
            return
        await self.run.flow.each(await self.data.bound_products(self.run.catalog), self._item)

    async def _item(self, item: tuple[Product, dict[str, Any]]) -> None:
        product, doli = item
        await self.run.flow.guard(SET_ENTITY, product.id, lambda: self._sync(product, doli))

    # -- reading ------------------------------------------------------------------------------
    async def _documents(self, doli: dict[str, Any]) -> list[_Doc]:
        try:
            rows = await self.run.dolibarr.list_documents("product", object_id=int(doli["id"]))
        except NotFound:
            rows = []
        docs: list[_Doc] = []
        for row in rows:
            name = str(row.get("relativename") or row.get("name") or "")
            if "/" in name or not name.lower().endswith(IMAGE_EXTENSIONS):
                continue
            label = str(row.get("label") or "").lower()
            docs.append(_Doc(name, label if _MD5.fullmatch(label) else ""))
        return docs

    async def _download(self, doli: dict[str, Any], name: str) -> bytes:
        content: bytes = await self.run.dolibarr.download_document("product", f"{doli['ref']}/{name}")
        return content

    async def _with_md5(self, doli: dict[str, Any], docs: list[_Doc]) -> list[_Doc]:
        """Documents whose MD5 Dolibarr did not list get it computed (one download each)."""
        out = []
        for doc in docs:
            if not doc.md5:
                doc = _Doc(doc.name, hashlib.md5(await self._download(doli, doc.name),
                                                 usedforsecurity=False).hexdigest())
            out.append(doc)
        return out

    def _twin(self, product: Product, doli: dict[str, Any], name: str, *, catalog: bool = True) -> int | None:
        state = self.run.state(ENTITY).get(f"{doli['id']}/{name}")
        if state is not None and state.target_id.isdigit():
            return int(state.target_id)
        if not catalog:
            return None
        source = self.run.catalog.source_of(CATALOG_IMAGE, f"{doli['ref']}/{name}")
        prefix = f"p{product.id}-"
        if source and source.startswith(prefix) and source[len(prefix):].isdigit():
            return int(source[len(prefix):])
        return None

    def _known(self, product: Product, doli: dict[str, Any]) -> set[int]:
        """Shop image ids dolisync bound to a document of this product (ours or the catalog's)."""
        prefix = f"p{product.id}-"
        known = {int(sid[len(prefix):]) for sid in self.run.catalog.entity(CATALOG_IMAGE)
                 if sid.startswith(prefix) and sid[len(prefix):].isdigit()}
        mine = f"{doli['id']}/"
        known.update(int(binding.target_id) for sid, binding in self.run.state(ENTITY).items()
                     if sid.startswith(mine) and binding.target_id.isdigit())
        return known

    # -- one product --------------------------------------------------------------------------
    async def _sync(self, product: Product, doli: dict[str, Any]) -> str:
        source_id = str(product.id)
        docs = await self._with_md5(doli, await self._documents(doli))
        read = {"docs": [[d.name, d.md5] for d in docs]}
        images = list(product.associations.images)
        current = {"images": images, "cover": _cover(product)}
        previous = self.run.state(SET_ENTITY).get(source_id)
        if previous is not None and (previous.read_hash, previous.written_hash) == (
                content_hash(read), content_hash(current)):
            return "unchanged"
        docs_changed = previous is None or previous.read_hash != content_hash(read)
        shop_edited = previous is not None and previous.written_hash != content_hash(current)
        plan = self._plan(product, doli, docs, images)
        cover_name = wanted_cover([d.name for d in docs])
        wants_cover = self.owner == "dolibarr" or docs_changed
        cover_off = (wants_cover and cover_name in plan.twins and plan.twins[cover_name] != current["cover"])
        if not plan and not cover_off:
            self._remember(product, doli, docs, plan.twins, read, current)
            return "unchanged"
        if self.owner == "dolibarr" and (shop_edited or plan.overrides_shop):
            self.run.conflict("erp_product", source_id, "images", current,
                              {"documents": [d.name for d in docs], "cover": cover_name})
        if self.run.dry_run:
            await self._plan_writes(product, plan, cover_off, cover_name)
            return "updated"
        written = await self._write(product, doli, plan)
        fresh = await self._reread(product)
        cover = plan.twins.get(cover_name or "")
        if cover is not None and wants_cover and cover != _cover(fresh):
            body = {"id": product.id, "id_default_image": cover}
            await self.run.shop_write("PATCH", f"products/{product.id}", {"id_default_image": cover},
                                      entity=SET_ENTITY, source_id=source_id,
                                      send=lambda: self.run.prestashop.patch("products", body))
            fresh = fresh.model_copy(update={"id_default_image": cover})
        await self._prime_catalog(product, doli, plan.twins, written, before_cover=_cover(product),
                                  cover=_cover(fresh))
        (await self.data.catalog.all_products())[product.id] = fresh
        final = {"images": list(fresh.associations.images), "cover": _cover(fresh)}
        self._remember(product, doli, docs, plan.twins, read, final)
        return "updated"

    def _plan(self, product: Product, doli: dict[str, Any], docs: list[_Doc], images: list[int]) -> _Plan:
        plan = _Plan()
        in_shop = set(images)
        matched: set[int] = set()
        # a twin known from our own state wins over one known from the catalog's binding
        owners = {twin: doc.name for doc in docs
                  if (twin := self._twin(product, doli, doc.name, catalog=False)) is not None}
        for doc in docs:
            twin = self._twin(product, doli, doc.name)
            if twin is not None and owners.setdefault(twin, doc.name) != doc.name:
                continue  # a second copy of a picture another document already stands for
            state = self.run.state(ENTITY).get(f"{doli['id']}/{doc.name}")
            changed = state is not None and state.read_hash != content_hash({"md5": doc.md5})
            if twin is None:
                plan.uploads.append(doc)
            elif twin not in in_shop:  # deleted in the shop
                if self.owner == "dolibarr" or changed:
                    plan.uploads.append(doc)
                    plan.overrides_shop = plan.overrides_shop or not changed
                else:
                    plan.twins[doc.name] = twin  # shared: the shop's deletion travels the other way
            else:
                matched.add(twin)
                plan.twins[doc.name] = twin
                if changed:
                    plan.replaces.append((doc, twin))
        known = self._known(product, doli)
        for image_id in images:
            if image_id in matched:
                continue
            if image_id in known:
                plan.deletes.append(image_id)  # its document was deleted in Dolibarr
            elif self.owner == "dolibarr" and docs:
                plan.deletes.append(image_id)  # added in the shop: Dolibarr is the master
                plan.overrides_shop = True
        return plan

    async def _plan_writes(self, product: Product, plan: _Plan, cover_off: bool, cover_name: str | None) -> None:
        sid = str(product.id)
        for doc in plan.uploads:
            await self.run.shop_write("POST", f"images/products/{product.id}", {"file": doc.name},
                                      entity=SET_ENTITY, source_id=sid, send=_never)
        for doc, image_id in plan.replaces:
            await self.run.shop_write("PUT", f"images/products/{product.id}/{image_id}", {"file": doc.name},
                                      entity=SET_ENTITY, source_id=sid, send=_never)
        for image_id in plan.deletes:
            await self.run.shop_write("DELETE", f"images/products/{product.id}/{image_id}", {},
                                      entity=SET_ENTITY, source_id=sid, send=_never)
        if cover_off:
            await self.run.shop_write("PATCH", f"products/{product.id}", {"id_default_image": cover_name},
                                      entity=SET_ENTITY, source_id=sid, send=_never)

    async def _write(self, product: Product, doli: dict[str, Any], plan: _Plan) -> set[int]:
        """Send the plan; returns the ids of images uploaded or replaced (``plan.twins`` updated)."""
        written: set[int] = set()
        for image_id in plan.deletes:
            try:
                await self.run.prestashop.delete_image(product.id, image_id)
            except NotFound:
                pass
            self.run.catalog.unbind(CATALOG_IMAGE, f"p{product.id}-{image_id}")
            for key, binding in list(self.run.state(ENTITY).items()):
                if binding.target_id == str(image_id) and key.startswith(f"{doli['id']}/"):
                    self.run.forget(ENTITY, key)
        for doc, image_id in plan.replaces:
            content = await self._download(doli, doc.name)
            await self.run.prestashop.replace_image(product.id, image_id, content, doc.name, _mime(doc.name))
            written.add(image_id)
        for doc in plan.uploads:
            content = await self._download(doli, doc.name)
            old = self._twin(product, doli, doc.name)
            image_id = await self.run.prestashop.upload_image(product.id, content, doc.name, _mime(doc.name))
            if old is not None:
                self.run.catalog.unbind(CATALOG_IMAGE, f"p{product.id}-{old}")
            plan.twins[doc.name] = image_id
            written.add(image_id)
        return written

    async def _reread(self, product: Product) -> Product:
        fresh: Product = await self.run.prestashop.get("products", product.id, record_type=Product)
        return fresh

    async def _prime_catalog(self, product: Product, doli: dict[str, Any], twins: dict[str, int],
                             written: set[int], *, before_cover: int, cover: int) -> None:
        """Give the shop → ERP image flow the hashes it would compute for what we wrote."""
        try:
            catalog_ref = product_ref(product, self.run.flow.options)
        except Exception:  # noqa: BLE001 - the catalog parks such a product with its reason
            return
        touched = set(written) | ({before_cover, cover} - {0})
        names = {image_id: name for name, image_id in twins.items()}
        for image_id in sorted(touched):
            if image_id not in names:
                continue
            key = f"p{product.id}-{image_id}"
            try:
                content, mime = await self.run.flow.shop.image(product.id, image_id)
            except NotFound:
                continue
            document = image_document(image_id, content, mime, is_cover=image_id == cover)
            path = self.run.catalog.target(CATALOG_IMAGE, key) or f"{doli['ref']}/{names[image_id]}"
            self.run.catalog.bind(CATALOG_IMAGE, key, path, written_hash=content_hash(
                {"file": document.filename, "sha256": document.content_hash, "ref": catalog_ref}))

    def _remember(self, product: Product, doli: dict[str, Any], docs: list[_Doc], twins: dict[str, int],
                  read: dict[str, Any], written: dict[str, Any]) -> None:
        for key in [k for k in self.run.state(ENTITY) if k.startswith(f"{doli['id']}/")]:
            if key.split("/", 1)[1] not in twins:  # gone, or no longer the twin: forgotten first
                self.run.forget(ENTITY, key)
        for doc in docs:
            if doc.name in twins:
                self.run.remember(ENTITY, f"{doli['id']}/{doc.name}", twins[doc.name], read={"md5": doc.md5},
                                  written={"image": twins[doc.name]})
        self.run.remember(SET_ENTITY, str(product.id), doli["id"], read=read, written=written)


def _cover(product: Product) -> int:
    images = list(product.associations.images)
    return product.id_default_image or (images[0] if images else 0)


def _mime(name: str) -> str:
    return IMAGE_MIME[name[name.rfind("."):].lower()]


async def _never() -> None:
    raise AssertionError("dry run sends nothing")
