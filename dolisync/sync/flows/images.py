"""Images, shop → Dolibarr: every product image as a product document, the cover marked.

Per Dolibarr product (a product, or a combination synced as a separate product):

* the set of images (ids, cover, product ``date_upd``, Dolibarr ref) is hashed; when it is
  the one we last handled, nothing is read or written;
* otherwise each image is downloaded and its content hashed; it is uploaded
  (``overwriteifexists``) only when name or content differ from what we last uploaded. The
  cover is named ``ps-<id>-cover.<ext>``; when the cover changes, the old file is deleted;
* images deleted in PrestaShop are deleted from Dolibarr (only files we uploaded).

A crash between upload and binding re-uploads the same file name over itself: no duplicate.
Limitation: an image replaced in place (same id) without any product change is seen by a
full run (``since`` unset) only if the product's ``date_upd`` moved; otherwise use
``dolisync sync images --full`` (drops the set hashes).
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, replace

from dolisync.clients.errors import NotFound
from dolisync.clients.prestashop_records import Combination
from dolisync.mapping.catalog import combination_ref, product_ref
from dolisync.mapping.catalog_extras import image_document
from dolisync.sync.binder import content_hash
from dolisync.sync.flows.catalog_data import CatalogData, ProductSummary
from dolisync.sync.flows.context import FlowContext
from dolisync.sync.flows.products import ProductFlow

__all__ = ["ImageFlow", "ENTITY", "SET_ENTITY"]

ENTITY = "image"
_PLAIN_REF = re.compile(r"[A-Za-z0-9._-]+")
SET_ENTITY = "product_images"


@dataclass(frozen=True, slots=True)
class _Owner:
    """A Dolibarr product that receives images."""

    key: str  # "p42" or "c7"
    id_product: int
    id_product_attribute: int
    ref: str
    image_ids: tuple[int, ...]
    cover_id: int
    stamp: str


class ImageFlow:
    """Upload changed product images as Dolibarr documents (see module docstring)."""

    def __init__(self, ctx: FlowContext, data: CatalogData, products: ProductFlow, *, full: bool = False) -> None:
        self.ctx = ctx
        self.data = data
        self.products = products
        self.full = full
        self._previous: dict[str, list[tuple[str, str]]] = {}

    async def run(self) -> None:
        """Handle the images of every product of the run."""
        owners: list[_Owner] = []
        self._previous: dict[str, list[tuple[str, str]]] = {}  # owner key -> [(source id, file path)]
        for source_id, binding in self.ctx.bindings.entity(ENTITY).items():
            self._previous.setdefault(source_id.rsplit("-", 1)[0], []).append((source_id, binding.target_id))
        combinations = await self.data.combinations_by_product()
        for product in await self.data.product_summaries():
            owners.extend(self._owners(product, combinations.get(product.id, [])))
        self.ctx.expect(ENTITY, sum(len(owner.image_ids) for owner in owners))
        await self.ctx.each(owners, self._owner)

    def _owners(self, product: ProductSummary, combinations: list[Combination]) -> list[_Owner]:
        images = product.images
        stamp = product.date_upd.isoformat() if product.date_upd else ""
        cover = product.id_default_image or (images[0] if images else 0)
        try:
            parent_ref = product_ref(product, self.ctx.options)
        except Exception:  # noqa: BLE001 - the product flow parks it with the reason
            return []
        if combinations and self.ctx.settings.combinations == "products":
            owners = []
            for combination in combinations:
                own = tuple(combination.associations.images) or images
                try:
                    ref = combination_ref(combination, parent_ref, self.ctx.options)
                except Exception:  # noqa: BLE001 - parked by the product flow
                    continue
                owners.append(_Owner(f"c{combination.id}", product.id, combination.id, ref, own,
                                     cover if cover in own else (own[0] if own else 0), stamp))
            return owners
        return [_Owner(f"p{product.id}", product.id, 0, parent_ref, images, cover, stamp)]

    async def _owner(self, owner: _Owner) -> None:
        bindings = self.ctx.bindings
        digest = content_hash({"images": list(owner.image_ids), "cover": owner.cover_id, "stamp": owner.stamp,
                               "ref": owner.ref})
        if not self.full and bindings.written_hash(SET_ENTITY, owner.key) == digest:
            return
        target = await self.products.target_for(owner.id_product, owner.id_product_attribute)
        if target is None:
            return  # the product is parked with its reason; its images wait for it
        if not _PLAIN_REF.fullmatch(owner.ref) and not target.startswith("-"):
            # Dolibarr may clean unusual characters out of a ref: upload under the ref it keeps
            stored = await self.ctx.erp.get(f"/products/{target}")
            if isinstance(stored, dict) and stored.get("ref"):
                owner = replace(owner, ref=str(stored["ref"]))
        ok = True
        for image_id in owner.image_ids:
            outcome = await self.ctx.guard(ENTITY, f"{owner.key}-{image_id}",
                                           lambda i=image_id: self._image(owner, i))
            ok = ok and outcome not in ("parked", "failed")
        current = {f"{owner.key}-{image_id}" for image_id in owner.image_ids}
        for source_id, path in self._previous.get(owner.key, []):
            if source_id not in current:
                outcome = await self.ctx.guard(ENTITY, source_id, lambda s=source_id, p=path: self._remove(s, p))
                ok = ok and outcome not in ("parked", "failed")
        if ok:
            bindings.bind(SET_ENTITY, owner.key, target, written_hash=digest)

    async def _image(self, owner: _Owner, image_id: int) -> str:
        source_id = f"{owner.key}-{image_id}"
        content, mime = await self.ctx.shop.image(owner.id_product, image_id)
        document = image_document(image_id, content, mime, is_cover=image_id == owner.cover_id)
        digest = content_hash({"file": document.filename, "sha256": document.content_hash, "ref": owner.ref})
        bindings = self.ctx.bindings
        previous = bindings.target(ENTITY, source_id)
        if previous is not None and bindings.written_hash(ENTITY, source_id) == digest:
            return "unchanged"
        await self.ctx.erp.post("/documents/upload", {
            "filename": document.filename,
            "modulepart": "product",
            "ref": owner.ref,
            "filecontent": base64.b64encode(content).decode("ascii"),
            "fileencoding": "base64",
            "overwriteifexists": 1,
            "createdirifnotexists": 1,
        }, entity=ENTITY, source_id=source_id)
        path = f"{owner.ref}/{document.filename}"
        if previous is not None and previous != path:
            await self._delete_file(source_id, previous)
        bindings.bind(ENTITY, source_id, path, written_hash=digest)
        return "created" if previous is None else "updated"

    async def _remove(self, source_id: str, path: str) -> str:
        await self._delete_file(source_id, path)
        self.ctx.bindings.unbind(ENTITY, source_id)
        return "updated"

    async def _delete_file(self, source_id: str, path: str) -> None:
        """Delete ``<ref>/<file>`` from the product documents (already gone is fine)."""
        try:
            await self.ctx.erp.delete("/documents", params={"modulepart": "product", "original_file": path},
                                      entity=ENTITY, source_id=source_id)
        except NotFound:
            pass
