"""Customers (registered and guests) and their addresses.

Contract: :class:`PeopleMaker` builds rows from ``rng`` only (deterministic); ids are not set
here (the caller's insert assigns them), except that e-mails embed a serial number so they are
unique within one generated store.
"""

from __future__ import annotations

import random
import unicodedata
from datetime import datetime, timedelta

from dolisync.emulators.generator.reference import COUNTRIES, STATE_AB, STATE_BC, STATE_ON, STATE_QC
from dolisync.emulators.generator.rows import Row, RowFactory, ps_date

__all__ = ["PeopleMaker", "COUNTRY_WEIGHTS_FR", "COUNTRY_WEIGHTS_CA"]

_FIRST = [("John", 1), ("Marie", 2), ("Lucas", 1), ("Léa", 2), ("Hugo", 1), ("Chloé", 2),
          ("Jean-Pierre", 1), ("Zoë", 2), ("Mathis", 1), ("Camille", 2), ("Oliver", 1), ("Amélie", 2),
          ("Noah", 1), ("Inès", 2), ("Émile", 1), ("Sofia", 2)]
_LAST = ["DOE", "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand",
         "Leroy", "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "García", "O'Brien", "Tremblay",
         "Gagnon", "Smith", "Müller", "Rossi"]
_STREETS = ["rue de la Paix", "avenue des Champs", "Main street", "boulevard Voltaire", "chemin du Lac",
            "rue Sainte-Catherine", "High Street", "Hauptstraße", "via Roma", "Kerkstraat"]
# country id -> [(city, postcode pattern, state id)]
_CITIES: dict[int, list[tuple[str, str, int]]] = {
    8: [("Paris", "750NN", 0), ("Lyon", "690NN", 0), ("Marseille", "130NN", 0), ("Lille", "590NN", 0),
        ("Nantes", "440NN", 0), ("Bordeaux", "330NN", 0)],
    3: [("Bruxelles", "1NNN", 0), ("Liège", "4NNN", 0)],
    1: [("Berlin", "1NNNN", 0), ("München", "8NNNN", 0)],
    6: [("Madrid", "28NNN", 0)],
    10: [("Roma", "00NNN", 0)],
    12: [("Luxembourg", "1NNN", 0)],
    13: [("Amsterdam", "10NN AB", 0)],
    17: [("London", "SW1A 1AA", 0), ("Manchester", "M1 1AE", 0)],
    19: [("Genève", "12NN", 0)],
    21: [("Miami", "331NN", 9), ("New York", "100NN", 32), ("Los Angeles", "900NN", 5)],
    4: [("Montréal", "H2X 1Y4", STATE_QC), ("Québec", "G1R 4P5", STATE_QC), ("Vancouver", "V6B 1A1", STATE_BC),
        ("Toronto", "M5H 2N2", STATE_ON), ("Calgary", "T2P 1J9", STATE_AB)],
}
COUNTRY_WEIGHTS_FR: list[tuple[int, int]] = [
    (8, 60), (3, 8), (1, 6), (6, 2), (10, 2), (12, 1), (13, 1), (17, 5), (19, 2), (21, 6), (4, 7)]
COUNTRY_WEIGHTS_CA: list[tuple[int, int]] = [(4, 70), (21, 15), (8, 10), (17, 5)]
_HEX = "0123456789abcdef"
_B64 = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower().replace("'", "")


class PeopleMaker:
    """Makes customer and address rows."""

    def __init__(self, rows: RowFactory, rng: random.Random, country_weights: list[tuple[int, int]]) -> None:
        self._rows = rows
        self._rng = rng
        self._countries = [c for c, _w in country_weights]
        self._weights = [w for _c, w in country_weights]

    def secure_key(self) -> str:
        """A 32-hex-digit key like PrestaShop's md5 ``secure_key``."""
        return "".join(self._rng.choice(_HEX) for _ in range(32))

    def customer(self, serial: int, *, when: datetime, id_shop: int, guest: bool, id_lang: int) -> Row:
        """A customer row (no id) created at ``when``."""
        rng = self._rng
        first, gender = rng.choice(_FIRST)
        last = rng.choice(_LAST)
        company = rng.random() < 0.1
        newsletter = rng.random() < 0.4
        birthday = (f"{rng.randrange(1945, 2005)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"
                    if rng.random() < 0.5 else "0000-00-00")
        email = f"{_ascii(first)}.{_ascii(last)}.{serial}@example.com".replace(" ", "")
        group = "2" if guest else "3"
        return self._rows.blank(
            "customers", id="", id_default_group=group, id_lang=str(id_lang),
            newsletter_date_add=ps_date(when) if newsletter else "0000-00-00 00:00:00",
            ip_registration_newsletter="", last_passwd_gen=ps_date(when), secure_key=self.secure_key(),
            deleted="0",
            passwd="" if guest else "$2y$10$" + "".join(rng.choice(_B64) for _ in range(53)),
            lastname=last, firstname=first, email=email, id_gender=str(gender), birthday=birthday,
            newsletter="1" if newsletter else "0", optin="1" if rng.random() < 0.3 else "0",
            website="", company=f"{last} SARL" if company else "",
            siret=f"{rng.randrange(10**13, 10**14)}" if company else "", ape="", outstanding_allow_amount="0.000000",
            show_public_prices="0", id_risk="0", max_payment_days="0", active="1", note="",
            is_guest="1" if guest else "0", id_shop=str(id_shop), id_shop_group="1",
            date_add=ps_date(when), date_upd=ps_date(when), reset_password_token="",
            reset_password_validity="0000-00-00 00:00:00",
            associations={"groups": [{"id": group}]})

    def address(self, customer: Row, *, when: datetime, alias: str, country: int | None = None) -> Row:
        """An address row for ``customer`` (no id; ``id_customer`` is set from the row's id)."""
        rng = self._rng
        if country is None:
            country = rng.choices(self._countries, self._weights)[0]
        city, pattern, state = rng.choice(_CITIES[country])
        postcode = "".join(str(rng.randrange(10)) if ch == "N" else ch for ch in pattern)
        eu_company = bool(customer.get("company")) and COUNTRIES[country][7]
        return self._rows.blank(
            "addresses", id="", id_customer=str(customer.get("id", "")), id_manufacturer="0",
            id_supplier="0", id_warehouse="0", id_country=str(country), id_state=str(state),
            alias=alias, company=str(customer.get("company", "")), lastname=str(customer["lastname"]),
            firstname=str(customer["firstname"]),
            vat_number=f"{COUNTRIES[country][0]}{rng.randrange(10**9, 10**10)}" if eu_company else "",
            address1=f"{rng.randrange(1, 200)}, {rng.choice(_STREETS)}",
            address2="2nd floor" if rng.random() < 0.1 else "", postcode=postcode, city=city, other="",
            phone=f"0{rng.randrange(100000000, 999999999)}", phone_mobile="", dni="", deleted="0",
            date_add=ps_date(when), date_upd=ps_date(when))

    @staticmethod
    def later(when: datetime, rng: random.Random, max_hours: int = 72) -> datetime:
        """A moment after ``when`` (for addresses added later)."""
        return when + timedelta(minutes=rng.randrange(1, max_hours * 60))
