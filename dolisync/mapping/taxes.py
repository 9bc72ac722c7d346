"""Taxes: the Dolibarr VAT rate of a PrestaShop tax rule group, for the company country.

PrestaShop gives a product a *tax rule group* (``id_tax_rules_group``); the group holds rules
per country/state/zip range pointing to a tax (``taxes.rate``, 3 decimals) and a ``behavior``
(0 this tax only, 1 combine = rates added, 2 one after another = compound). Dolibarr gives a
product one VAT rate (``tva_tx``) that must exist in its VAT dictionary for the company
country, plus optional local taxes (``localtax1_tx``/``localtax2_tx``, Spain's recargo,
Canada's QST ...).

Contract of :class:`TaxTable`: built once per sync from the three PrestaShop tables, the
PrestaShop id of the Dolibarr company's country and Dolibarr's VAT dictionary rows; then
:meth:`TaxTable.vat_for_group` is pure and answers a :class:`ProductVat` or raises
:class:`~dolisync.mapping.errors.MappingError` saying which group to map or which VAT rate to
create. Group ``0`` ("no tax") is VAT 0. Country-wide rules (no state, no zip range) are used:
a product has one rate in Dolibarr, the customer's state is an order matter. Where a group has
rules per state only (Canada: GST + PST/QST by province), the rules of the merchant's own state
(``home_state_id``, PrestaShop's ``PS_SHOP_STATE_ID``) give the product's rate.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from dolisync.mapping.errors import MappingError
from dolisync.mapping.fields import as_int, field_of
from dolisync.mapping.money import to_decimal

__all__ = ["ProductVat", "TaxTable", "field_of", "same_rate"]


def _rate_or_zero(value: Any) -> Decimal:
    """A local tax rate; Dolibarr's progressive lists (``"-19:-15:-9"``) count as none here."""
    try:
        return to_decimal(value or "0")
    except ValueError:
        return Decimal(0)


def same_rate(left: Decimal, right: Decimal) -> bool:
    """Rates compare as numbers: ``"20.000"`` equals ``"20"`` equals ``20.0000``."""
    return left.compare(right) == 0


@dataclass(frozen=True, slots=True)
class ProductVat:
    """What a Dolibarr product carries for tax: VAT rate, optional VAT code and local taxes."""

    tva_tx: Decimal
    vat_code: str = ""
    localtax1_tx: Decimal = Decimal(0)
    localtax1_type: str = "0"
    localtax2_tx: Decimal = Decimal(0)
    localtax2_type: str = "0"

    @property
    def total_rate(self) -> Decimal:
        """VAT + local taxes on net (the rate that turns HT into TTC for simple cases)."""
        return self.tva_tx + self.localtax1_tx + self.localtax2_tx


@dataclass(frozen=True, slots=True)
class _Rule:
    id_group: int
    id_tax: int
    behavior: int
    id_rule: int


class TaxTable:
    """Resolve tax rule groups to Dolibarr VAT for one company country (see module doc)."""

    def __init__(
        self,
        *,
        groups: Iterable[Any],
        rules: Iterable[Any],
        taxes: Iterable[Any],
        ps_country_id: int,
        country_code: str,
        vat_rates: Sequence[Any],
        home_state_id: int = 0,
    ) -> None:
        self.country_code = country_code
        self.ps_country_id = ps_country_id
        self.home_state_id = home_state_id
        self._group_names = {as_int(field_of(g, "id")): str(field_of(g, "name", "") or "") for g in groups}
        self._tax_rates = {as_int(field_of(t, "id")): to_decimal(field_of(t, "rate")) for t in taxes}
        by_group: dict[tuple[int, int], list[_Rule]] = {}
        for rule in rules:
            if as_int(field_of(rule, "id_country")) != ps_country_id:
                continue
            state = as_int(field_of(rule, "id_state"))
            if state and state != home_state_id:
                continue
            zip_from = str(field_of(rule, "zipcode_from", "") or "").strip()
            zip_to = str(field_of(rule, "zipcode_to", "") or "").strip()
            if zip_from not in ("", "0") or zip_to not in ("", "0"):
                continue
            group_id = as_int(field_of(rule, "id_tax_rules_group"))
            by_group.setdefault((group_id, state), []).append(
                _Rule(group_id, as_int(field_of(rule, "id_tax")), as_int(field_of(rule, "behavior")), as_int(field_of(rule, "id")))
            )
        # country-wide rules first; the merchant's state only where a group has no country-wide rule
        self._rules: dict[int, list[_Rule]] = {}
        for (gid, state), items in sorted(by_group.items(), key=lambda kv: kv[0][1]):
            self._rules.setdefault(gid, sorted(items, key=lambda r: r.id_rule))
        self._vat_rows = [row for row in vat_rates if as_int(field_of(row, "active", 1)) == 1]

    def components(self, id_group: int, *, source_id: object = "?") -> list[Decimal]:
        """The tax rates a group applies in the company country, in PrestaShop's order."""
        if id_group == 0:
            return []
        if id_group not in self._group_names:
            raise MappingError(
                "products", source_id, "id_tax_rules_group", id_group,
                f"tax rule group {id_group} does not exist in PrestaShop (deleted?): assign an existing "
                "tax rule group to the product",
            )
        rules = self._rules.get(id_group)
        if not rules:
            name = self._group_names[id_group]
            raise MappingError(
                "products", source_id, "id_tax_rules_group", id_group,
                f"tax rule group {id_group} ({name!r}) has no country-wide rule for {self.country_code} "
                f"(the Dolibarr company country), nor one for the shop's own state: add one in PrestaShop "
                "(International > Taxes > Tax rules), set the shop's state (Shop Parameters > Contact > Stores), "
                "or give the product a tax rule group that has one",
            )
        rates: list[Decimal] = []
        for rule in rules:
            if rule.id_tax not in self._tax_rates:
                raise MappingError(
                    "products", source_id, "id_tax_rules_group", id_group,
                    f"tax rule group {id_group} points to tax {rule.id_tax}, which does not exist: "
                    "fix the tax rule in PrestaShop",
                )
            rates.append(self._tax_rates[rule.id_tax])
            if rule.behavior == 0:
                break  # "this tax only": later rules are ignored, as PrestaShop does
        return [rate for rate in rates if not rate.is_zero()] or [Decimal(0)]

    def vat_for_group(self, id_group: int, *, source_id: object = "?") -> ProductVat:
        """Dolibarr VAT (and local taxes) for a PrestaShop tax rule group; see module doc."""
        rates = self.components(id_group, source_id=source_id)
        if not rates or (len(rates) == 1 and rates[0].is_zero()):
            return ProductVat(Decimal(0), self._code_for(Decimal(0)))
        if len(rates) == 1:
            rate = rates[0]
            row = self._find_row(rate, None)
            if row is None:
                raise self._missing_rate(id_group, rate, source_id)
            return ProductVat(rate, str(field_of(row, "code", "") or ""))
        if len(rates) == 2:
            for main, local in ((rates[0], rates[1]), (rates[1], rates[0])):
                row = self._find_row(main, local)
                if row is not None:
                    local1 = _rate_or_zero(field_of(row, "localtax1", "0"))
                    if same_rate(local1, local):
                        return ProductVat(main, str(field_of(row, "code", "") or ""), local, str(field_of(row, "localtax1_type", "0")))
                    return ProductVat(main, str(field_of(row, "code", "") or ""), localtax2_tx=local,
                                      localtax2_type=str(field_of(row, "localtax2_type", "0")))
        shown = " + ".join(f"{rate.normalize():f}%" for rate in rates)
        raise MappingError(
            "products", source_id, "id_tax_rules_group", id_group,
            f"tax rule group {id_group} applies {shown} in {self.country_code}: create a VAT rate "
            f"{rates[0].normalize():f} with local tax {rates[1].normalize():f} in Dolibarr's VAT dictionary "
            "(Setup > Dictionaries > VAT rates) or simplify the rule group",
        )

    def _code_for(self, rate: Decimal) -> str:
        row = self._find_row(rate, None)
        return str(field_of(row, "code", "") or "") if row is not None else ""

    def _find_row(self, rate: Decimal, local: Decimal | None) -> Any:
        """First active VAT row with this rate; with ``local``, whose localtax1 or 2 matches."""
        fallback = None
        for row in self._vat_rows:
            if not same_rate(to_decimal(field_of(row, "rate", field_of(row, "taux", "0"))), rate):
                continue
            lt1 = _rate_or_zero(field_of(row, "localtax1", "0"))
            lt2 = _rate_or_zero(field_of(row, "localtax2", "0"))
            if local is None:
                if lt1.is_zero() and lt2.is_zero():
                    return row
                fallback = fallback if fallback is not None else row
            elif same_rate(lt1, local) or same_rate(lt2, local):
                return row
        return fallback if local is None else None

    def _missing_rate(self, id_group: int, rate: Decimal, source_id: object) -> MappingError:
        name = self._group_names.get(id_group, "")
        return MappingError(
            "products", source_id, "id_tax_rules_group", id_group,
            f"map tax rule group {id_group} ({name!r}) / create VAT rate {rate.normalize():f} for "
            f"{self.country_code} in Dolibarr (Setup > Dictionaries > VAT rates): Dolibarr has no such rate",
        )
