"""Typed, precomputed view of ``resources.json`` (the PrestaShop 8.2.1 resource tables).

Contract: :func:`load_schema` parses the packaged ``resources.json`` once per process (cached)
and returns a :class:`Schema` whose :class:`ResourceSpec` objects carry everything a request
needs (field order, flags, xlinks, association headers) so that no request re-reads the file.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any

__all__ = ["FieldSpec", "AssocFieldSpec", "AssocSpec", "ResourceSpec", "Schema", "load_schema"]

_RESOURCES_FILE = Path(__file__).with_name("resources.json")
_DECIMAL_RE = re.compile(r"decimal\(\s*(\d+)\s*,\s*(\d+)\s*\)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One webservice field of a resource, as declared in resources.json."""

    name: str
    type: str
    required: bool = False
    multilang: bool = False
    read_only: bool = False
    computed: bool = False
    not_filterable: bool = False
    hidden: bool = False
    needs_date: bool = False
    shop_specific: bool = False
    validate: tuple[str, ...] = ()
    size: int | None = None
    allowed_values: tuple[str, ...] | None = None
    default: str | None = None
    xlink_resource: str | None = None
    xlink_sub: str | None = None
    db_type: str = ""
    synopsis_read_only: bool = False
    setter: str | bool | None = None
    modifier_on: tuple[str, ...] = ()
    allow_null: bool = False

    @property
    def scale(self) -> int | None:
        """Decimal places of the DB column (``decimal(20,6)`` -> 6), else None."""
        match = _DECIMAL_RE.search(self.db_type)
        return int(match.group(2)) if match else None

    def normalize(self, value: str) -> str:
        """Return ``value`` as the shop stores and prints it (ObjectModel casts, column scale).

        ``19.9`` -> ``19.900000`` for decimal(20,6); empty int/bool/float -> ``0`` (PHP casts
        before saving) unless the field allows NULL; empty datetime -> ``0000-00-00 00:00:00``.
        """
        if self.multilang or self.type in ("string", "html", "nothing"):
            return value
        if self.type == "virtual":
            if "int" not in self.db_type.lower():
                return value
            return str(int(Decimal(value.strip()))) if value.strip().lstrip("-").isdigit() else "0"
        text = value.strip()
        if self.type == "date":
            if text:
                return value
            kind = self.db_type.lower()
            if kind.startswith("datetime"):
                return "0000-00-00 00:00:00"
            return "0000-00-00" if kind.startswith("date") else ""
        if text == "" and self.allow_null:
            return ""
        if self.type == "bool" and text.lower() in ("true", "false"):
            return "1" if text.lower() == "true" else "0"
        try:
            number = Decimal(text or "0")
        except (InvalidOperation, ValueError):
            return value
        if self.type == "bool":
            return "1" if number != 0 else "0"
        if self.type == "int":
            return str(int(number))
        scale = self.scale
        return f"{number:.{scale}f}" if scale is not None else str(number)


@dataclass(frozen=True, slots=True)
class AssocFieldSpec:
    """A sub-field of an association item."""

    name: str
    required: bool = False
    read_only: bool = False
    xlink_resource: str | None = None


@dataclass(frozen=True, slots=True)
class AssocSpec:
    """One association of a resource (``<categories nodeType="category" api="categories">``)."""

    name: str
    item_node: str
    api: str | None
    virtual_entity: bool
    writable: bool
    fields: tuple[AssocFieldSpec, ...]


@dataclass(slots=True)
class ResourceSpec:
    """A webservice resource with precomputed lookups."""

    name: str
    description: str
    list_node: str
    item_node: str
    class_name: str
    fields: tuple[FieldSpec, ...]
    associations: tuple[AssocSpec, ...]
    allowed_methods: tuple[str, ...]
    forbidden_methods: tuple[str, ...]
    shop_association: bool
    has_id_shop_column: bool
    multilang: bool
    by_name: dict[str, FieldSpec] = field(default_factory=dict)
    assoc_by_name: dict[str, AssocSpec] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by_name = {f.name: f for f in self.fields}
        self.assoc_by_name = {a.name: a for a in self.associations}

    @property
    def visible_fields(self) -> tuple[FieldSpec, ...]:
        """Fields rendered on output (hidden ones removed)."""
        return tuple(f for f in self.fields if not f.hidden)

    def filterable_names(self, with_dates: bool) -> list[str]:
        """Field names accepted by ``filter``/``sort`` (non multilang, non hidden)."""
        return [
            f.name
            for f in self.fields
            if not f.hidden and not f.multilang and (with_dates or not f.needs_date)
        ]


@dataclass(slots=True)
class Schema:
    """All resources, by name, in resources.json order."""

    resources: dict[str, ResourceSpec]
    descriptions: dict[str, str]


def _field(raw: dict[str, Any]) -> FieldSpec:
    xlink = raw.get("xlink_resource")
    xlink_resource: str | None = None
    xlink_sub: str | None = None
    if isinstance(xlink, str):
        xlink_resource = xlink
    elif isinstance(xlink, dict):
        xlink_resource = xlink.get("resourceName")
        xlink_sub = xlink.get("subResourceName")
    modifier = raw.get("modifier") or {}
    values = raw.get("definition_values")
    return FieldSpec(
        name=raw["name"],
        type=raw.get("type", "string"),
        required=bool(raw.get("required")),
        multilang=bool(raw.get("multilang")),
        read_only=bool(raw.get("read_only")),
        computed=bool(raw.get("computed")),
        not_filterable=bool(raw.get("not_filterable")),
        hidden=bool(raw.get("hidden")),
        needs_date=bool(raw.get("filter_requires_date_param")),
        shop_specific=bool(raw.get("definition_shop")),
        validate=tuple(raw.get("validate") or ()),
        size=raw.get("size") if isinstance(raw.get("size"), int) else None,
        allowed_values=tuple(values) if values else None,
        default=raw.get("definition_default"),
        xlink_resource=xlink_resource,
        xlink_sub=xlink_sub,
        db_type=raw.get("db_type", ""),
        synopsis_read_only=bool(raw.get("synopsis_marks_read_only_but_writable")),
        setter=raw.get("setter"),
        modifier_on=tuple(modifier.get("applied_on") or ()),
        allow_null=bool(raw.get("definition_allow_null")),
    )


def _assoc(raw: dict[str, Any]) -> AssocSpec:
    fields = tuple(
        AssocFieldSpec(
            name=f["name"],
            required=bool(f.get("required")),
            read_only=bool(f.get("read_only")),
            xlink_resource=f.get("xlink_resource"),
        )
        for f in raw.get("fields") or [{"name": "id"}]
    )
    return AssocSpec(
        name=raw["name"],
        item_node=raw["item_node"],
        api=raw.get("api"),
        virtual_entity=bool(raw.get("virtual_entity")),
        writable=bool(raw.get("writable")),
        fields=fields,
    )


@lru_cache(maxsize=1)
def load_schema() -> Schema:
    """Parse the packaged resources.json once and return the typed schema."""
    data = json.loads(_RESOURCES_FILE.read_text(encoding="utf-8"))
    resources: dict[str, ResourceSpec] = {}
    descriptions: dict[str, str] = {}
    for name, raw in data["resources"].items():
        descriptions[name] = raw.get("description", "")
        if raw.get("specific_management"):
            continue
        resources[name] = ResourceSpec(
            name=name,
            description=raw.get("description", ""),
            list_node=raw["xml_list_node"],
            item_node=raw["xml_item_node"],
            class_name=raw.get("class") or "",
            fields=tuple(_field(f) for f in raw["fields"]),
            associations=tuple(_assoc(a) for a in raw.get("associations") or ()),
            allowed_methods=tuple(raw.get("allowed_methods") or ()),
            forbidden_methods=tuple(raw.get("forbidden_methods") or ()),
            shop_association=bool(raw.get("shop_association")),
            has_id_shop_column=bool(raw.get("has_id_shop_column")),
            multilang=bool(raw.get("multilang")),
        )
    return Schema(resources=resources, descriptions=descriptions)
