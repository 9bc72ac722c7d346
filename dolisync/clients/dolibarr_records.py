"""Typed Dolibarr REST records, parsed at the edge of :class:`DolibarrClient`.

Contract:

* One frozen pydantic model per object the sync reads; field names as Dolibarr prints them.
  Unknown keys (Dolibarr objects have ~160, some with NUL bytes) are ignored.
* Dolibarr prints the same field as a string when read from the database (``"id": "1"``,
  ``"price": "20.00000000"``) and as a native number when returned by an action in the same
  request (``"id": 6``, ``"total_ttc": 70.74``): every field accepts both (API.md section 2.1).
* Money and rates are :class:`~decimal.Decimal`; ids are ``int`` (``None`` where Dolibarr may
  have none, e.g. ``fk_product`` of a free-text line); dates are aware UTC ``datetime``
  (Unix timestamps, or ``YYYY-MM-DD HH:MM:SS`` for warehouses and payment lines).
* ``array_options`` (extrafields) is always a ``dict`` (Dolibarr prints ``[]`` when empty).
* ``status`` / ``statut``: both spellings are read, ``status`` wins when both are present.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from dolisync.clients.errors import MalformedResponse
from dolisync.clients.fields import AnyDict, DoliDate, Flag, Int, Money, OptInt, OptMoney, Text, parse_int

__all__ = [
    "DoliRecord",
    "DoliProduct",
    "DoliCategory",
    "DoliWarehouse",
    "DoliThirdParty",
    "DoliContact",
    "DoliDocumentLine",
    "DoliOrder",
    "DoliOrderLine",
    "DoliInvoice",
    "DoliInvoiceLine",
    "DoliBankAccount",
    "DoliVatRate",
    "DoliProductStock",
    "DoliVariant",
    "DoliInvoicePayment",
    "DoliMultiCurrency",
    "DoliCompany",
    "DoliPaymentType",
    "parse_doli_record",
]


def _status_alias(data: Any) -> Any:
    """Copy ``statut`` into ``status`` when only the old spelling is present."""
    if isinstance(data, dict) and data.get("status") in (None, "") and "statut" in data:
        data = {**data, "status": data["statut"]}
    return data


class DoliRecord(BaseModel):
    """Base of every Dolibarr record: frozen, unknown keys ignored, ``id`` always an int."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: Int = 0

    @model_validator(mode="before")
    @classmethod
    def _aliases(cls, data: Any) -> Any:
        data = _status_alias(data)
        if isinstance(data, dict) and data.get("id") in (None, "") and data.get("rowid") not in (None, ""):
            data = {**data, "id": data["rowid"]}
        return data


class DoliProduct(DoliRecord):
    """``/products``: ``type`` 0 product, 1 service; ``status`` on sale, ``status_buy`` purchasable.

    ``stock_reel`` is ``None`` unless read with ``includestockdata=1``.
    Units: ``weight_units`` 0 = kg, -3 = g; ``length_units`` -2 = cm.
    """

    ref: Text = ""
    ref_ext: Text = ""
    label: Text = ""
    description: Text = ""
    note_public: Text = ""
    note_private: Text = ""
    type: Int = 0
    status: Flag = False
    status_buy: Flag = False
    price: Money = Decimal(0)
    price_ttc: Money = Decimal(0)
    price_min: Money = Decimal(0)
    price_base_type: Text = "HT"
    tva_tx: Money = Decimal(0)
    localtax1_tx: Money = Decimal(0)
    localtax2_tx: Money = Decimal(0)
    cost_price: OptMoney = None
    barcode: Text = ""
    barcode_type: Int = 0
    weight: OptMoney = None
    weight_units: Int = 0
    length: OptMoney = None
    length_units: Int = 0
    width: OptMoney = None
    width_units: Int = 0
    height: OptMoney = None
    height_units: Int = 0
    stock_reel: OptMoney = None
    fk_product_parent: OptInt = None
    date_creation: DoliDate = None
    date_modification: DoliDate = None
    array_options: AnyDict = Field(default_factory=dict)


class DoliCategory(DoliRecord):
    """``/categories``: ``type`` ``"0"`` product, ``"2"`` customer (text as Dolibarr prints it)."""

    label: Text = ""
    description: Text = ""
    ref_ext: Text = ""
    fk_parent: Int = 0
    type: Text = ""
    visible: Flag = False
    color: Text = ""
    date_modification: DoliDate = None


class DoliWarehouse(DoliRecord):
    """``/warehouses``: ``ref`` (= label in recent versions); ``status`` 1 open."""

    ref: Text = ""
    label: Text = ""
    description: Text = ""
    status: Int = 0
    fk_parent: OptInt = None

    @model_validator(mode="before")
    @classmethod
    def _label_ref(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("ref") and data.get("label"):
            data = {**data, "ref": data["label"]}
        return data


class DoliThirdParty(DoliRecord):
    """``/thirdparties``: ``client`` 1 customer, 2 prospect, 3 both."""

    name: Text = ""
    name_alias: Text = ""
    ref_ext: Text = ""
    code_client: Text = ""
    email: Text = ""
    phone: Text = ""
    address: Text = ""
    zip: Text = ""
    town: Text = ""
    country_id: Int = 0
    country_code: Text = ""
    state_id: Int = 0
    client: Int = 0
    fournisseur: Int = 0
    status: Int = 0
    default_lang: Text = ""
    tva_intra: Text = ""
    idprof1: Text = ""
    multicurrency_code: Text = ""
    note_private: Text = ""
    note_public: Text = ""
    date_creation: DoliDate = None
    date_modification: DoliDate = None
    array_options: AnyDict = Field(default_factory=dict)


class DoliContact(DoliRecord):
    """``/contacts``: an address of a thirdparty (``socid``)."""

    socid: OptInt = None
    ref_ext: Text = ""
    lastname: Text = ""
    firstname: Text = ""
    civility_code: Text = ""
    email: Text = ""
    address: Text = ""
    zip: Text = ""
    town: Text = ""
    country_id: Int = 0
    country_code: Text = ""
    state_id: Int = 0
    phone_pro: Text = ""
    phone_mobile: Text = ""
    default_lang: Text = ""
    status: Int = 0
    date_creation: DoliDate = None
    date_modification: DoliDate = None
    array_options: AnyDict = Field(default_factory=dict)


class DoliDocumentLine(DoliRecord):
    """A line of an order or invoice; ``fk_product`` ``None`` for a free-text line.

    ``subprice`` is the unit price excl. tax (5 decimals), totals are the rounded line totals.
    ``product_type`` 0 product, 1 service.
    """

    fk_product: OptInt = None
    product_ref: Text = ""
    product_label: Text = ""
    label: Text = ""
    desc: Text = ""
    product_type: Int = 0
    qty: Money = Decimal(0)
    subprice: Money = Decimal(0)
    remise_percent: Money = Decimal(0)
    tva_tx: Money = Decimal(0)
    localtax1_tx: Money = Decimal(0)
    localtax2_tx: Money = Decimal(0)
    localtax1_type: Text = ""
    localtax2_type: Text = ""
    total_ht: Money = Decimal(0)
    total_tva: Money = Decimal(0)
    total_localtax1: Money = Decimal(0)
    total_localtax2: Money = Decimal(0)
    total_ttc: Money = Decimal(0)
    multicurrency_subprice: Money = Decimal(0)
    multicurrency_total_ht: Money = Decimal(0)
    multicurrency_total_tva: Money = Decimal(0)
    multicurrency_total_ttc: Money = Decimal(0)
    special_code: Int = 0
    rang: Int = 0
    ref_ext: Text = ""
    array_options: AnyDict = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _free_text_line(cls, data: Any) -> Any:
        # A free-text line has fk_product null or "0": both mean "no product".
        if isinstance(data, dict) and str(data.get("fk_product") or "0") == "0":
            data = {**data, "fk_product": None}
        return data


class DoliOrderLine(DoliDocumentLine):
    """A line of a customer order (``/orders/{id}/lines``)."""

    fk_commande: OptInt = None


class DoliInvoiceLine(DoliDocumentLine):
    """A line of an invoice (``/invoices/{id}/lines``)."""

    fk_facture: OptInt = None


def _line_list(value: object) -> list[Any]:
    """``lines`` as a list (PHP arrays with non-sequential keys come out as JSON objects)."""
    if value is None or value == "":
        return []
    if isinstance(value, dict):
        return list(value.values())
    if not isinstance(value, list):
        raise ValueError("lines is not a list")
    return value


class _SalesDocument(DoliRecord):
    """Fields shared by orders and invoices (amounts in the company currency, except ``multicurrency_*``)."""

    ref: Text = ""
    ref_ext: Text = ""
    ref_client: Text = ""
    socid: OptInt = None
    status: Int = 0
    date: DoliDate = None
    date_creation: DoliDate = None
    date_validation: DoliDate = None
    date_modification: DoliDate = None
    mode_reglement_id: OptInt = None
    mode_reglement_code: Text = ""
    cond_reglement_id: OptInt = None
    total_ht: Money = Decimal(0)
    total_tva: Money = Decimal(0)
    total_localtax1: Money = Decimal(0)
    total_localtax2: Money = Decimal(0)
    total_ttc: Money = Decimal(0)
    multicurrency_code: Text = ""
    multicurrency_tx: Money = Decimal(1)
    multicurrency_total_ht: Money = Decimal(0)
    multicurrency_total_tva: Money = Decimal(0)
    multicurrency_total_ttc: Money = Decimal(0)
    note_private: Text = ""
    note_public: Text = ""
    last_main_doc: Text = ""
    array_options: AnyDict = Field(default_factory=dict)

    @property
    def is_draft(self) -> bool:
        """True while the document has a provisional ``(PROVn)`` ref / status 0."""
        return self.status == 0


class DoliOrder(_SalesDocument):
    """``/orders``: ``status`` 0 draft, 1 validated, 2 shipping, 3 closed, -1 cancelled; ``billed`` 0/1."""

    billed: Flag = False
    shipping_method_id: OptInt = None
    lines: Annotated[list[DoliOrderLine], BeforeValidator(_line_list)] = Field(default_factory=list)


class DoliInvoice(_SalesDocument):
    """``/invoices``: ``type`` 0 standard, 2 credit note, 3 deposit; ``status`` 0 draft, 1 unpaid,
    2 paid, 3 abandoned; ``paye`` 0/1; ``totalpaid``/``remaintopay`` computed on read.
    """

    type: Int = 0
    paye: Flag = False
    totalpaid: Money = Decimal(0)
    remaintopay: Money = Decimal(0)
    fk_facture_source: OptInt = None
    linked_order_ids: list[int] = Field(default_factory=list)
    lines: Annotated[list[DoliInvoiceLine], BeforeValidator(_line_list)] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _linked_orders(cls, data: Any) -> Any:
        if isinstance(data, dict) and "linked_order_ids" not in data:
            linked = data.get("linkedObjectsIds")
            orders = linked.get("commande") if isinstance(linked, dict) else None
            values = orders.values() if isinstance(orders, dict) else orders or []
            data = {**data, "linked_order_ids": [parse_int(v) for v in values]}
        return data


class DoliBankAccount(DoliRecord):
    """``/bankaccounts``: ``type`` 0 savings, 1 current, 2 cash; ``clos`` 1 closed."""

    ref: Text = ""
    label: Text = ""
    type: Int = 0
    currency_code: Text = ""
    country_id: Int = 0
    clos: Flag = False
    balance: OptMoney = None


class DoliVatRate(DoliRecord):
    """A row of ``/setup/dictionary/vat``: ``taux`` (rate %), local taxes and their types.

    ``localtax*_type``: "0" none, "1"/"3"/"5" on net (all/products/services), "2"/"4"/"6" on
    net + VAT. ``localtax*`` may be a list such as ``"-19:-15:-9"`` (kept as text).
    """

    code: Text = ""
    taux: Money = Decimal(0)
    localtax1: Text = "0"
    localtax1_type: Text = "0"
    localtax2: Text = "0"
    localtax2_type: Text = "0"
    fk_pays: Int = 0
    active: Flag = True
    note: Text = ""


class DoliProductStock(BaseModel):
    """``/products/{id}/stock``: real stock overall and per warehouse id."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    stock_reel: Money = Decimal(0)
    stock_theorique: Money = Decimal(0)
    per_warehouse: dict[int, Decimal] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _warehouses(cls, data: Any) -> Any:
        if isinstance(data, dict) and "per_warehouse" not in data:
            raw = data.get("stock_warehouses") or {}
            items = raw.items() if isinstance(raw, dict) else enumerate(raw)
            per: dict[int, Decimal] = {}
            for key, value in items:
                if isinstance(value, dict):
                    warehouse = parse_int(value.get("id", key))
                    per[warehouse] = Decimal(str(value.get("real") or 0))
            data = {**data, "per_warehouse": per}
        return data


class DoliVariant(DoliRecord):
    """``/products/{id}/variants``: a combination linking a parent and a child product."""

    fk_product_parent: Int = 0
    fk_product_child: Int = 0
    variation_price: Money = Decimal(0)
    variation_price_percentage: Flag = False
    variation_weight: Money = Decimal(0)
    variation_ref_ext: Text = ""
    attribute_values: dict[int, int] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _attributes(cls, data: Any) -> Any:
        if isinstance(data, dict) and "attribute_values" not in data:
            pairs = {
                parse_int(item.get("fk_prod_attr")): parse_int(item.get("fk_prod_attr_val"))
                for item in data.get("attributes") or []
                if isinstance(item, dict)
            }
            data = {**data, "attribute_values": pairs}
        return data


class DoliInvoicePayment(BaseModel):
    """An item of ``/invoices/{id}/payments``."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    amount: Money = Decimal(0)
    type: Text = ""
    date: DoliDate = None
    num: Text = ""
    ref: Text = ""
    ref_ext: Text = ""
    fk_bank_line: OptInt = None


class DoliMultiCurrency(DoliRecord):
    """``/multicurrencies``: ``rate`` = units of this currency per 1 company currency."""

    code: Text = ""
    name: Text = ""
    rate: Money = Decimal(1)

    @model_validator(mode="before")
    @classmethod
    def _rate(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("rate"), dict):
            data = {**data, "rate": data["rate"].get("rate")}
        return data


class DoliCompany(BaseModel):
    """``/setup/company``: the Dolibarr owner company (seller country and currency)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    name: Text = ""
    country_id: Int = 0
    country_code: Text = ""
    currency_code: Text = ""
    tva_assuj: Flag = False
    localtax1_assuj: Flag = False
    localtax2_assuj: Flag = False
    default_lang: Text = ""


class DoliPaymentType(DoliRecord):
    """A row of ``/setup/dictionary/payment_types`` (CB = 6, CHQ = 7 ... on a default install)."""

    code: Text = ""
    label: Text = ""
    type: Int = 0


R = TypeVar("R", bound=BaseModel)


def parse_doli_record(record_type: type[R], item: object, *, resource: str) -> R:
    """Validate one JSON object into ``record_type``.

    Raises :class:`dolisync.clients.errors.MalformedResponse` naming the resource, the id and the
    first bad field (values are not echoed).
    """
    try:
        return record_type.model_validate(item)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ()))
        raw_id = item.get("id") if isinstance(item, dict) else None
        raise MalformedResponse(
            remote="dolibarr",
            resource=resource,
            object_id=None if raw_id in (None, "") else str(raw_id)[:20],
            detail=f"field {where!r} has an invalid value ({first.get('type', 'invalid')})",
        ) from None
