"""``/categories``: create, read (with children), update, delete, link/unlink objects.

Tables: ``categories`` (``label``, ``type`` int, ``fk_parent``, ``description``, ``color``,
``position``, ``visible``, ``ref_ext``, ``datec``, ``tms``, ``fk_user_modif``) and
``category_links`` (``fk_categorie``, ``type`` word such as ``product``/``customer``,
``fk_object``).

Recorded behaviour reproduced (API.md §3.1): ``type`` accepts the word or the number; the same
label under the same parent and type is refused (500); ``PUT`` changes only the fields it sends
(``ref_ext`` is kept when not sent, a null one becomes ``""``: checked on a real 23.0.0-beta);
linking is idempotent; a missing object gives 500 "Error when fetching object"; deleting a
category removes its links and moves its children up (the recorded 500 "Error when delete
category : " came from a table missing on that 23.0.0-beta install, see the contract conftest;
with the table every delete succeeds, linked or not; ``state.extra[DELETE_FAILS_FLAG]`` set to
True reproduces the broken install). Public helpers: :func:`link_object`,
:func:`unlink_object`, :func:`categories_of`, :func:`short_category`.
"""

from __future__ import annotations

from typing import Any

from dolisync.emulators.dolibarr.cat_templates import template
from dolisync.emulators.dolibarr.core import (
    ApiError, Call, DolibarrRouter, ListQuery, as_int, as_str, fmt_datetime, list_answer, success,
)
from dolisync.emulators.dolibarr.state import DolibarrState, Row

__all__ = ["register", "link_object", "unlink_object", "categories_of", "short_category", "TYPE_IDS",
           "DELETE_FAILS_FLAG"]

#: ``state.extra`` key: when true every ``DELETE /categories/{id}`` fails with 500, like the recorded
#: 23.0.0-beta install that lacked ``llx_categorie_project_task``.
DELETE_FAILS_FLAG = "category_delete_fails"

TYPE_IDS: dict[str, int] = {
    "product": 0, "supplier": 1, "customer": 2, "member": 3, "contact": 4, "bank_account": 5, "project": 6,
    "user": 7, "bank_line": 8, "warehouse": 9, "actioncomm": 10, "website_page": 11, "ticket": 12,
    "knowledgemanagement": 13, "fichinter": 14, "order": 16, "invoice": 17, "supplier_order": 20,
    "supplier_invoice": 21, "supplier_proposal": 22, "propal": 23, "project_task": 24,
}
_TYPE_WORDS = {v: k for k, v in TYPE_IDS.items()}

#: Category object type -> (state table, column holding the ``ref`` used by ``/ref/{ref}``).
_OBJECT_TABLES: dict[str, tuple[str, str]] = {
    "product": ("products", "ref"), "customer": ("thirdparties", "name"), "supplier": ("thirdparties", "name"),
    "contact": ("contacts", "ref"), "warehouse": ("warehouses", "ref"), "order": ("orders", "ref"),
    "invoice": ("invoices", "ref"), "member": ("members", "ref"), "user": ("users", "login"),
    "project": ("projects", "ref"), "bank_account": ("bankaccounts", "ref"),
}


def _type_id(value: Any) -> int | None:
    if isinstance(value, str) and not value.strip().lstrip("-").isdigit():
        return TYPE_IDS.get(value.strip().lower())
    number = as_int(value, None)
    return number if number in _TYPE_WORDS else None


def _columns(row: Row) -> dict[str, Any]:
    return {"t.rowid": row["id"], "t.label": row["label"], "t.type": row["type"], "t.fk_parent": row["fk_parent"],
            "t.description": row.get("description"), "t.ref_ext": row.get("ref_ext"), "t.visible": row["visible"],
            "t.color": row.get("color"), "t.position": row.get("position", 0), "t.entity": 1,
            "t.tms": fmt_datetime(row["tms"]), "t.date_creation": fmt_datetime(row["datec"])}


def _full(state: DolibarrState, row: Row, *, with_childs: bool = False) -> dict[str, Any]:
    out = template("category")
    childs: list[Any] = []
    if with_childs:
        kids = [c for c in state.table("categories").values() if c["fk_parent"] == row["id"]]
        childs = [_full(state, c) for c in sorted(kids, key=lambda c: c["id"])]
    out.update({
        "id": str(row["id"]), "ref_ext": row.get("ref_ext"), "date_creation": row["datec"],
        "date_modification": row["tms"], "user_creation_id": 1, "user_modification_id": row.get("fk_user_modif", 0),
        "fk_parent": row["fk_parent"], "label": row["label"], "description": row.get("description") or "",
        "color": row.get("color") or "", "position": str(row.get("position", 0)), "visible": row["visible"],
        "type": str(row["type"]), "childs": childs, "multilangs": [],
    })
    return out


def short_category(row: Row) -> dict[str, Any]:
    """The short form used by ``/categories/object/...`` and ``/products/{id}/categories``."""
    return {"id": str(row["id"]), "fk_parent": row["fk_parent"], "label": row["label"],
            "description": row.get("description") or "", "color": row.get("color") or "",
            "position": str(row.get("position", 0)), "socid": 0, "ref_ext": row.get("ref_ext") or "",
            "visible": row["visible"], "type": str(row["type"]), "entity": 1, "array_options": []}


def _category_or_404(state: DolibarrState, category_id: int) -> Row:
    row = state.get("categories", category_id)
    if row is None:
        raise ApiError(404, "category not found")
    return row


def link_object(state: DolibarrState, category_id: int, type_word: str, object_id: int) -> None:
    """Link an object to a category (idempotent; no type check, like Dolibarr)."""
    for link in state.lookup("category_links", "object", (type_word, object_id)):
        if link["fk_categorie"] == category_id:
            return
    state.insert("category_links", {"fk_categorie": category_id, "type": type_word, "fk_object": object_id})


def unlink_object(state: DolibarrState, category_id: int, type_word: str, object_id: int) -> None:
    """Remove a link if present."""
    for link in state.lookup("category_links", "object", (type_word, object_id)):
        if link["fk_categorie"] == category_id:
            state.delete("category_links", link["id"])


def categories_of(state: DolibarrState, type_word: str, object_id: int) -> list[Row]:
    """Category rows linked to an object, by category id."""
    ids = {l["fk_categorie"] for l in state.lookup("category_links", "object", (type_word, object_id))}
    return [state.table("categories")[i] for i in sorted(ids) if i in state.table("categories")]


# ---- handlers ------------------------------------------------------------------------------------
def list_categories(call: Call) -> Any:
    rows = list(call.state.table("categories").values())
    wanted = call.query.get("type")
    if wanted:
        type_id = _type_id(wanted)
        rows = [r for r in rows if r["type"] == type_id]
    return list_answer(rows, ListQuery.from_call(call), columns=_columns,
                       serialize=lambda r: _full(call.state, r), error_prefix="Error when retrieve category list")


def get_category(call: Call) -> Any:
    row = _category_or_404(call.state, call.params["id"])
    return _full(call.state, row, with_childs=call.qbool("include_childs"))


def create_category(call: Call) -> int:
    body = call.body_dict()
    for field in ("label", "type"):
        if body.get(field) in (None, ""):
            raise ApiError(400, f"{field} field missing")
    type_id = _type_id(body["type"])
    if type_id is None:
        raise ApiError(400, "Bad value for type")
    state = call.state
    label = str(as_str(body["label"]))
    parent = as_int(body.get("fk_parent"), 0) or 0
    for other in state.table("categories").values():
        if other["type"] == type_id and other["fk_parent"] == parent and other["label"].casefold() == label.casefold():
            raise ApiError(500, "Error when creating category",
                           f"Impossible to add the tag/category {label} : This category already exists with this ref")
    now = state.now()
    row = {"label": label, "type": type_id, "fk_parent": parent, "description": as_str(body.get("description"), "") or "",
           "color": as_str(body.get("color"), "") or "", "position": as_int(body.get("position"), 0),
           "visible": as_int(body.get("visible"), 0), "ref_ext": as_str(body.get("ref_ext"), None),
           "datec": now, "tms": now, "fk_user_modif": 0}
    category_id = state.insert("categories", row)
    state.emit("CATEGORY_CREATE", _full(state, row), {"caller": body["caller"]} if body.get("caller") else {})
    return category_id


def update_category(call: Call) -> Any:
    state = call.state
    row = _category_or_404(state, call.params["id"])
    body = call.body_dict()
    if "label" in body and as_str(body["label"]):
        row["label"] = as_str(body["label"])
    for key in ("description", "color"):
        if key in body:
            row[key] = as_str(body[key], "") or ""
    for key in ("fk_parent", "position", "visible"):
        if key in body:
            row[key] = as_int(body[key], 0)
    if "type" in body and _type_id(body["type"]) is not None:
        row["type"] = _type_id(body["type"])
    # kept when not sent; a never-set (null) ref_ext becomes "" on any update (checked on a real 23.0.0-beta)
    row["ref_ext"] = (as_str(body["ref_ext"], "") if "ref_ext" in body else row.get("ref_ext")) or ""
    row["fk_user_modif"] = 1
    state.emit("CATEGORY_MODIFY", _full(state, row), {"caller": body["caller"]} if body.get("caller") else {})
    return _full(state, row)


def delete_category(call: Call) -> Any:
    state = call.state
    row = _category_or_404(state, call.params["id"])
    if state.extra.get(DELETE_FAILS_FLAG):
        raise ApiError(500, "Error when delete category : ")
    for link in state.lookup("category_links", "category", row["id"]):
        state.delete("category_links", link["id"])
    state.delete("categories", row["id"])
    for child in state.table("categories").values():
        if child["fk_parent"] == row["id"]:
            child["fk_parent"] = row["fk_parent"]
    return success("Category deleted")


def _object_id(state: DolibarrState, type_word: str, object_id: int | None, ref: str | None) -> int:
    table, ref_column = _OBJECT_TABLES.get(type_word, (type_word, "ref"))
    if object_id is not None:
        if state.get(table, object_id) is None:
            raise ApiError(500, "Error when fetching object", None)
        return object_id
    if table == "products" and ref_column == "ref" and ref is not None:  # indexed (case-folded): same first row
        candidates = state.lookup("products", "ref", ref.casefold())
    else:
        candidates = list(state.table(table).values())
    for row in candidates:
        if str(row.get(ref_column)) == ref:
            return row["id"]
    raise ApiError(500, "Error when fetching object", None)


def _link(call: Call, *, by_ref: bool, unlink: bool) -> Any:
    state = call.state
    category = _category_or_404(state, call.params["id"])
    type_word = call.params["type"]
    if type_word not in TYPE_IDS:
        raise ApiError(400, "Bad value for type")
    object_id = _object_id(state, type_word, None if by_ref else call.params["object_id"],
                           call.params.get("object_ref"))
    if unlink:
        unlink_object(state, category["id"], type_word, object_id)
        message = "Objects successfully unlinked from the category"
    else:
        link_object(state, category["id"], type_word, object_id)
        message = "Objects successfully linked to the category"
    state.emit("CATEGORY_MODIFY", _full(state, category), {"linkto": {"type": type_word, "id": object_id}})
    return success(message)


def link_by_id(call: Call) -> Any:
    return _link(call, by_ref=False, unlink=False)


def link_by_ref(call: Call) -> Any:
    return _link(call, by_ref=True, unlink=False)


def unlink_by_id(call: Call) -> Any:
    return _link(call, by_ref=False, unlink=True)


def unlink_by_ref(call: Call) -> Any:
    return _link(call, by_ref=True, unlink=True)


def category_objects(call: Call) -> Any:
    state = call.state
    category = _category_or_404(state, call.params["id"])
    type_word = call.query.get("type") or _TYPE_WORDS.get(category["type"], "product")
    ids = sorted(l["fk_object"] for l in state.lookup("category_links", "category", category["id"])
                 if l["type"] == type_word)
    if call.qbool("onlyids"):
        return [str(i) for i in ids]
    if type_word == "product":
        from dolisync.emulators.dolibarr.catalog import serialize_product

        return [serialize_product(state, state.table("products")[i]) for i in ids if i in state.table("products")]
    return [{"id": str(i)} for i in ids]


def categories_for_object(call: Call) -> Any:
    return [short_category(r) for r in categories_of(call.state, call.params["type"], call.params["object_id"])]


def product_categories(call: Call) -> Any:
    if call.state.get("products", call.params["id"]) is None:
        raise ApiError(404, "Product not found")
    return [short_category(r) for r in categories_of(call.state, "product", call.params["id"])]


def register(router: DolibarrRouter) -> None:
    """Routes of ``/categories`` and ``/products/{id}/categories``."""
    read, write = "categorie.read", "categorie.write"
    router.add("GET", "/categories", list_categories, perm=read)
    router.add("POST", "/categories", create_category, perm=write, forbidden_text="Insufficiant rights")
    router.add("GET", "/categories/{id:int}", get_category, perm=read)
    router.add("PUT", "/categories/{id:int}", update_category, perm=write)
    router.add("DELETE", "/categories/{id:int}", delete_category, perm=write)
    router.add("GET", "/categories/{id:int}/objects", category_objects, perm=read)
    router.add("POST", "/categories/{id:int}/objects/{type}/{object_id:int}", link_by_id, perm=write)
    router.add("DELETE", "/categories/{id:int}/objects/{type}/{object_id:int}", unlink_by_id, perm=write)
    router.add("POST", "/categories/{id:int}/objects/{type}/ref/{object_ref}", link_by_ref, perm=write)
    router.add("DELETE", "/categories/{id:int}/objects/{type}/ref/{object_ref}", unlink_by_ref, perm=write)
    router.add("GET", "/categories/object/{type}/{object_id:int}", categories_for_object, perm=read)
    router.add("GET", "/products/{id:int}/categories", product_categories, perm="produit.read")
