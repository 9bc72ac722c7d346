"""What the order flows need to know about the Dolibarr instance, read once per run.

Contract: :meth:`ErpSetup.load` reads the company (country, currency, local-tax options), the
VAT dictionary of its country (as :class:`~dolisync.mapping.dolibarr_money.SellerTaxes`), the
bank accounts, warehouses, payment types and enabled currencies. The lookups below never
create anything in Dolibarr (no automatic accounts or dictionary rows): what is missing comes
back as a :class:`SetupProblem` whose message says what to create or map.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dolisync.clients.dolibarr import DolibarrClient
from dolisync.clients.dolibarr_records import DoliBankAccount, DoliMultiCurrency, DoliWarehouse
from dolisync.mapping.dolibarr_money import SellerTaxes, TaxRow

__all__ = ["ErpSetup", "SetupProblem", "PAYMENT_TYPE_OF_MODULE"]

PAYMENT_TYPE_OF_MODULE = {
    "ps_checkpayment": "CHQ",
    "ps_wirepayment": "VIR",
    "ps_cashondelivery": "LIQ",
}
"""Payment module -> Dolibarr payment type code; any other module is a card payment (``CB``)."""


class SetupProblem(Exception):
    """Something the Dolibarr setup or the shop configuration lacks; ``hint`` says what to do."""

    def __init__(self, message: str, *, field: str = "") -> None:
        self.hint = message
        self.field = field
        super().__init__(message)


@dataclass(slots=True)
class ErpSetup:
    """Dolibarr setup facts (see module docstring)."""

    country_code: str
    currency: str
    seller: SellerTaxes
    bank_accounts: dict[str, DoliBankAccount] = field(default_factory=dict)
    warehouses: dict[str, DoliWarehouse] = field(default_factory=dict)
    payment_types: dict[str, int] = field(default_factory=dict)
    currencies: set[str] = field(default_factory=set)
    countries: set[str] = field(default_factory=set)

    @classmethod
    async def load(cls, client: DolibarrClient) -> ErpSetup:
        """Read everything once (a handful of requests)."""
        company = await client.company()
        rows = await client.dictionary("vat", fk_country=company.country_id) if company.country_id else []
        seller = SellerTaxes(localtax1_on=company.localtax1_assuj, localtax2_on=company.localtax2_assuj,
                             rows=tuple(TaxRow.from_api(row) for row in rows))
        accounts = {a.ref: a async for a in client.list("bankaccounts", record_type=DoliBankAccount)}
        warehouses = {w.ref: w async for w in client.list("warehouses", record_type=DoliWarehouse)}
        types: dict[str, int] = {}
        for row in await client.dictionary("payment_types"):
            code = str(row.get("code") or "")
            if code and str(row.get("id") or "").isdigit():
                types.setdefault(code, int(row["id"]))
        currencies = {c.code.upper() async for c in client.list("multicurrencies", record_type=DoliMultiCurrency)}
        countries = {str(row.get("code") or "").upper() for row in await client.dictionary("countries")}
        return cls(country_code=company.country_code.upper(), currency=(company.currency_code or "EUR").upper(),
                   seller=seller, bank_accounts=accounts, warehouses=warehouses, payment_types=types,
                   currencies=currencies, countries=countries - {""})

    def bank_account_id(self, module: str, payment_accounts: dict[str, str]) -> int:
        """The bank account mapped to payment ``module`` (:class:`SetupProblem` when unmapped)."""
        ref = payment_accounts.get(module)
        if not ref:
            raise SetupProblem(
                f"map module {module} to a bank account: add {module} = \"<bank account ref>\" under "
                f"[shop.payment_accounts] (existing accounts: {', '.join(sorted(self.bank_accounts)) or 'none'})",
                field="module")
        account = self.bank_accounts.get(ref)
        if account is None:
            raise SetupProblem(
                f"payment module {module} is mapped to bank account {ref!r}, which does not exist in Dolibarr: "
                f"create it or fix [shop.payment_accounts] (existing: {', '.join(sorted(self.bank_accounts)) or 'none'})",
                field="module")
        return account.id

    def payment_type_id(self, module: str) -> int:
        """Dolibarr payment type id for a module (``CB`` when the module is not a known one)."""
        code = PAYMENT_TYPE_OF_MODULE.get(module, "CB")
        if code in self.payment_types:
            return self.payment_types[code]
        if "CB" in self.payment_types:
            return self.payment_types["CB"]
        raise SetupProblem(f"payment type {code} is missing from Dolibarr's payment types dictionary: enable it")

    def warehouse_id(self, ref: str | None) -> int:
        """Id of warehouse ``ref`` (0 when ``ref`` is empty; :class:`SetupProblem` when unknown)."""
        if not ref:
            return 0
        warehouse = self.warehouses.get(ref)
        if warehouse is None:
            raise SetupProblem(f"warehouse {ref!r} does not exist in Dolibarr: create it or fix the shop's "
                               "carrier_warehouses / default_warehouse")
        return warehouse.id

    def require_currency(self, code: str) -> None:
        """A foreign currency must be enabled in Dolibarr's multicurrency module."""
        if code.upper() != self.currency and code.upper() not in self.currencies:
            raise SetupProblem(f"currency {code} is not enabled in Dolibarr: add it under Multicurrency "
                               "(with a rate) so the order keeps its currency")

    @staticmethod
    def describe(value: Any) -> str:
        """Short text of a value for messages."""
        return str(value)[:60]
