"""Catalogue generator: categories per shop root, attribute groups and values, features,
products (simple, with combinations, virtual), images, specific prices, barcodes, stock rows and
cart rules.

Contract: :func:`build_catalog` appends rows to ``tables`` and blobs to ``images`` using only
``rng`` for randomness, so the same seed gives the same catalogue. Stock rows respect the
PrestaShop rule "product row = sum of its combination rows", per shop.
"""

from __future__ import annotations

import random
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from dolisync.emulators.dataset import ImageBlob
from dolisync.emulators.generator.barcodes import make_ean13, make_isbn13, make_upc
from dolisync.emulators.generator.images import color_for, make_jpeg, make_png
from dolisync.emulators.generator.reference import (
    TAX_GROUP_INTERMEDIATE,
    TAX_GROUP_REDUCED,
    TAX_GROUP_STANDARD,
    TAX_GROUP_SUPER_REDUCED,
    TAXES,
    TAX_GROUPS,
    ReferenceIds,
)
from dolisync.emulators.generator.rows import Row, RowFactory, money2, money6, ps_date

__all__ = ["CatalogOptions", "build_catalog", "slugify"]

_D0 = Decimal(0)

# (English, French) pairs
_TOP_CATEGORIES = [
    (("Clothes", "Vêtements"), [("Men", "Hommes"), ("Women", "Femmes"), ("Kids", "Enfants")]),
    (("Accessories", "Accessoires"), [("Stationery", "Papeterie"), ("Home Accessories", "Accessoires de maison")]),
    (("Art", "Art"), [("Posters", "Affiches"), ("Frames", "Cadres")]),
    (("Kitchen", "Cuisine"), [("Mugs", "Mugs"), ("Cookware", "Ustensiles")]),
    (("Books", "Livres"), [("Novels", "Romans"), ("Comics", "Bandes dessinées")]),
    (("Garden", "Jardin"), [("Tools", "Outils"), ("Seeds", "Graines")]),
    (("Sports", "Sports"), [("Running", "Course à pied"), ("Cycling", "Cyclisme")]),
]
_ADJECTIVES = [
    ("Hummingbird", "Colibri"), ("Brown bear", "Ours brun"), ("Mountain fox", "Renard des montagnes"),
    ("Printed", "Imprimé"), ("Organic", "Bio"), ("Vintage", "Vintage"), ("Classic", "Classique"),
    ("Urban", "Urbain"), ("Cosy", "Douillet"), ("Bright", "Lumineux"), ("Nordic", "Nordique"),
    ("Handmade", "Fait main"), ("Élégant", "Élégant"), ("Café crème", "Café crème"),
]
_NOUNS = [
    ("t-shirt", "t-shirt"), ("sweater", "pull"), ("cushion", "coussin"), ("notebook", "carnet"),
    ("mug", "mug"), ("poster", "affiche"), ("frame", "cadre"), ("hoodie", "sweat à capuche"),
    ("tote bag", "sac cabas"), ("scarf", "écharpe"), ("teapot", "théière"), ("novel", "roman"),
    ("watering can", "arrosoir"), ("water bottle", "gourde"), ("cap", "casquette"),
]
# group id -> (is_color, group_type, (en, fr) name, [(en, fr, color)])
_ATTRIBUTE_GROUPS: dict[int, tuple[bool, str, tuple[str, str], list[tuple[str, str, str]]]] = {
    1: (False, "select", ("Size", "Taille"), [("S", "S", ""), ("M", "M", ""), ("L", "L", ""), ("XL", "XL", "")]),
    2: (True, "color", ("Color", "Couleur"), [
        ("White", "Blanc", "#ffffff"), ("Black", "Noir", "#434A54"), ("Red", "Rouge", "#E84C3D"),
        ("Blue", "Bleu", "#5D9CEC"), ("Green", "Vert", "#A0D468"), ("Yellow", "Jaune", "#F1C40F")]),
    3: (False, "select", ("Dimension", "Dimension"), [
        ("40x60cm", "40x60cm", ""), ("60x90cm", "60x90cm", ""), ("80x120cm", "80x120cm", "")]),
    4: (False, "select", ("Paper Type", "Type de papier"), [
        ("Ruled", "Ligné", ""), ("Plain", "Vierge", ""), ("Squared", "Quadrillé", ""), ("Doted", "Pointillés", "")]),
}
_COMBINATION_SHAPES = [(1, 2), (1,), (2,), (3,), (4,)]
_FEATURES: dict[int, tuple[tuple[str, str], list[tuple[str, str]]]] = {
    1: (("Composition", "Composition"), [
        ("Cotton", "Coton"), ("Polyester", "Polyester"), ("Wool", "Laine"), ("Ceramic", "Céramique"),
        ("Recycled cardboard", "Carton recyclé"), ("Matt paper", "Papier mat")]),
    2: (("Property", "Propriété"), [
        ("Short sleeves", "Manches courtes"), ("Long sleeves", "Manches longues"),
        ("Removable cover", "Housse amovible"), ("120 pages", "120 pages")]),
    3: (("Made in", "Fabriqué en"), [("France", "France"), ("Portugal", "Portugal"), ("Canada", "Canada")]),
}
_TAX_GROUP_WEIGHTS = [
    (TAX_GROUP_STANDARD, 70), (TAX_GROUP_INTERMEDIATE, 15), (TAX_GROUP_REDUCED, 10),
    (TAX_GROUP_SUPER_REDUCED, 5),
]
# Prices a merchant types tax included; PrestaShop stores them tax excluded with 6 decimals.
_SHELF_PRICES = [Decimal(p) for p in (
    "4.90", "7.90", "9.90", "11.90", "12.50", "14.99", "18.90", "19.90", "23.90", "24.99", "29.00",
    "34.90", "35.90", "39.99", "49.00", "59.90", "79.00", "89.90", "99.00", "129.00", "249.99")]


@dataclass(slots=True)
class CatalogOptions:
    """How big and how varied the catalogue is."""

    products: int = 100
    combination_share: float = 0.4
    virtual_share: float = 0.04
    specific_price_share: float = 0.15
    image_share: float = 0.95
    invalid_barcode_share: float = 0.02
    single_shop_share: float = 0.15


def slugify(text: str) -> str:
    """PrestaShop-like ``link_rewrite``: ascii, lower case, dashes."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or "item"


def _ml(rows: RowFactory, en: str, fr: str) -> dict[int, str]:
    return {lang: (fr if lang == 2 else en) for lang in rows.language_ids}


def _weighted(rng: random.Random, pairs: list[tuple[int, int]]) -> int:
    values = [v for v, _w in pairs]
    weights = [w for _v, w in pairs]
    return rng.choices(values, weights)[0]


def _group_rate(group: int) -> Decimal:
    eu_tax = TAX_GROUPS[group][1]
    return TAXES[eu_tax][0]


def build_catalog(
    tables: dict[str, list[Row]],
    images: dict[int, ImageBlob],
    rows: RowFactory,
    ref: ReferenceIds,
    options: CatalogOptions,
    rng: random.Random,
    epoch: datetime,
) -> None:
    """Append the whole catalogue (see module docstring)."""
    leaves = _categories(tables, rows, ref, epoch)
    value_ids = _attributes(tables, rows)
    feature_values = _features(tables, rows)
    _products(tables, images, rows, ref, options, rng, epoch, leaves, value_ids, feature_values)
    _cart_rules(tables, rows, ref, epoch)


def _categories(
    tables: dict[str, list[Row]], rows: RowFactory, ref: ReferenceIds, epoch: datetime
) -> dict[int, list[tuple[int, int, int]]]:
    """Root (1), one root per shop, top categories and leaves; returns leaves per shop as
    ``(leaf, parent, shop_root)``."""
    stamp = ps_date(epoch - timedelta(days=400))
    cats: list[Row] = []
    children: dict[int, list[int]] = {}

    def add(cid: int, parent: int, depth: int, name: tuple[str, str], is_root: bool, shop: int, position: int) -> None:
        row = rows.blank(
            "categories", id=str(cid), id_parent=str(parent), level_depth=str(depth),
            nb_products_recursive="0", active="1", id_shop_default=str(shop),
            is_root_category="1" if is_root else "0", position=str(position),
            date_add=stamp, date_upd=stamp, name=_ml(rows, *name),
            link_rewrite=_ml(rows, slugify(name[0]), slugify(name[1])),
            description=_ml(rows, f"<p>{name[0]}</p>", f"<p>{name[1]}</p>"))
        if shop:
            row["_shops"] = [shop]
        cats.append(row)
        children.setdefault(parent, []).append(cid)

    add(1, 0, 0, ("Root", "Racine"), False, 0, 0)
    cats[0].pop("_shops", None)
    next_id = 2 + len(ref.shop_ids)
    leaves: dict[int, list[tuple[int, int, int]]] = {}
    for position, shop in enumerate(ref.shop_ids):
        root = ref.shop_root_categories[shop]
        add(root, 1, 1, ("Home", "Accueil") if shop == 1 else (f"Home {shop}", f"Accueil {shop}"), True, shop, position)
        tops = _TOP_CATEGORIES if shop == 1 else _TOP_CATEGORIES[: max(2, len(_TOP_CATEGORIES) - 2 * shop)]
        for top_pos, (top_name, subs) in enumerate(tops):
            top_id = next_id
            next_id += 1
            add(top_id, root, 2, top_name, False, shop, top_pos)
            for sub_pos, sub_name in enumerate(subs):
                add(next_id, top_id, 3, sub_name, False, shop, sub_pos)
                leaves.setdefault(shop, []).append((next_id, top_id, root))
                next_id += 1
    cats.sort(key=lambda r: int(r["id"]))
    by_id = {int(r["id"]): r for r in cats}
    counter = [0]

    def number(cid: int) -> None:
        counter[0] += 1
        by_id[cid]["nleft"] = str(counter[0])
        for child in children.get(cid, []):
            number(child)
        counter[0] += 1
        by_id[cid]["nright"] = str(counter[0])

    number(1)
    for cid, row in by_id.items():
        row["associations"] = {"categories": [{"id": str(c)} for c in children.get(cid, [])],
                               "products": []}
    tables.setdefault("categories", []).extend(cats)
    return leaves


def _attributes(tables: dict[str, list[Row]], rows: RowFactory) -> dict[int, list[tuple[int, str, str]]]:
    value_ids: dict[int, list[tuple[int, str, str]]] = {}
    next_value = 1
    for gid, (is_color, group_type, name, values) in _ATTRIBUTE_GROUPS.items():
        ids = []
        for position, (en, fr, color) in enumerate(values):
            tables.setdefault("product_option_values", []).append(rows.blank(
                "product_option_values", id=str(next_value), id_attribute_group=str(gid),
                color=color, position=str(position), name=_ml(rows, en, fr)))
            ids.append((next_value, en, fr))
            next_value += 1
        value_ids[gid] = ids
        tables.setdefault("product_options", []).append(rows.blank(
            "product_options", id=str(gid), is_color_group="1" if is_color else "0",
            group_type=group_type, position=str(gid - 1), name=_ml(rows, *name),
            public_name=_ml(rows, *name),
            associations={"product_option_values": [{"id": str(v)} for v, _e, _f in ids]}))
    return value_ids


def _features(tables: dict[str, list[Row]], rows: RowFactory) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    next_value = 1
    for fid, (name, values) in _FEATURES.items():
        tables.setdefault("product_features", []).append(
            rows.blank("product_features", id=str(fid), position=str(fid - 1), name=_ml(rows, *name)))
        for en, fr in values:
            tables.setdefault("product_feature_values", []).append(rows.blank(
                "product_feature_values", id=str(next_value), id_feature=str(fid), custom="0",
                value=_ml(rows, en, fr)))
            out.setdefault(fid, []).append(next_value)
            next_value += 1
    return out


def _barcode(rng: random.Random, serial: int, options: CatalogOptions, kind: str) -> str:
    valid = rng.random() >= options.invalid_barcode_share
    if kind == "ean13":
        return make_ean13(serial, valid=valid)
    if kind == "upc":
        return make_upc(serial, valid=valid)
    return make_isbn13(serial, valid=valid)


def _products(
    tables: dict[str, list[Row]],
    images: dict[int, ImageBlob],
    rows: RowFactory,
    ref: ReferenceIds,
    options: CatalogOptions,
    rng: random.Random,
    epoch: datetime,
    leaves: dict[int, list[tuple[int, int, int]]],
    value_ids: dict[int, list[tuple[int, str, str]]],
    feature_values: dict[int, list[int]],
) -> None:
    products = tables.setdefault("products", [])
    combinations = tables.setdefault("combinations", [])
    stock = tables.setdefault("stock_availables", [])
    specific = tables.setdefault("specific_prices", [])
    categories = {int(r["id"]): r for r in tables["categories"]}
    category_products: dict[int, list[dict[str, str]]] = {}
    next_combination = 1
    next_image = 1
    next_stock = 1
    next_specific = 1
    multi_shop = len(ref.shop_ids) > 1
    for pid in range(1, options.products + 1):
        adjective = _ADJECTIVES[rng.randrange(len(_ADJECTIVES))]
        noun = _NOUNS[rng.randrange(len(_NOUNS))]
        name_en = f"{adjective[0]} {noun[0]} {pid}"
        name_fr = f"{noun[1].capitalize()} {adjective[1].lower()} {pid}"
        shops = list(ref.shop_ids)
        if multi_shop and rng.random() < options.single_shop_share:
            shops = [rng.choice(ref.shop_ids)]
        home_shop = shops[0]
        leaf, parent, root = rng.choice(leaves[home_shop])
        group = _weighted(rng, _TAX_GROUP_WEIGHTS)
        roll = rng.random()
        is_virtual = roll < options.virtual_share
        has_combinations = not is_virtual and roll < options.virtual_share + options.combination_share
        if rng.random() < 0.5:
            shelf = rng.choice(_SHELF_PRICES)
            price = (shelf / (1 + _group_rate(group) / 100)).quantize(Decimal("0.000001"))
        else:
            price = Decimal(rng.randrange(150, 25000)) / 100
        wholesale = (price * Decimal(rng.choice(("0.35", "0.45", "0.5")))).quantize(Decimal("0.01"))
        created = epoch - timedelta(days=rng.randrange(30, 400), seconds=rng.randrange(86400))
        updated = created + timedelta(days=rng.randrange(0, 20))
        reference = f"REF-{pid:06d}"
        ean13 = _barcode(rng, pid, options, "ean13") if rng.random() < 0.85 else ""
        upc = _barcode(rng, pid, options, "upc") if rng.random() < 0.25 else ""
        isbn = _barcode(rng, pid, options, "isbn") if noun[0] == "novel" else ""
        weight = Decimal(rng.randrange(0, 3000)) / 1000 if not is_virtual else _D0

        image_ids: list[int] = []
        if rng.random() < options.image_share:
            for _ in range(rng.choice((1, 1, 2, 3))):
                colors = (color_for(next_image), color_for(pid), color_for(next_image * 7), color_for(pid * 3))
                tag = f"dolisync product {pid} image {next_image}"
                if rng.random() < 0.8:
                    blob = ImageBlob(next_image, pid, make_jpeg(colors, tag=tag), "image/jpeg")
                else:
                    blob = ImageBlob(next_image, pid, make_png(colors, tag=tag), "image/png")
                images[next_image] = blob
                image_ids.append(next_image)
                next_image += 1

        combo_ids: list[int] = []
        combo_rows: list[Row] = []
        option_values: list[int] = []
        if has_combinations:
            shape = rng.choice(_COMBINATION_SHAPES)
            choices: list[list[tuple[int, str, str]]] = []
            for gid in shape:
                pool = value_ids[gid]
                count = min(len(pool), rng.randint(2, 4))
                choices.append(sorted(rng.sample(pool, count)))
            combos: list[list[tuple[int, str, str]]] = [[]]
            for pool in choices:
                combos = [c + [v] for c in combos for v in pool]
            for index, values in enumerate(combos[:12]):
                cid = next_combination
                next_combination += 1
                impact = _D0 if rng.random() < 0.7 else Decimal(rng.randrange(1, 1500)) / 100
                combo_rows.append(rows.blank(
                    "combinations", id=str(cid), id_product=str(pid),
                    ean13=_barcode(rng, 500000 + cid, options, "ean13") if ean13 else "",
                    upc="", isbn="", mpn="",
                    reference=f"{reference}-{'-'.join(slugify(v[1]) for v in values).upper()}",
                    supplier_reference="", wholesale_price=money6(wholesale), price=money6(impact),
                    ecotax="0.000000", weight=money6(Decimal(rng.randrange(0, 300)) / 1000),
                    unit_price_impact="0.000000", minimal_quantity="1", low_stock_threshold="",
                    low_stock_alert="0", default_on="1" if index == 0 else "",
                    available_date="0000-00-00", available_now=rows.text(""),
                    available_later=rows.text(""),
                    associations={
                        "product_option_values": [{"id": str(v[0])} for v in values],
                        "images": [{"id": str(i)} for i in image_ids[:1]],
                    }))
                combo_ids.append(cid)
                for value in values:
                    if value[0] not in option_values:
                        option_values.append(value[0])
            combinations.extend(combo_rows)

        features = []
        for fid, fvalues in feature_values.items():
            if rng.random() < 0.5:
                features.append({"id": str(fid), "id_feature_value": str(rng.choice(fvalues))})

        stock_assoc: list[dict[str, str]] = []
        for shop in shops:
            if combo_ids:
                quantities = [rng.randrange(0, 120) for _ in combo_ids]
            else:
                quantities = []
            total = sum(quantities) if combo_ids else rng.randrange(0, 500)
            stock.append(rows.blank(
                "stock_availables", id=str(next_stock), id_product=str(pid), id_product_attribute="0",
                id_shop=str(shop), id_shop_group="0", quantity=str(total), depends_on_stock="0",
                out_of_stock="2", location=""))
            if shop == home_shop:
                stock_assoc.append({"id": str(next_stock), "id_product_attribute": "0"})
            next_stock += 1
            for cid, quantity in zip(combo_ids, quantities, strict=True):
                stock.append(rows.blank(
                    "stock_availables", id=str(next_stock), id_product=str(pid),
                    id_product_attribute=str(cid), id_shop=str(shop), id_shop_group="0",
                    quantity=str(quantity), depends_on_stock="0", out_of_stock="2", location=""))
                if shop == home_shop:
                    stock_assoc.append({"id": str(next_stock), "id_product_attribute": str(cid)})
                next_stock += 1

        product = rows.blank(
            "products", id=str(pid), id_manufacturer="0", id_supplier="0",
            id_category_default=str(leaf), new="", cache_default_attribute=str(combo_ids[0]) if combo_ids else "0",
            id_default_image=str(image_ids[0]) if image_ids else "",
            id_default_combination=str(combo_ids[0]) if combo_ids else "0",
            id_tax_rules_group=str(group), position_in_category="", manufacturer_name="",
            quantity="0", type="virtual" if is_virtual else "simple", id_shop_default=str(home_shop),
            reference=reference, supplier_reference="", location="",
            width=money6(Decimal(rng.randrange(0, 60))), height=money6(Decimal(rng.randrange(0, 60))),
            depth=money6(Decimal(rng.randrange(0, 20))), weight=money6(weight),
            quantity_discount="0", ean13=ean13, isbn=isbn, upc=upc, mpn="", cache_is_pack="0",
            cache_has_attachments="0", is_virtual="1" if is_virtual else "0", state="1",
            additional_delivery_times="1",
            product_type="virtual" if is_virtual else ("combinations" if combo_ids else "standard"),
            on_sale="1" if rng.random() < 0.05 else "0", online_only="0", ecotax="0.000000",
            minimal_quantity="1", low_stock_threshold="", low_stock_alert="0",
            price=money6(price), wholesale_price=money6(wholesale), unity="", unit_price="0.000000",
            unit_price_ratio="0.000000", additional_shipping_cost="0.000000", customizable="0",
            text_fields="0", uploadable_files="0", active="1" if rng.random() < 0.95 else "0",
            redirect_type="301-category", id_type_redirected="0", available_for_order="1",
            available_date="0000-00-00", show_condition="0", condition="new", show_price="1",
            indexed="1", visibility="both", advanced_stock_management="0",
            date_add=ps_date(created), date_upd=ps_date(updated), pack_stock_type="3",
            link_rewrite=_ml(rows, slugify(name_en), slugify(name_fr)),
            name=_ml(rows, name_en, name_fr),
            description=_ml(rows, f"<p>{name_en}: a fine {noun[0]}.</p>",
                            f"<p>{name_fr} : un bel article.</p>"),
            description_short=_ml(rows, f"<p>{noun[0].capitalize()}.</p>", f"<p>{noun[1].capitalize()}.</p>"),
            associations={
                "categories": [{"id": str(c)} for c in (root, parent, leaf)],
                "images": [{"id": str(i)} for i in image_ids],
                "combinations": [{"id": str(c)} for c in combo_ids],
                "product_option_values": [{"id": str(v)} for v in option_values],
                "product_features": features,
                "stock_availables": stock_assoc,
            },
        )
        for lang in rows.language_ids:
            if lang > 2:
                product["name"][lang] = name_en
        if len(shops) != len(ref.shop_ids):
            product["_shops"] = shops
        elif multi_shop and rng.random() < 0.2:
            other = shops[-1]
            product["_shop_fields"] = {other: {
                "price": money6((price * Decimal("1.05")).quantize(Decimal("0.000001"))),
                "active": product["active"] if rng.random() < 0.8 else "0",
            }}
        products.append(product)
        for cid in (root, parent, leaf):
            category_products.setdefault(cid, []).append({"id": str(pid)})

        if rng.random() < options.specific_price_share:
            kind = rng.random()
            sp = rows.blank(
                "specific_prices", id=str(next_specific), id_shop_group="0", id_shop="0", id_cart="0",
                id_product=str(pid), id_product_attribute="0", id_currency="0", id_country="0",
                id_group="0", id_customer="0", id_specific_price_rule="0", price="-1.000000",
                from_quantity="1", reduction="0.000000", reduction_tax="1",
                reduction_type="percentage", **{"from": "0000-00-00 00:00:00", "to": "0000-00-00 00:00:00"})
            if kind < 0.6:
                sp["reduction"] = money6(Decimal(rng.choice((10, 15, 20, 25, 30))) / 100)
            elif kind < 0.85:
                sp["reduction_type"] = "amount"
                sp["reduction"] = money6(min(Decimal(rng.choice((1, 2, 3, 5))), price / 2).quantize(Decimal("0.01")))
                sp["reduction_tax"] = "1" if rng.random() < 0.7 else "0"
            else:
                sp["reduction"] = money6(Decimal("0.1"))
                sp["from_quantity"] = "3"
            if combo_ids and rng.random() < 0.3:
                sp["id_product_attribute"] = str(combo_ids[0])
            specific.append(sp)
            next_specific += 1

    for cid, assoc in category_products.items():
        if cid in categories:
            categories[cid]["associations"]["products"] = assoc
            categories[cid]["nb_products_recursive"] = str(len(assoc))


# Cart rules: (name en, name fr, code, priority, free shipping, percent, amount, amount tax incl, currency iso)
_CART_RULES: list[tuple[str, str, str, int, bool, str, str, bool, str]] = [
    ("Free shipping", "Livraison gratuite", "FREESHIP", 1, True, "0", "0", True, ""),
    ("Welcome 10%", "Bienvenue 10 %", "WELCOME10", 1, False, "10", "0", True, ""),
    ("5 off", "5 de remise", "FIVE", 2, False, "0", "5", True, ""),
    ("15 off (tax excl.)", "15 HT de remise", "FIFTEENHT", 3, False, "0", "15", False, ""),
    ("Summer 20%", "Été 20 %", "SUMMER20", 2, False, "20", "0", True, ""),
    ("10 USD off", "10 USD de remise", "TENUSD", 4, False, "0", "10", True, "USD"),
    ("Loyalty 7.5%", "Fidélité 7,5 %", "LOYAL75", 5, False, "7.5", "0", True, ""),
]


def _cart_rules(tables: dict[str, list[Row]], rows: RowFactory, ref: ReferenceIds, epoch: datetime) -> None:
    stamp = ps_date(epoch - timedelta(days=400))
    for index, (en, fr, code, priority, free, percent, amount, tax_incl, currency) in enumerate(_CART_RULES, 1):
        currency_id = ref.currency_ids.get(currency, 1) if currency else 1
        tables.setdefault("cart_rules", []).append(rows.blank(
            "cart_rules", id=str(index), id_customer="0",
            date_from=ps_date(epoch - timedelta(days=400)), date_to=ps_date(epoch + timedelta(days=3650)),
            description="", quantity="100000", quantity_per_user="100000", priority=str(priority),
            partial_use="1", code=code, minimum_amount="0.00", minimum_amount_tax="0",
            minimum_amount_currency="1", minimum_amount_shipping="0", country_restriction="0",
            carrier_restriction="0", group_restriction="0", cart_rule_restriction="0",
            product_restriction="0", shop_restriction="0", free_shipping="1" if free else "0",
            reduction_percent=money2(Decimal(percent)), reduction_amount=money6(Decimal(amount)),
            reduction_tax="1" if tax_incl else "0", reduction_currency=str(currency_id),
            reduction_product="0", reduction_exclude_special="0", gift_product="0",
            gift_product_attribute="0", highlight="0", active="1", date_add=stamp, date_upd=stamp,
            name=_ml(rows, en, fr)))
