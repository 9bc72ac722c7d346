"""New Dolibarr products, created in the shop: variants as combinations, images, categories.

A Dolibarr product is a *candidate* when it is a sellable good (``type`` 0, on sale), not a
variant child, not bound to any shop's product or combination, and not an object of ours
waiting to be healed (``ref_ext`` ``ps-...``). For each candidate:

1. **categories** — its Dolibarr categories are mapped back through the catalog's category
   bindings (and the shop container to the shop's home). None linked to this shop: when the
   product sits in another shop's categories it is that shop's business (skipped); otherwise
   it is parked with what to fix (put it in one of the shop's categories).
2. **variants** — every attribute value is mapped to its PrestaShop twin: by the catalog's
   ``attribute_value`` binding, or, inside a bound attribute, by the value's name (then bound).
   A value with no twin parks the product (nothing is created) with the value named.
3. **create** — looked up first by reference (a crash after the create is healed by adopting
   it, two candidates park it), then ``POST products`` (prices from the shop's price rule,
   data, active flag, names/descriptions in every language, categories, tax rule group with
   Dolibarr's VAT rate), then one ``POST combinations`` per variant (price and weight impacts,
   attribute values), then the images (Dolibarr product documents that are images, the cover
   document — ``*-cover.<ext>``, else the first in Dolibarr's order — first, so it is the cover).
4. **bind** — ``product``/``combination``/``variant_combination`` bindings, the very ones the
   shop → ERP catalog flow uses, so that flow updates these objects in place; its image
   bindings point at the very documents uploaded (hashes primed), and the reverse image state
   (``erp_image``) knows them too. A re-run finds the product bound: nothing written.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from dolisync.clients.dolibarr_records import DoliVariant
from dolisync.clients.errors import NotFound
from dolisync.clients.prestashop_records import Combination, Product, TaxRuleGroup
from dolisync.mapping.catalog import product_ref, text_in
from dolisync.mapping.catalog_extras import image_document
from dolisync.mapping.errors import MappingError
from dolisync.mapping.reverse import (
    active_fields,
    data_fields,
    description_fields,
    doli_decimal,
    shop_price,
    shop_reference,
)
from dolisync.mapping.taxes import same_rate
from dolisync.store.schema import bindings as bindings_table
from dolisync.sync.binder import content_hash
from dolisync.sync.flows.attributes import ATTRIBUTE, ATTRIBUTE_VALUE
from dolisync.sync.flows.categories import ENTITY as CATEGORY
from dolisync.sync.flows.categories import ROOT_ENTITY as CATEGORY_ROOT
from dolisync.sync.flows.images import ENTITY as CATALOG_IMAGE
from dolisync.sync.flows.products import COMBINATION, PRODUCT, VARIANT_LINK
from dolisync.sync.reverse.context import ReverseRun
from dolisync.sync.reverse.data import ReverseData
from dolisync.sync.reverse.echo import CatalogEcho
from dolisync.sync.reverse.images import ENTITY as REVERSE_IMAGE
from dolisync.sync.reverse.images import IMAGE_EXTENSIONS, IMAGE_MIME, wanted_cover

__all__ = ["NewProductFlow", "ENTITY"]

ENTITY = "erp_new_product"


def link_rewrite(text: str) -> str:
    """A PrestaShop friendly URL slug (ASCII letters, digits and dashes)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or "product"


class NewProductFlow:
    """Create Dolibarr-only products in the shop (see module docstring)."""

    def __init__(self, run: ReverseRun, data: ReverseData, echo: CatalogEcho) -> None:
        self.run = run
        self.data = data
        self.echo = echo
        self.created: list[int] = []
        self._doli_values: dict[str, dict[str, Any]] = {}

    # -- candidates -------------------------------------------------------------------------
    def _bound_anywhere(self) -> tuple[set[str], set[str], set[str]]:
        """Dolibarr product ids bound by any shop; category ids of any shop; of other shops."""
        query = select(bindings_table.c.connection, bindings_table.c.entity, bindings_table.c.target_id).where(
            bindings_table.c.entity.in_([PRODUCT, COMBINATION, CATEGORY, CATEGORY_ROOT]))
        products: set[str] = set()
        categories: set[str] = set()
        other_categories: set[str] = set()
        with self.run.store.read() as conn:
            for connection, entity, target in conn.execute(query):
                if entity in (PRODUCT, COMBINATION):
                    products.add(str(target))
                else:
                    categories.add(str(target))
                    if connection != self.run.connection:
                        other_categories.add(str(target))
        return products, categories, other_categories

    async def run_all(self) -> int:
        """Create every candidate; return the number of products created."""
        bound, _all_categories, other_categories = self._bound_anywhere()
        children = await self.data.variant_children()
        candidates = [row for row in (await self.data.products()).values()
                      if str(row["id"]) not in bound and str(row["id"]) not in children and _is_candidate(row)]
        self._other_categories = other_categories
        await self.run.flow.each(candidates, self._one)
        return len(self.created)

    async def _one(self, row: dict[str, Any]) -> None:
        await self.run.flow.guard(ENTITY, str(row["id"]), lambda: self._create(row))

    # -- one product ------------------------------------------------------------------------
    async def _shop_categories(self, row: dict[str, Any]) -> list[int] | None:
        try:
            linked = await self.run.flow.erp.get(f"/products/{row['id']}/categories")
        except NotFound:
            linked = []
        doli_ids = [str(item.get("id")) for item in linked or [] if isinstance(item, dict)]
        to_shop: dict[str, int] = {}
        for entity in (CATEGORY, CATEGORY_ROOT):
            for source_id, binding in self.run.catalog.entity(entity).items():
                if source_id.isdigit():
                    to_shop[binding.target_id] = int(source_id)
        mapped = sorted({to_shop[c] for c in doli_ids if c in to_shop})
        if mapped:
            return mapped
        if any(c in self._other_categories for c in doli_ids):
            return None  # another shop's product
        raise MappingError("product", str(row["id"]), "categories", row.get("ref", ""),
                           f"the Dolibarr product is in no category linked to shop {self.run.connection}: put it in "
                           f"one of the shop's categories (under '{self.run.connection}' in Dolibarr) to publish it")

    async def _create(self, row: dict[str, Any]) -> str:
        categories = await self._shop_categories(row)
        if categories is None:
            return "skip"
        variants = await self._variants(row)
        value_map = {variant.id: await self._shop_values(row, variant) for variant in variants}
        existing = await self._existing(row)
        product = await self._create_product(row, categories) if existing is None else existing
        if self.run.dry_run:
            return "created"
        self.run.catalog.bind(PRODUCT, product.id, row["id"])
        await self._create_combinations(row, product, variants, value_map)
        await self._images(row, product)
        self.run.catalog.flush()  # the shop -> ERP flows must see these bindings before they run
        self.created.append(product.id)
        self.run.remember(ENTITY, str(row["id"]), product.id, read={"ref": row.get("ref")},
                          written={"id_product": product.id})
        return "created"

    async def _variants(self, row: dict[str, Any]) -> list[DoliVariant]:
        try:
            answer = await self.run.flow.erp.get(f"/products/{row['id']}/variants")
        except NotFound:
            return []
        return sorted((DoliVariant.model_validate(item) for item in answer or [] if isinstance(item, dict)),
                      key=lambda v: v.id)

    async def _doli_value(self, attribute_id: int, value_id: int) -> dict[str, Any]:
        key = str(attribute_id)
        if key not in self._doli_values:
            try:
                rows = await self.run.flow.erp.get(f"/products/attributes/{attribute_id}/values")
            except NotFound:
                rows = []
            self._doli_values[key] = {str(r.get("id")): r for r in rows or [] if isinstance(r, dict)}
        return self._doli_values[key].get(str(value_id), {"id": value_id})

    async def _shop_values(self, row: dict[str, Any], variant: DoliVariant) -> list[int]:
        """PrestaShop attribute values of one Dolibarr variant (park when one has no twin)."""
        catalog = self.run.catalog
        to_shop = {b.target_id: int(sid) for sid, b in catalog.entity(ATTRIBUTE_VALUE).items() if sid.isdigit()}
        groups = {b.target_id: int(sid) for sid, b in catalog.entity(ATTRIBUTE).items() if sid.isdigit()}
        shop_values = await self.data.catalog.option_values()
        result: list[int] = []
        for attribute_id, value_id in sorted(variant.attribute_values.items()):
            twin = to_shop.get(str(value_id))
            doli_value = await self._doli_value(attribute_id, value_id)
            group = groups.get(str(attribute_id))
            if twin is None and group is not None:
                name = str(doli_value.get("value") or "").strip().lower()
                matches = [v.id for v in shop_values.values() if v.id_attribute_group == group
                           and text_in(v.name, self.run.flow.options).strip().lower() == name]
                if len(matches) == 1:
                    twin = matches[0]
                    if not self.run.dry_run:
                        catalog.bind(ATTRIBUTE_VALUE, twin, value_id)
            if twin is None:
                label = doli_value.get("value") or doli_value.get("ref") or value_id
                where = (f"attribute group {group} of the shop" if group is not None else
                         "an attribute group of the shop (the Dolibarr attribute is not linked to any: create the "
                         "group in PrestaShop and run the catalog sync)")
                raise MappingError("product", str(row["id"]), "variant attribute value", label,
                                   f"variant {variant.fk_product_child}: Dolibarr attribute value {label!r} "
                                   f"(attribute {attribute_id}) has no PrestaShop twin: create it in {where}, "
                                   "then retry")
            result.append(twin)
        return result

    async def _existing(self, row: dict[str, Any]) -> Product | None:
        reference = self._reference(row)
        rows = await self.data.catalog.shop.list_all("products", Product, filters={"reference": f"[{reference}]"})
        found = [p for p in rows if p.reference == reference]
        if len(found) > 1:
            raise MappingError("product", str(row["id"]), "ref", reference,
                               f"{len(found)} PrestaShop products have this reference: make it unique, then retry")
        return found[0] if found else None

    def _reference(self, row: dict[str, Any]) -> str:
        return shop_reference(str(row.get("ref") or ""), self.run.options)

    async def _tax_group(self, row: dict[str, Any]) -> int:
        rate = doli_decimal(row.get("tva_tx"))
        if rate.is_zero():
            return 0
        table = await self.data.catalog.tax_table()
        groups = await self.data.catalog.shop.list_all("tax_rule_groups", TaxRuleGroup)
        for group in sorted(groups, key=lambda g: g.id):
            try:
                if same_rate(table.vat_for_group(group.id).tva_tx, rate):
                    return group.id
            except MappingError:
                continue
        raise MappingError("product", str(row["id"]), "tva_tx", str(rate),
                           f"no PrestaShop tax rule group applies {rate}% VAT in the shop country: create one, "
                           "then retry")

    async def _create_product(self, row: dict[str, Any], categories: list[int]) -> Product:
        options = self.run.options
        tax_group = await self._tax_group(row)
        rate = Decimal(0)
        if options.price_source == "TTC":
            rate = (await self.data.catalog.tax_table()).vat_for_group(tax_group).total_rate if tax_group else rate
        texts = description_fields(row, options)
        payload: dict[str, Any] = {
            **{k: v for k, v in data_fields(row, options).items()},
            "reference": self._reference(row),
            "price": shop_price(row, level=options.price_level, source=options.price_source, tax_rate=rate),
            **active_fields(row),
            "id_tax_rules_group": tax_group,
            "id_category_default": categories[0],
            "name": texts["name"],
            "description": texts["description"],
            "link_rewrite": {lid: link_rewrite(name) for lid, name in texts["name"].items()},
            "state": 1, "available_for_order": 1, "show_price": 1, "minimal_quantity": 1,
            "associations": {"categories": [{"id": c} for c in categories]},
        }
        if self.run.dry_run:
            await self.run.shop_write("POST", "products", payload, entity=ENTITY, source_id=str(row["id"]),
                                      send=_never)
            return Product(id=0)
        created = await self.run.prestashop.create("products", payload, record_type=Product)
        return created  # type: ignore[no-any-return]

    async def _create_combinations(self, row: dict[str, Any], product: Product, variants: list[DoliVariant],
                                   value_map: dict[int, list[int]]) -> None:
        if not variants:
            return
        products = await self.data.products()
        options = self.run.options
        existing = {tuple(sorted(c.associations.product_option_values)): c
                    for c in await self.data.catalog.shop.list_all("combinations", Combination,
                                                                  filters={"id_product": f"[{product.id}]"})}
        parent_price = product.price
        for index, variant in enumerate(variants):
            values = sorted(value_map[variant.id])
            combination = existing.get(tuple(values))
            child = products.get(str(variant.fk_product_child), {})
            if combination is None:
                rate = Decimal(0)
                if options.price_source == "TTC" and product.id_tax_rules_group:
                    rate = (await self.data.catalog.tax_table()).vat_for_group(product.id_tax_rules_group).total_rate
                child_price = shop_price(child, level=options.price_level, source=options.price_source,
                                         tax_rate=rate) if child else parent_price + variant.variation_price
                payload = {
                    "id_product": product.id,
                    "reference": str(child.get("ref") or ""),
                    "price": child_price - parent_price,
                    "weight": variant.variation_weight,
                    "minimal_quantity": 1,
                    "default_on": 1 if index == 0 else 0,
                    "associations": {"product_option_values": [{"id": v} for v in values]},
                }
                combination = await self.run.prestashop.create("combinations", payload, record_type=Combination)
            self.run.catalog.bind(COMBINATION, combination.id, variant.fk_product_child)
            self.run.catalog.bind(VARIANT_LINK, combination.id, variant.id)

    async def _images(self, row: dict[str, Any], product: Product) -> None:
        try:
            documents = await self.run.dolibarr.list_documents("product", object_id=int(row["id"]))
        except NotFound:
            documents = []
        names = [str(d.get("relativename") or d.get("name") or "") for d in documents]
        images = [name for name in names if "/" not in name and name.lower().endswith(IMAGE_EXTENSIONS)]
        if not images or product.associations.images:
            return  # nothing to send, or an adopted product that already has its images
        cover = wanted_cover(images)
        images = [cover] + [name for name in images if name != cover]  # the first upload becomes the cover
        ref = str(row.get("ref") or "")
        catalog_ref = product_ref(product.model_copy(update={"reference": self._reference(row)}),
                                  self.run.flow.options)
        for position, name in enumerate(images):
            content = await self.run.dolibarr.download_document("product", f"{ref}/{name}")
            mime = IMAGE_MIME[name[name.rfind("."):].lower()]
            image_id = await self.run.prestashop.upload_image(product.id, content, name, mime)
            document = image_document(image_id, content, mime, is_cover=position == 0)
            # the shop -> ERP image flow finds the document it would have made: the very file
            self.run.catalog.bind(CATALOG_IMAGE, f"p{product.id}-{image_id}", f"{ref}/{name}",
                                  written_hash=content_hash({"file": document.filename, "sha256": document.content_hash,
                                                             "ref": catalog_ref}))
            self.run.remember(REVERSE_IMAGE, f"{row['id']}/{name}", image_id,
                              read={"md5": hashlib.md5(content, usedforsecurity=False).hexdigest()},
                              written={"image": image_id})


def _is_candidate(row: dict[str, Any]) -> bool:
    if str(row.get("type", "0")) != "0" or str(row.get("status", "0")) != "1":
        return False
    if row.get("fk_product_parent") not in (None, "", "0", 0):
        return False
    return not str(row.get("ref_ext") or "").lower().startswith("ps-")


async def _never() -> None:
    raise AssertionError("dry run sends nothing")
