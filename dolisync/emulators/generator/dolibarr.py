"""The Dolibarr side of a generated store: the company, its VAT dictionary (with local taxes
for Canada), warehouses, bank accounts and enabled currencies.

Contract: :func:`build_dolibarr_setup` matches the PrestaShop shop it is generated with: every
VAT rate a generated order can carry has a dictionary row (for Canada the second tax is a
local tax: QST combined "on net" = type 1, BC PST one after another "on net + VAT" = type 2),
one bank account per payment module plus one per foreign currency, one warehouse per carrier
family, and every shop currency enabled with its rate against the company currency.
"""

from __future__ import annotations

from decimal import Decimal

from dolisync.emulators.dataset import DolibarrSetup, VatRate
from dolisync.emulators.generator.reference import CURRENCIES, PAYMENT_MODULES

__all__ = ["build_dolibarr_setup"]

_FR_RATES = [
    VatRate("20.000", code="TVA20", note="VAT standard rate"),
    VatRate("10.000", code="TVA10", note="VAT intermediate rate"),
    VatRate("5.500", code="TVA55", note="VAT reduced rate"),
    VatRate("2.100", code="TVA21", note="VAT super-reduced rate"),
    VatRate("0.000", code="TVA0", note="VAT rate 0 (export, outside EU)"),
]
_CA_RATES = [
    VatRate("5.000", code="GST-QC", localtax1="9.975", localtax1_type="1", note="GST + QST (Quebec)"),
    VatRate("5.000", code="GST-BC", localtax1="7.000", localtax1_type="2", note="GST then PST (BC, compound)"),
    VatRate("13.000", code="HST", note="HST (Ontario)"),
    VatRate("5.000", code="GST", note="GST only (Alberta)"),
    VatRate("0.000", code="ZERO", note="Zero-rated / export"),
]


def build_dolibarr_setup(country: str, company_name: str) -> DolibarrSetup:
    """The Dolibarr configuration for a shop generated with company ``country`` ("FR"/"CA")."""
    if country == "CA":
        currency, country_id = "CAD", 14
        rates = list(_CA_RATES) + [VatRate(r.rate, code="EU-" + r.code, note="EU customers") for r in _FR_RATES[:4]]
    else:
        currency, country_id = "EUR", 1
        rates = list(_FR_RATES) + [
            VatRate("14.975", code="CA-QC", note="Canadian sales booked as one combined rate"),
            VatRate("13.000", code="CA-ON", note="Ontario HST"),
            VatRate("12.350", code="CA-BC", note="BC GST then PST as one rate"),
            VatRate("5.000", code="CA-GST", note="Canadian GST only"),
        ]
    base = CURRENCIES[currency][4]
    multicurrencies = {
        iso: str((data[4] / base).quantize(Decimal("0.00000001")))
        for iso, data in CURRENCIES.items() if iso != currency
    }
    banks = [
        {"ref": f"BANK-{module.removeprefix('ps_').upper()}", "label": label, "currency_code": currency,
         "payment_module": module}
        for module, (label, _method, _state) in PAYMENT_MODULES.items()
    ]
    banks += [
        {"ref": f"BANK-{iso}", "label": f"Account in {iso}", "currency_code": iso}
        for iso in CURRENCIES if iso != currency
    ]
    warehouses = [
        {"ref": "WH-MAIN", "label": "Main warehouse", "statut": 1, "carriers": [2, 4]},
        {"ref": "WH-EXPRESS", "label": "Express hub", "statut": 1, "carriers": [3]},
        {"ref": "WH-STORE", "label": "Shop counter (click and collect)", "statut": 1, "carriers": [1]},
    ]
    return DolibarrSetup(
        company_name=company_name,
        country_code=country,
        country_id=country_id,
        currency=currency,
        localtax1_on=country == "CA",
        localtax2_on=False,
        vat_rates=rates,
        warehouses=warehouses,
        bank_accounts=banks,
        multicurrencies=multicurrencies,
    )
