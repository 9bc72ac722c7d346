"""The stock data of a PrestaShop 8 shop: languages, currencies, zones, countries, states,
taxes and tax rules, carriers, order states, shop groups, shops and configuration values.

Ids follow a stock PrestaShop 8 install where it has them (France = country 8, United States =
21, order states 1-13, ``PS_OS_WS_PAYMENT`` = 11). Taxes are French-style VAT (20 / 10 / 5.5 /
2.1 %) applied to the EU countries, plus Canada's GST with QST combined (Quebec), GST and PST
one after another (British Columbia, to exercise compound taxes), HST alone (Ontario) and GST
alone (Alberta).

Contract: :func:`build_reference` is deterministic and appends rows to ``tables`` only; the
ids it used are returned in :class:`ReferenceIds` for the catalogue and order generators.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from dolisync.emulators.generator.rows import Row, RowFactory, money6, ps_date, rate3

__all__ = [
    "LANGUAGES",
    "CURRENCIES",
    "COUNTRIES",
    "STATES",
    "CARRIERS",
    "PAYMENT_MODULES",
    "ORDER_STATES",
    "ReferenceIds",
    "build_reference",
    "TAX_GROUP_STANDARD",
    "TAX_GROUP_INTERMEDIATE",
    "TAX_GROUP_REDUCED",
    "TAX_GROUP_SUPER_REDUCED",
]

# (iso, name, locale, language_code, date_format_lite)
LANGUAGES: list[tuple[str, str, str, str, str]] = [
    ("en", "English (English)", "en-US", "en-us", "m/d/Y"),
    ("fr", "Français (French)", "fr-FR", "fr", "d/m/Y"),
    ("es", "Español (Spanish)", "es-ES", "es", "d/m/Y"),
    ("de", "Deutsch (German)", "de-DE", "de", "d.m.Y"),
    ("it", "Italiano (Italian)", "it-IT", "it", "d/m/Y"),
]

# iso -> (numeric iso, English name, French name, symbol, rate against EUR)
CURRENCIES: dict[str, tuple[str, str, str, str, Decimal]] = {
    "EUR": ("978", "Euro", "euro", "€", Decimal("1.000000")),
    "USD": ("840", "US Dollar", "dollar des États-Unis", "$", Decimal("1.083400")),
    "GBP": ("826", "British Pound", "livre sterling", "£", Decimal("0.856200")),
    "CAD": ("124", "Canadian Dollar", "dollar canadien", "$", Decimal("1.497300")),
}

ZONES: list[tuple[int, str]] = [
    (1, "Europe"), (2, "North America"), (3, "Asia"), (4, "Africa"), (5, "Oceania"),
    (6, "South America"), (7, "Europe (non-EU)"), (8, "Central America/Antilla"),
]

# id -> (iso, zone, call prefix, zip format, contains states, English name, French name, EU)
COUNTRIES: dict[int, tuple[str, int, str, str, bool, str, str, bool]] = {
    1: ("DE", 1, "49", "NNNNN", False, "Germany", "Allemagne", True),
    2: ("AT", 1, "43", "NNNN", False, "Austria", "Autriche", True),
    3: ("BE", 1, "32", "NNNN", False, "Belgium", "Belgique", True),
    4: ("CA", 2, "1", "LNL NLN", True, "Canada", "Canada", False),
    6: ("ES", 1, "34", "NNNNN", False, "Spain", "Espagne", True),
    8: ("FR", 1, "33", "NNNNN", False, "France", "France", True),
    10: ("IT", 1, "39", "NNNNN", False, "Italy", "Italie", True),
    12: ("LU", 1, "352", "NNNN", False, "Luxembourg", "Luxembourg", True),
    13: ("NL", 1, "31", "NNNN LL", False, "Netherlands", "Pays-Bas", True),
    17: ("GB", 7, "44", "", False, "United Kingdom", "Royaume-Uni", False),
    19: ("CH", 7, "41", "NNNN", False, "Switzerland", "Suisse", False),
    21: ("US", 2, "1", "NNNNN", True, "United States", "États-Unis", False),
}
EU_COUNTRIES = [cid for cid, c in COUNTRIES.items() if c[7]]

# id -> (country id, zone, iso, name)
STATES: dict[int, tuple[int, int, str, str]] = {
    5: (21, 2, "CA", "California"),
    9: (21, 2, "FL", "Florida"),
    32: (21, 2, "NY", "New York"),
    89: (4, 2, "AB", "Alberta"),
    90: (4, 2, "BC", "British Columbia"),
    97: (4, 2, "ON", "Ontario"),
    99: (4, 2, "QC", "Quebec"),
}
STATE_QC, STATE_BC, STATE_ON, STATE_AB = 99, 90, 97, 89

TAX_GROUP_STANDARD = 1
TAX_GROUP_INTERMEDIATE = 2
TAX_GROUP_REDUCED = 3
TAX_GROUP_SUPER_REDUCED = 4

# id -> (rate, English name, French name)
TAXES: dict[int, tuple[Decimal, str, str]] = {
    1: (Decimal("20.000"), "TVA FR 20%", "TVA FR 20%"),
    2: (Decimal("10.000"), "TVA FR 10%", "TVA FR 10%"),
    3: (Decimal("5.500"), "TVA FR 5.5%", "TVA FR 5.5%"),
    4: (Decimal("2.100"), "TVA FR 2.1%", "TVA FR 2.1%"),
    5: (Decimal("5.000"), "GST CA 5%", "TPS CA 5%"),
    6: (Decimal("9.975"), "QST QC 9.975%", "TVQ QC 9,975%"),
    7: (Decimal("7.000"), "PST BC 7%", "TVP BC 7%"),
    8: (Decimal("13.000"), "HST ON 13%", "TVH ON 13%"),
}

# group id -> (name, EU tax id, Canadian rules: [(state, tax, behavior)])
_CA_FULL = [
    (STATE_QC, 5, 1), (STATE_QC, 6, 1),  # combine: 14.975 %
    (STATE_BC, 5, 2), (STATE_BC, 7, 2),  # one after another: 12.35 %
    (STATE_ON, 8, 0),                    # HST alone
    (STATE_AB, 5, 0),                    # GST alone
]
TAX_GROUPS: dict[int, tuple[str, int, list[tuple[int, int, int]]]] = {
    TAX_GROUP_STANDARD: ("FR Taux standard (20%)", 1, _CA_FULL),
    TAX_GROUP_INTERMEDIATE: ("FR Taux réduit (10%)", 2, _CA_FULL),
    TAX_GROUP_REDUCED: ("FR Taux réduit (5.5%)", 3, [(s, 5, 0) for s in (STATE_QC, STATE_BC, STATE_ON, STATE_AB)]),
    TAX_GROUP_SUPER_REDUCED: ("FR Taux super réduit (2.1%)", 4, []),
}

# id -> (name, tax rules group, range price tax excl in default currency, is_free, delay en, delay fr, url)
CARRIERS: dict[int, tuple[str, int, Decimal, bool, str, str, str]] = {
    1: ("Click and collect", 0, Decimal("0"), True, "Pick up in-store", "Retrait en magasin", ""),
    2: ("My carrier", TAX_GROUP_STANDARD, Decimal("7.000000"), False, "Delivery next day!",
        "Livraison le lendemain !", "https://track.example.com/@"),
    3: ("Express", TAX_GROUP_STANDARD, Decimal("12.490000"), False, "Within 24 hours",
        "Sous 24 heures", "https://express.example.com/track/@"),
    4: ("Eco parcel", TAX_GROUP_INTERMEDIATE, Decimal("4.583333"), False, "3 to 5 days",
        "3 à 5 jours", ""),
}

# module -> (order "payment" text, order_payments.payment_method, first state)
PAYMENT_MODULES: dict[str, tuple[str, str, int]] = {
    "ps_checkpayment": ("Payment by check", "Payments by check", 1),
    "ps_wirepayment": ("Bank wire", "Bank wire", 10),
    "ps_cashondelivery": ("Cash on delivery (COD)", "Cash on delivery", 13),
    "ps_checkout": ("Card payment", "Card payment", 2),
}

# id -> (en, fr, template, flags: invoice logable paid shipped delivery, color, module_name,
#        send_email, pdf_invoice, pdf_delivery)
ORDER_STATES: dict[int, tuple[str, str, str, tuple[int, int, int, int, int], str, str, int, int, int]] = {
    1: ("Awaiting check payment", "En attente du paiement par chèque", "cheque", (0, 0, 0, 0, 0), "#34209E", "ps_checkpayment", 1, 0, 0),
    2: ("Payment accepted", "Paiement accepté", "payment", (1, 1, 1, 0, 0), "#3498D8", "", 1, 1, 0),
    3: ("Processing in progress", "En cours de préparation", "preparation", (1, 1, 1, 0, 1), "#3498D8", "", 1, 0, 0),
    4: ("Shipped", "Expédié", "shipped", (1, 1, 1, 1, 1), "#01B887", "", 1, 0, 0),
    5: ("Delivered", "Livré", "", (1, 1, 1, 1, 1), "#01B887", "", 0, 0, 0),
    6: ("Canceled", "Annulé", "order_canceled", (0, 0, 0, 0, 0), "#2C3E50", "", 1, 0, 0),
    7: ("Refunded", "Remboursé", "refund", (1, 0, 0, 0, 0), "#01B887", "", 1, 0, 0),
    8: ("Payment error", "Erreur de paiement", "payment_error", (0, 0, 0, 0, 0), "#E74C3C", "", 1, 0, 0),
    9: ("On backorder (paid)", "En attente de réapprovisionnement (payé)", "outofstock", (1, 0, 1, 0, 0), "#3498D8", "", 1, 0, 0),
    10: ("Awaiting bank wire payment", "En attente de virement bancaire", "bankwire", (0, 0, 0, 0, 0), "#34209E", "ps_wirepayment", 1, 0, 0),
    11: ("Remote payment accepted", "Paiement à distance accepté", "payment", (1, 1, 1, 0, 0), "#3498D8", "", 1, 0, 0),
    12: ("On backorder (not paid)", "En attente de réapprovisionnement (non payé)", "outofstock", (0, 0, 0, 0, 0), "#34209E", "", 1, 0, 0),
    13: ("Awaiting Cash On Delivery validation", "En attente de validation du paiement à la livraison", "cashondelivery", (0, 0, 0, 0, 0), "#34209E", "ps_cashondelivery", 0, 0, 0),
}

GIFT_WRAPPING_PRICE = Decimal("2.500000")
GIFT_WRAPPING_TAX_GROUP = TAX_GROUP_STANDARD


@dataclass(slots=True)
class ReferenceIds:
    """Ids created by :func:`build_reference` that the other generators need."""

    language_ids: list[int]
    currency_ids: dict[str, int]
    default_currency: str
    default_country: int
    shop_ids: list[int]
    shop_root_categories: dict[int, int]
    root_category: int = 1
    shop_group: int = 1
    conversion_rates: dict[int, Decimal] = field(default_factory=dict)


def _ml(rows: RowFactory, en: str, fr: str) -> dict[int, str]:
    out = {}
    for lang in rows.language_ids:
        out[lang] = fr if lang == 2 else en
    return out


def build_reference(
    tables: dict[str, list[Row]],
    rows: RowFactory,
    *,
    shops: int,
    default_currency: str,
    default_country: int,
    epoch: datetime,
    shop_name: str,
) -> ReferenceIds:
    """Append every stock resource row to ``tables`` and return the ids used."""
    stamp = ps_date(epoch)
    add = lambda resource, row: tables.setdefault(resource, []).append(row)  # noqa: E731
    for lang_id in rows.language_ids:
        iso, name, locale, code, lite = LANGUAGES[lang_id - 1]
        add("languages", rows.blank(
            "languages", id=str(lang_id), name=name, iso_code=iso, locale=locale,
            language_code=code, active="1", is_rtl="0", date_format_lite=lite,
            date_format_full=lite + " H:i:s"))

    base_rate = CURRENCIES[default_currency][4]
    currency_ids: dict[str, int] = {}
    conversion: dict[int, Decimal] = {}
    ordered = [default_currency] + [c for c in CURRENCIES if c != default_currency]
    for index, iso in enumerate(ordered, start=1):
        numeric, en, fr, symbol, rate = CURRENCIES[iso]
        relative = (rate / base_rate).quantize(Decimal("0.000001"))
        currency_ids[iso] = index
        conversion[index] = relative
        add("currencies", rows.blank(
            "currencies", id=str(index), names=_ml(rows, en, fr), name=en,
            symbol=rows.text(symbol), iso_code=iso, numeric_iso_code=numeric, precision="2",
            conversion_rate=money6(relative), deleted="0", active="1", unofficial="0",
            modified="0", pattern=rows.text("")))

    for zone_id, zone_name in ZONES:
        add("zones", rows.blank("zones", id=str(zone_id), name=zone_name, active="1"))
    for cid, (iso, zone, prefix, zip_format, has_states, en, fr, _eu) in COUNTRIES.items():
        add("countries", rows.blank(
            "countries", id=str(cid), id_zone=str(zone), id_currency="0", call_prefix=prefix,
            iso_code=iso, active="1", contains_states="1" if has_states else "0",
            need_identification_number="0", need_zip_code="1" if zip_format else "0",
            zip_code_format=zip_format, display_tax_label="1", name=_ml(rows, en, fr)))
    for sid, (country, zone, iso, name) in STATES.items():
        add("states", rows.blank("states", id=str(sid), id_zone=str(zone), id_country=str(country),
                                 iso_code=iso, name=name, active="1"))

    for tid, (rate, en, fr) in TAXES.items():
        add("taxes", rows.blank("taxes", id=str(tid), rate=rate3(rate), active="1", deleted="0",
                                name=_ml(rows, en, fr)))
    rule_id = 0
    for gid, (name, eu_tax, ca_rules) in TAX_GROUPS.items():
        add("tax_rule_groups", rows.blank("tax_rule_groups", id=str(gid), name=name, active="1",
                                          deleted="0", date_add=stamp, date_upd=stamp))
        for country in EU_COUNTRIES:
            rule_id += 1
            add("tax_rules", rows.blank(
                "tax_rules", id=str(rule_id), id_tax_rules_group=str(gid), id_state="0",
                id_country=str(country), zipcode_from="0", zipcode_to="0", id_tax=str(eu_tax),
                behavior="0", description=""))
        for state, tax, behavior in ca_rules:
            rule_id += 1
            add("tax_rules", rows.blank(
                "tax_rules", id=str(rule_id), id_tax_rules_group=str(gid), id_state=str(state),
                id_country="4", zipcode_from="0", zipcode_to="0", id_tax=str(tax),
                behavior=str(behavior), description=STATES[state][3]))

    for cid, (name, group, _price, is_free, delay_en, delay_fr, url) in CARRIERS.items():
        add("carriers", rows.blank(
            "carriers", id=str(cid), deleted="0", is_module="0", id_tax_rules_group=str(group),
            id_reference=str(cid), name=name, active="1", is_free="1" if is_free else "0",
            url=url, shipping_handling="0", shipping_external="0", range_behavior="0",
            shipping_method="1" if not is_free else "0", max_width="0", max_height="0",
            max_depth="0", max_weight="0.000000", grade="0", external_module_name="",
            need_range="0", position=str(cid - 1), delay=_ml(rows, delay_en, delay_fr)))

    for sid, (en, fr, template, flags, color, module, send_email, pdf_inv, pdf_del) in ORDER_STATES.items():
        invoice, logable, paid, shipped, delivery = flags
        add("order_states", rows.blank(
            "order_states", id=str(sid), unremovable="1", delivery=str(delivery), hidden="0",
            send_email=str(send_email), module_name=module, invoice=str(invoice), color=color,
            logable=str(logable), shipped=str(shipped), paid=str(paid),
            pdf_delivery=str(pdf_del), pdf_invoice=str(pdf_inv), deleted="0",
            name=_ml(rows, en, fr), template=rows.text(template)))

    add("shop_groups", rows.blank("shop_groups", id="1", name="Default", color="", share_customer="0",
                                  share_order="0", share_stock="0", active="1", deleted="0"))
    # Category 1 is "Root"; each shop gets its own root category (shop 1: "Home" = 2).
    shop_ids = list(range(1, shops + 1))
    roots = {shop_id: shop_id + 1 for shop_id in shop_ids}
    for shop_id in shop_ids:
        add("shops", rows.blank(
            "shops", id=str(shop_id), id_shop_group="1", id_category=str(roots[shop_id]),
            active="1", deleted="0", name=shop_name if shop_id == 1 else f"{shop_name} {shop_id}",
            color="", theme_name="classic"))

    _configurations(tables, rows, stamp, default_country, currency_ids[default_currency],
                    shop_name, multishop=shops > 1)
    return ReferenceIds(
        language_ids=rows.language_ids,
        currency_ids=currency_ids,
        default_currency=default_currency,
        default_country=default_country,
        shop_ids=shop_ids,
        shop_root_categories=roots,
        conversion_rates=conversion,
    )


def _configurations(
    tables: dict[str, list[Row]],
    rows: RowFactory,
    stamp: str,
    default_country: int,
    default_currency_id: int,
    shop_name: str,
    *,
    multishop: bool,
) -> None:
    values: list[tuple[str, str]] = [
        ("PS_LANG_DEFAULT", "1"),
        ("PS_CURRENCY_DEFAULT", str(default_currency_id)),
        ("PS_COUNTRY_DEFAULT", str(default_country)),
        ("PS_SHOP_DEFAULT", "1"),
        ("PS_SHOP_NAME", shop_name),
        ("PS_SHOP_EMAIL", "shop@example.com"),
        ("PS_SHOP_DOMAIN", "127.0.0.1"),
        ("PS_SHOP_ENABLE", "1"),
        ("PS_SHOP_COUNTRY_ID", str(default_country)),
        ("PS_SHOP_STATE_ID", str(STATE_QC) if default_country == 4 else "0"),  # the merchant's own address
        ("PS_TIMEZONE", "Europe/Paris" if default_country != 4 else "America/Toronto"),
        ("PS_ROUND_TYPE", "2"),
        ("PS_PRICE_ROUND_MODE", "2"),
        ("PS_PRICE_DISPLAY_PRECISION", "2"),
        ("PS_TAX", "1"),
        ("PS_TAX_ADDRESS_TYPE", "id_address_delivery"),
        ("PS_TAX_DISPLAY", "0"),
        ("PS_USE_ECOTAX", "0"),
        ("PS_STOCK_MANAGEMENT", "1"),
        ("PS_ORDER_OUT_OF_STOCK", "0"),
        ("PS_GIFT_WRAPPING", "1"),
        ("PS_GIFT_WRAPPING_PRICE", f"{GIFT_WRAPPING_PRICE.normalize():f}"),
        ("PS_GIFT_WRAPPING_TAX_RULES_GROUP", str(GIFT_WRAPPING_TAX_GROUP)),
        ("PS_CARRIER_DEFAULT", "2"),
        ("PS_SHIPPING_HANDLING", "0"),
        ("PS_SHIPPING_FREE_PRICE", "0"),
        ("PS_CART_RULE_FEATURE_ACTIVE", "1"),
        ("PS_MULTISHOP_FEATURE_ACTIVE", "1" if multishop else "0"),
        ("PS_WEBSERVICE", "1"),
        ("PS_INVOICE", "1"),
        ("PS_INVOICE_PREFIX", "#IN"),
        ("PS_DELIVERY_PREFIX", "#DE"),
        ("PS_INVOICE_START_NUMBER", "0"),
        ("PS_WEIGHT_UNIT", "kg"),
        ("PS_DIMENSION_UNIT", "cm"),
        ("PS_GUEST_CHECKOUT_ENABLED", "1"),
        ("PS_CUSTOMER_GROUP", "3"),
        ("PS_GUEST_GROUP", "2"),
        ("PS_UNIDENTIFIED_GROUP", "1"),
        ("PS_OS_CHEQUE", "1"),
        ("PS_OS_PAYMENT", "2"),
        ("PS_OS_PREPARATION", "3"),
        ("PS_OS_SHIPPING", "4"),
        ("PS_OS_DELIVERED", "5"),
        ("PS_OS_CANCELED", "6"),
        ("PS_OS_REFUND", "7"),
        ("PS_OS_ERROR", "8"),
        ("PS_OS_OUTOFSTOCK", "9"),
        ("PS_OS_OUTOFSTOCK_PAID", "9"),
        ("PS_OS_BANKWIRE", "10"),
        ("PS_OS_WS_PAYMENT", "11"),
        ("PS_OS_OUTOFSTOCK_UNPAID", "12"),
        ("PS_OS_COD_VALIDATION", "13"),
        ("PS_VERSION_DB", "8.2.1"),
    ]
    table = tables.setdefault("configurations", [])
    for index, (name, value) in enumerate(values, start=1):
        table.append(rows.blank("configurations", id=str(index), value=value, name=name,
                                id_shop_group="", id_shop="", date_add=stamp, date_upd=stamp))
