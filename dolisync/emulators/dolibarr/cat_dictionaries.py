"""Static dictionary rows of the emulated Dolibarr (``llx_c_*`` tables), as the API prints them.

Countries keep Dolibarr's ids (France 1, Spain 4, Germany 5, USA 11 ...); only a subset of
the real table is included. Rows are returned as fresh dicts by the functions below.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "countries", "states", "currencies", "payment_types", "payment_terms", "shipping_methods",
    "units", "civilities", "contact_types", "find_country",
]

# id, code, iso3, numeric, label, eec
_COUNTRIES: tuple[tuple[int, str, str | None, str | None, str, str], ...] = (
    (0, "", None, None, "-", "0"), (1, "FR", "FRA", "250", "France", "1"), (2, "BE", "BEL", "056", "Belgium", "1"),
    (3, "IT", "ITA", "380", "Italy", "1"), (4, "ES", "ESP", "724", "Spain", "1"), (5, "DE", "DEU", "276", "Germany", "1"),
    (6, "CH", "CHE", "756", "Switzerland", "0"), (7, "GB", "GBR", "826", "United Kingdom", "0"),
    (8, "IE", "IRL", "372", "Ireland", "1"), (9, "CN", "CHN", "156", "China", "0"), (10, "TN", "TUN", "788", "Tunisia", "0"),
    (11, "US", "USA", "840", "United States", "0"), (12, "MA", "MAR", "504", "Morocco", "0"),
    (13, "DZ", "DZA", "012", "Algeria", "0"), (14, "CA", "CAN", "124", "Canada", "0"),
    (17, "NL", "NLD", "528", "Netherlands", "1"), (20, "SE", "SWE", "752", "Sweden", "1"),
    (25, "PT", "PRT", "620", "Portugal", "1"), (27, "MC", "MCO", "492", "Monaco", "0"),
    (28, "AU", "AUS", "036", "Australia", "0"), (34, "AD", "AND", "020", "Andorra", "0"),
    (41, "AT", "AUT", "040", "Austria", "1"), (56, "BR", "BRA", "076", "Brazil", "0"),
    (80, "DK", "DNK", "208", "Denmark", "1"), (102, "GR", "GRC", "300", "Greece", "1"),
    (123, "JP", "JPN", "392", "Japan", "0"), (140, "LU", "LUX", "442", "Luxembourg", "1"),
    (154, "MX", "MEX", "484", "Mexico", "0"), (184, "PL", "POL", "616", "Poland", "1"),
    (227, "AE", "ARE", "784", "United Arab Emirates", "0"),
)

_STATES: tuple[tuple[int, int, str, str], ...] = (  # id, country id, code, name
    (305, 1, "01", "Ain"), (306, 1, "02", "Aisne"), (307, 1, "03", "Allier"),
    (308, 1, "04", "Alpes-de-Haute-Provence"), (309, 1, "05", "Hautes-Alpes"), (379, 1, "75", "Paris"),
    (389, 1, "13", "Bouches-du-Rhône"), (1101, 11, "CA", "California"), (1102, 11, "NY", "New York"),
    (1103, 11, "TX", "Texas"), (1201, 14, "QC", "Quebec"), (1202, 14, "ON", "Ontario"),
    (1301, 4, "M", "Madrid"), (1302, 4, "B", "Barcelona"),
)

_CURRENCIES: tuple[tuple[str, str, str], ...] = (
    ("AUD", "Australia Dollar", "[36]"), ("BRL", "Brazil Real", "[82,36]"), ("CAD", "Canada Dollar", "[36]"),
    ("CHF", "Switzerland Franc", "[67,72,70]"), ("CNY", "China Yuan Renminbi", "[165]"),
    ("DKK", "Denmark Krone", "[107,114]"), ("EUR", "Euro Member Countries", "[8364]"),
    ("GBP", "United Kingdom Pound", "[163]"), ("JPY", "Japan Yen", "[165]"), ("MXN", "Mexico Peso", "[36]"),
    ("PLN", "Poland Zloty", "[122,322]"), ("SEK", "Sweden Krona", "[107,114]"), ("USD", "United States Dollar", "[36]"),
)

_PAYMENT_TYPES = ((6, "CB", "Credit card"), (7, "CHQ", "Cheque"), (4, "LIQ", "Cash"), (3, "PRE", "Direct Debit"),
                  (2, "VIR", "Credit Transfer"))

_PAYMENT_TERMS = (
    (1, "RECEP", 1, "Due upon receipt", "Due upon receipt", 0, 1), (2, "30D", 5, "30 days", "Due in 30 days", 0, 30),
    (3, "30DENDMONTH", 7, "30 days end of month", "Due in 30 days, end of month", 1, 30),
    (14, "45D", 10, "45 days", "Due in 45 days", 0, 45),
    (15, "45DENDMONTH", 15, "45 days end of month", "Due in 45 days, end of month", 1, 45),
    (4, "60D", 20, "60 days", "Due in 60 days", 0, 60), (6, "PT_ORDER", 30, "Due on order", "Due on order", 0, 1),
    (7, "PT_DELIVERY", 35, "Due on delivery", "Due on delivery", 0, 1),
    (8, "PT_5050", 40, "50 and 50", "50% on order, 50% on delivery", 0, 1),
    (9, "10D", 50, "10 days", "Due in 10 days", 0, 10),
    (10, "10DENDMONTH", 55, "10 days end of month", "Due in 10 days, end of month", 1, 10),
    (11, "14D", 60, "14 days", "Due in 14 days", 0, 14),
    (12, "14DENDMONTH", 65, "14 days end of month", "Due in 14 days, end of month", 1, 14),
)

_SHIPPING = (
    (1, "CATCH", "In-Store Collection", "In-store collection by the customer", ""),
    (2, "TRANS", "Generic transport service", "Generic transport service", ""),
    (5, "UPS", "UPS", "United Parcel Service",
     "http://wwwapps.ups.com/etracking/tracking.cgi?InquiryNumber2=&InquiryNumber3=&tracknums_displayed=3&loc=fr_FR"
     "&TypeOfInquiryNumber=T&HTMLVersion=4.0&InquiryNumber22=&InquiryNumber32=&track=Track&Suivi.x=64&Suivi.y=7"
     "&Suivi=Valider&InquiryNumber1={TRACKID}"),
)

_UNITS = (
    (1, "T", "WeightUnitton", "T", 3, "weight"), (2, "KG", "WeightUnitkg", "kg", 0, "weight"),
    (3, "G", "WeightUnitg", "g", -3, "weight"), (4, "MG", "WeightUnitmg", "mg", -6, "weight"),
    (5, "OZ", "WeightUnitounce", "Oz", 98, "weight"), (6, "LB", "WeightUnitpound", "lb", 99, "weight"),
    (7, "M", "SizeUnitm", "m", 0, "size"), (8, "DM", "SizeUnitdm", "dm", -1, "size"),
    (9, "CM", "SizeUnitcm", "cm", -2, "size"), (10, "MM", "SizeUnitmm", "mm", -3, "size"),
    (15, "P", "Piece", "p", 0, "qty"),
)

_CIVILITIES = ((5, "DR", "Docteur"), (3, "MLE", "Mademoiselle"), (1, "MME", "Madame"), (2, "MR", "Monsieur"),
               (4, "MTRE", "Maître"))

_CONTACT_TYPES = (
    (23, "BILLING", "commande", "Contact client facturation commande", "external"),
    (24, "CUSTOMER", "commande", "Contact client suivi commande", "external"),
    (22, "SALESREPFOLL", "commande", "Responsable suivi de la commande", "internal"),
    (25, "SHIPPING", "commande", "Contact client livraison commande", "external"),
    (60, "BILLING", "facture", "Contact client facturation", "external"),
    (61, "SHIPPING", "facture", "Contact client livraison", "external"),
    (62, "SERVICE", "facture", "Contact client prestation", "external"),
    (50, "SALESREPFOLL", "facture", "Responsable suivi du paiement", "internal"),
)


def countries() -> list[dict[str, Any]]:
    """Country rows (``id`` int, ``active`` int, like the real answer)."""
    return [{"id": cid, "entity": None, "code": code, "label": label, "active": 1, "code_iso": iso,
             "eec": eec, "favorite": "1" if cid == 0 else "0", "numeric_code": num}
            for cid, code, iso, num, label, eec in _COUNTRIES]


def find_country(*, country_id: int | None = None, code: str | None = None, iso: str | None = None) -> dict[str, Any] | None:
    """The country row by id, ISO-2 code or ISO-3 code (case-insensitive), or ``None``."""
    for row in countries():
        if country_id is not None and row["id"] == country_id:
            return row
        if code is not None and row["code"] and row["code"] == code.upper():
            return row
        if iso is not None and row["code_iso"] and row["code_iso"] == iso.upper():
            return row
    return None


def states() -> list[dict[str, Any]]:
    """State/department rows with their country id under ``fk_country`` (removed on output)."""
    return [{"id": str(sid), "entity": None, "code": code, "label": None, "active": "1", "code_departement": code,
             "name": name, "nom": name, "fk_country": cid} for sid, cid, code, name in _STATES]


def currencies() -> list[dict[str, Any]]:
    return [{"code_iso": code, "label": label, "unicode": uni} for code, label, uni in _CURRENCIES]


def payment_types() -> list[dict[str, Any]]:
    return [{"id": str(pid), "code": code, "type": "2", "label": label, "module": None}
            for pid, code, label in _PAYMENT_TYPES]


def payment_terms() -> list[dict[str, Any]]:
    return [{"id": str(i), "code": c, "sortorder": str(s), "label": lbl, "descr": d, "type_cdr": str(t),
             "nbjour": str(n), "decalage": None, "module": None} for i, c, s, lbl, d, t, n in _PAYMENT_TERMS]


def shipping_methods() -> list[dict[str, Any]]:
    return [{"id": str(i), "code": c, "label": lbl, "description": d, "tracking": t, "module": None}
            for i, c, lbl, d, t in _SHIPPING]


def units() -> list[dict[str, Any]]:
    return [{"rowid": str(i), "code": c, "label": lbl, "short_label": s, "active": "1", "scale": str(sc),
             "unit_type": ut} for i, c, lbl, s, sc, ut in _UNITS]


def civilities() -> list[dict[str, Any]]:
    return [{"rowid": str(i), "code": c, "label": lbl, "module": None} for i, c, lbl in _CIVILITIES]


def contact_types() -> list[dict[str, Any]]:
    return [{"rowid": str(i), "code": c, "type": t, "label": lbl, "source": s, "module": None, "position": "0"}
            for i, c, t, lbl, s in _CONTACT_TYPES]
