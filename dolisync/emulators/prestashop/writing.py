"""POST / PUT / PATCH semantics of the 8.2.1 webservice.

Contract: :func:`write_items` applies the parsed body items one after another (no transaction,
like PrestaShop) and returns, per item, the *echo row* (the in-memory object: values as sent,
absent fields empty) and the multilang fields that were absent from the body (echoed without
``xlink:href``). The stored row holds the normalised column values. Errors raise
:class:`WsError` with PrestaShop's codes: 89/90/91/92 id rules, 93 read-only, 41 required,
84/85 validation, 86 unknown association (after the save), 127 malformed XML, 140/141/133 + 46.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from lxml import etree

from dolisync.emulators.prestashop.body import element_text, multilang_value
from dolisync.emulators.prestashop.errors import PHP_ROOT, PhpFatal, WsError
from dolisync.emulators.prestashop.orders import validate_order
from dolisync.emulators.prestashop.schema import FieldSpec, ResourceSpec
from dolisync.emulators.prestashop.store import PrestaShopStore, Row

__all__ = ["write_items", "WriteResult", "slugify"]

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}( \d{2}:\d{2}(:\d{2})?)?$")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_INT = re.compile(r"^[+-]?\d+$")


@dataclass(slots=True)
class WriteResult:
    """One processed item: its id, the echo row and the multilang fields absent from the body."""

    id: int
    echo: Row
    absent_multilang: frozenset[str]
    partial_multilang: dict[str, frozenset[int]]
    hrefless_multilang: frozenset[str] = frozenset()


def slugify(text: str) -> str:
    """PrestaShop-like link_rewrite: ascii, lower case, non alphanumerics -> '-'."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


_LINK_REWRITE = re.compile(r"^[_a-zA-Z0-9\-]+$")  # Validate::isLinkRewrite (accented URLs off)


def _validation(message: str, multilang: bool = False) -> WsError:
    return WsError(400, [(84 if multilang else 85, f'Validation error: "{message}"')])


def _valid(method: str, value: str) -> bool:
    if method in ("isPrice", "isUnsignedFloat"):
        return bool(_NUMBER.match(value)) and Decimal(value) >= 0
    if method in ("isFloat", "isNegativePrice", "isOptFloat"):
        return bool(_NUMBER.match(value))
    if method in ("isUnsignedId", "isUnsignedInt", "isNullOrUnsignedId"):
        return bool(_INT.match(value)) and int(value) >= 0
    if method == "isPositiveInt":
        return bool(_INT.match(value)) and int(value) > 0
    if method == "isInt":
        return bool(_INT.match(value))
    if method == "isBool":
        return value in ("0", "1", "true", "false")
    if method == "isEmail":
        return bool(_EMAIL.match(value))
    if method in ("isDate", "isDateFormat", "isBirthDate", "isDateOrNull"):
        return bool(_DATE.match(value)) or value.startswith("0000-00-00")
    if method == "isEan13":
        return value.isdigit() and len(value) <= 13
    if method == "isUpc":
        return value.isdigit() and len(value) <= 12
    return True


def _check_field(spec: ResourceSpec, fspec: FieldSpec, value: Any) -> None:
    cls = spec.class_name
    if fspec.multilang:
        return
    text = "" if value is None else str(value)
    if text == "":
        if fspec.required:
            raise _validation(f"Property {cls}-&gt;{fspec.name} is empty.")
        return
    if text == "0":  # PHP empty("0"): ObjectModel skips the validate method
        return
    if fspec.size is not None and len(text) > fspec.size:
        raise _validation(
            f"The length of property {cls}-&gt;{fspec.name} is currently {len(text)} chars. "
            f"It must be between 0 and {fspec.size} chars."
        )
    if fspec.allowed_values is not None and text not in fspec.allowed_values:
        allowed = ", ".join(v for v in fspec.allowed_values if v)
        raise _validation(
            f"Property {cls}-&gt;{fspec.name} has a bad value (allowed values are: {allowed})."
        )
    for method in fspec.validate:
        if not _valid(method, text):
            raise _validation(f"Property {cls}-&gt;{fspec.name} is not valid")


def _check_multilang(spec: ResourceSpec, fspec: FieldSpec, value: dict[int, str], default_lang: int) -> None:
    cls = spec.class_name
    if fspec.required and not value.get(default_lang, ""):
        raise _validation(f"Property {cls}-&gt;{fspec.name} is empty.", multilang=True)
    for text in value.values():
        if fspec.size is not None and len(text) > fspec.size:
            raise _validation(
                f"The length of property {cls}-&gt;{fspec.name} is currently {len(text)} chars. "
                f"It must be between 0 and {fspec.size} chars.",
                multilang=True,
            )


def _item_id(item: etree._Element) -> str:
    node = item.find("id")
    return "" if node is None else element_text(node)


def write_items(
    store: PrestaShopStore,
    spec: ResourceSpec,
    method: str,
    items: list[etree._Element],
    languages: list[int],
    id_shop: int | None = None,
) -> list[WriteResult]:
    """Apply every item of the body; see module docstring.

    ``id_shop`` is the shop context (None = every shop): shop-specific fields of an object that
    has per-shop values for that shop are written there, new objects of shop-associated
    resources are associated with the context shop only (multistore), customers get its id.
    """
    if method in ("PUT", "PATCH"):
        seen: set[str] = set()
        for item in items:
            item_id = _item_id(item)
            if not item_id:
                raise WsError(400, [(90, "id is required when modifying a resource")])
            if item_id in seen:
                raise WsError(400, [(89, "The id is duplicated in the request")])
            seen.add(item_id)
    results = []
    for item in items:
        results.append(_write_one(store, spec, method, item, languages, id_shop))
    return results


def _write_one(
    store: PrestaShopStore,
    spec: ResourceSpec,
    method: str,
    item: etree._Element,
    languages: list[int],
    id_shop: int | None,
) -> WriteResult:
    all_langs = store.active_language_ids()
    elements = {child.tag: child for child in item if isinstance(child.tag, str)}
    item_id = _item_id(item)
    existing: Row | None = None
    if method == "POST":
        if item_id:
            raise WsError(400, [(91, "id is forbidden when adding a new resource")])
    else:
        existing = store.get(spec.name, int(item_id)) if item_id.strip().isdigit() else None
        if existing is None:
            raise WsError(404, [(92, "Invalid ID")])
    for name in elements:
        fspec = spec.by_name.get(name)
        if fspec is not None and fspec.read_only:
            raise WsError(
                400, [(93, f'parameter "{name}" not writable. Please remove this attribute of this XML')]
            )
    if method in ("POST", "PUT"):
        for fspec in spec.fields:
            if fspec.required and not fspec.multilang and fspec.name != "id" and fspec.name not in elements:
                raise WsError(400, [(41, f'parameter "{fspec.name}" required')])
    sent: dict[str, Any] = {}
    echo_override: dict[str, dict[int, str]] = {}
    partial: dict[str, frozenset[int]] = {}
    for name, element in elements.items():
        fspec = spec.by_name.get(name)
        if fspec is None or name in ("id", "associations") or fspec.hidden:
            continue
        if not fspec.multilang:
            sent[name] = element_text(element)
            continue
        sent[name] = multilang_value(element, all_langs)
        listed = {
            int(c.get("id") or 0)
            for c in element
            if isinstance(c.tag, str) and c.tag == "language" and (c.get("id") or "").strip().isdigit()
        }
        if not listed:
            # 8.2.1 echoes a plain multilang string one character per language id
            text = element.text or ""
            echo_override[name] = {lang: (text[lang] if lang < len(text) else "") for lang in all_langs}
        elif set(all_langs) - listed:
            partial[name] = frozenset(set(all_langs) - listed)
    echo: Row = {} if existing is None or method == "PUT" else _copy_row(existing)
    absent_multilang: set[str] = set()
    for fspec in spec.fields:
        if fspec.name == "id":
            continue
        if fspec.name in sent:
            echo[fspec.name] = sent[fspec.name]
        elif method in ("POST", "PUT"):
            if fspec.computed and existing is not None:
                echo[fspec.name] = existing.get(fspec.name, "")
            elif fspec.multilang:
                echo[fspec.name] = {lang: "" for lang in all_langs}
                absent_multilang.add(fspec.name)
            elif fspec.default is not None:  # PUT starts from a new object too (class defaults)
                echo[fspec.name] = fspec.default
            else:
                echo[fspec.name] = ""
    _apply_modifiers(store, spec, method, echo, sent, all_langs)
    if spec.name == "customers" and method == "POST" and id_shop is not None and "id_shop" not in sent:
        echo["id_shop"] = str(id_shop)
    if "link_rewrite" in echo and method == "POST" and spec.name in ("products", "categories"):
        absent_multilang.discard("link_rewrite")
    if spec.name == "products" and method == "PUT" and existing is not None:
        echo["id_shop_default"] = existing.get("id_shop_default", "1")
        if "position_in_category" not in sent:
            echo["position_in_category"] = ""
        if "unit_price_ratio" not in sent:
            echo["unit_price_ratio"] = "0"  # recomputed in memory by Product::update
        if echo.get("quantity_discount") == "0":
            echo["quantity_discount"] = ""  # held as PHP false in memory (put_product_roundtrip)
    for fspec in spec.fields:  # computed getters are evaluated fresh for the echo
        if fspec.computed and fspec.name not in sent and fspec.name not in ("type", "position_in_category"):
            echo.pop(fspec.name, None)
    for fspec in spec.fields:
        if fspec.name in sent or (method != "PATCH" and fspec.name in echo and fspec.required):
            value = echo.get(fspec.name)
            if fspec.multilang and isinstance(value, dict):
                _check_multilang(spec, fspec, value, all_langs[0])
            elif not fspec.multilang:
                _check_field(spec, fspec, value)
    _business_checks(store, spec, method, echo, existing, sent)
    stored = {
        name: (value if isinstance(value, dict) else spec.by_name[name].normalize(str(value)))
        for name, value in echo.items()
        if name in spec.by_name
    }
    for name in sent:  # a sent empty value is cast, NULL only comes from an absent one
        fspec = spec.by_name[name]
        if fspec.allow_null and stored.get(name) == "" and fspec.type in ("int", "float", "bool"):
            stored[name] = "0"
    previous_state = existing.get("current_state") if existing is not None else None
    if existing is None:
        stored.pop("date_add", None)  # ObjectModel autodate
        stored.pop("date_upd", None)
        if spec.name == "products" and stored.get("state") == "1" and stored.get("active") == "1":
            stored["indexed"] = "1"  # the search indexer runs on creation
        created = validate_order(store, spec, sent) if spec.name == "orders" else None
        if created is not None:
            new_id = created
        elif spec.name == "order_histories":
            new_id = store.change_order_state(
                int(echo.get("id_order") or 0),
                int(echo.get("id_order_state") or 0),
                int(echo.get("id_employee") or 0),
            )
        else:
            if spec.shop_association and id_shop is not None and len(store.shop_ids()) > 1:
                stored["_shops"] = [id_shop]
            new_id = store.insert(spec.name, stored)
    else:
        new_id = int(existing["id"])
        if spec.name == "orders":
            stored.pop("current_state", None)
        _route_shop_values(store, spec, existing, stored, id_shop)
        store.update(spec.name, new_id, stored)
        if spec.name == "orders" and "current_state" in sent and sent["current_state"] != previous_state:
            store.change_order_state(new_id, int(sent["current_state"] or 0))
    row = store.get(spec.name, new_id) or {}
    if spec.name == "orders" and existing is not None:
        for name in ("current_state", "valid", "invoice_number", "invoice_date", "delivery_date"):
            echo[name] = row.get(name, echo.get(name, ""))
        echo["total_paid_real"] = _php_float_text(str(row.get("total_paid_real", "")))
    if spec.name == "order_histories" and "id_employee" not in sent:
        echo["id_employee"] = ""
    echo.update(echo_override)
    echo["id"] = str(new_id)
    if spec.name == "orders" and method == "POST":
        echo["current_state"] = ""  # validateOrder sets the state on another instance
    else:  # validateOrder's echo keeps the dates empty
        echo["date_upd"] = row.get("date_upd", "")
        if "date_add" in spec.by_name:
            echo["date_add"] = row.get("date_add", "")
    _apply_associations(store, spec, row, item)
    echo["associations"] = row.get("associations", {})
    for key in ("_shops", "_shop_fields"):
        if key in row:
            echo[key] = row[key]
    return WriteResult(
        new_id, echo, frozenset(absent_multilang), partial, frozenset(absent_multilang | set(echo_override))
    )


def _route_shop_values(
    store: PrestaShopStore, spec: ResourceSpec, existing: Row, stored: Row, id_shop: int | None
) -> None:
    """Shop-specific values go to the context shop's overrides (product_shop rows)."""
    overrides = existing.get("_shop_fields") or {}
    targets = list(overrides) if id_shop is None else [k for k in overrides if int(k) == id_shop]
    if not targets:
        return
    names = [f.name for f in spec.fields if f.shop_specific or (f.multilang and spec.multilang)]
    for key in targets:
        per_shop = overrides[key]
        for name in names:
            if name in stored and (id_shop is None or name in per_shop or spec.by_name[name].shop_specific):
                per_shop[name] = stored[name]
        if id_shop is not None:
            for name in names:
                if name in per_shop and name in stored:
                    stored.pop(name)  # the shared row keeps the other shops' value
    store.touch()


def _copy_row(row: Row) -> Row:
    return {k: (dict(v) if isinstance(v, dict) else v) for k, v in row.items()}


def _apply_modifiers(
    store: PrestaShopStore, spec: ResourceSpec, method: str, echo: Row, sent: dict[str, Any], langs: list[int]
) -> None:
    if spec.name in ("products", "categories") and method == "POST":
        names = echo.get("name")
        if spec.name == "products" and not isinstance(sent.get("name"), dict):
            raise WsError(
                500,
                [
                    (
                        3,
                        "[PHP Warning #2] foreach() argument must be of type array|object, string given "
                        f"({PHP_ROOT}/classes/Product.php, line 8101)",
                    )
                ],
            )
        rewrite = dict(echo.get("link_rewrite") or {})
        if isinstance(names, dict):
            for lang in langs:  # modifierWsLinkRewrite: generated when empty, cleaned when invalid
                if not rewrite.get(lang):
                    rewrite[lang] = slugify(names.get(lang, ""))
                elif not _LINK_REWRITE.match(str(rewrite[lang])):
                    rewrite[lang] = slugify(str(rewrite[lang]))
        echo["link_rewrite"] = rewrite
    if spec.name == "products" and method == "POST":
        echo.setdefault("id_shop_default", "1")
        if not echo.get("id_shop_default"):
            echo["id_shop_default"] = "1"
        echo["type"] = echo.get("type") or "simple"
        category = str(echo.get("id_category_default") or "")
        if category:
            echo["position_in_category"] = str(store.category_size(category) + 1)
    if spec.name == "customers":
        if "passwd" in sent and sent["passwd"]:
            digest = hashlib.sha256(str(sent["passwd"]).encode()).hexdigest()[:53]
            echo["passwd"] = "$2y$10$" + digest
        if method == "POST":
            echo["secure_key"] = secrets.token_hex(16)
            echo["last_passwd_gen"] = store.now()
            echo["id_shop"] = echo.get("id_shop") or "1"
            echo["id_shop_group"] = echo.get("id_shop_group") or "1"


def _business_checks(
    store: PrestaShopStore, spec: ResourceSpec, method: str, echo: Row, existing: Row | None, sent: dict[str, Any]
) -> None:
    if spec.name == "customers" and echo.get("is_guest", "0") in ("", "0"):
        email = str(echo.get("email") or "")
        for row in store.index("customers", "email").get(email, []):
            if existing is not None and row is existing:
                continue
            if row.get("is_guest", "0") in ("", "0"):
                if row.get("deleted") == "1":
                    continue
                code = 140 if method == "POST" else 141
                raise WsError(
                    500,
                    [(code, "The email is already used, please choose another one"), (46, "Unable to save resource")],
                )
    if spec.name == "order_histories" and method == "POST":
        order = store.get("orders", _int_or_zero(echo.get("id_order")))
        state = store.get("order_states", _int_or_zero(echo.get("id_order_state")))
        if order is None or state is None:  # OrderHistory::changeIdOrderState throws, nothing is stored
            raise PhpFatal("Invalid new order status")
    if spec.name == "stock_availables" and str(echo.get("depends_on_stock") or "0") == "1":
        raise WsError(
            500,
            [
                (133, "You cannot update the available stock when it depends on stock."),
                (46, "Unable to save resource"),
            ],
        )


def _int_or_zero(value: Any) -> int:
    text = str(value or "").strip()
    return int(text) if text.isdigit() else 0


def _apply_associations(store: PrestaShopStore, spec: ResourceSpec, row: Row, item: etree._Element) -> None:
    block = item.find("associations")
    if block is None:
        return
    for assoc_el in block:
        if not isinstance(assoc_el.tag, str):
            continue
        name = assoc_el.tag
        aspec = spec.assoc_by_name.get(name)
        if aspec is None:
            if name == "i18n":
                continue
            raise WsError(400, [(86, f'The association "{name}" does not exists')])
        if not aspec.writable:
            continue
        items = []
        for entry in assoc_el:
            if not isinstance(entry.tag, str):
                continue
            values = {c.tag: element_text(c) for c in entry if isinstance(c.tag, str)}
            items.append({f.name: values.get(f.name, "") for f in aspec.fields if f.name in values or f.name == "id"})
        if spec.name == "carts" and name == "cart_rows":
            # Cart::updateQty stores id_customization 0; getProducts sorts by product, combination
            for entry in items:
                entry["id_customization"] = entry.get("id_customization") or "0"
            items.sort(key=lambda e: (int(e.get("id_product") or 0), int(e.get("id_product_attribute") or 0)))
        if spec.name == "products" and name == "categories":
            store.set_product_categories(row, items)
        else:
            row.setdefault("associations", {})[name] = items
            store.revision += 1
    if spec.name == "combinations":
        store.recompute_product_stock(int(row.get("id_product") or 0))


def _php_float_text(text: str) -> str:
    """A decimal string as PHP prints the float (``27.300000`` -> ``27.3``)."""
    try:
        number = Decimal(text)
    except (InvalidOperation, ValueError):
        return text
    rendered = f"{number.normalize():f}"
    return rendered
