"""Customers -> Dolibarr third parties, addresses -> contacts.

Contract of :class:`CustomerSync`:

* :func:`thirdparty_body` / :func:`contact_body` are the pure mappings. A third party is named
  after the company, else ``"LASTNAME Firstname"`` (last name upper-cased with
  ``customer_name_upper``); with a company the person becomes the alias. E-mail, phones,
  address, VAT number, language (``customer_language``: Dolibarr PDFs in the customer's
  language) and the customer code (Dolibarr numbering ``-1``, or the PrestaShop id with
  ``customer_ref_from_shop``) are set; ``ref_ext`` carries our external key.
* Identity: a registered customer is bound by its PrestaShop id (entity ``customer``); a guest
  by its e-mail (entity ``guest``, so every guest checkout with one e-mail shares one third
  party), or to one generic "Web customer" (``OrderSyncOptions.guests = "generic"``).
* Before any create: the binding, then our external key in Dolibarr (crash healing), then —
  when ``match_by_email`` — the e-mail: exactly one third party is adopted, two or more raise
  :class:`AmbiguousCustomer` listing the candidates (the customer and its orders are parked;
  nothing is created). One creation at a time per e-mail.
* :meth:`CustomerSync.contact_for` does the same for an address (entity ``address``).
"""

from __future__ import annotations

import hashlib
from typing import Any

from dolisync.clients.dolibarr import build_sqlfilters
from dolisync.clients.prestashop_records import Address, Customer
from dolisync.sync.flows.context import AmbiguousMatch
from dolisync.sync.orders.context import OrderRun
from dolisync.sync.orders.erp_setup import SetupProblem

__all__ = ["CustomerSync", "AmbiguousCustomer", "thirdparty_body", "thirdparty_name", "contact_body",
           "guest_source_id", "person_name", "CALLER"]

CALLER = "dolisync"


class AmbiguousCustomer(AmbiguousMatch):
    """Several Dolibarr third parties have the customer's e-mail."""


def person_name(lastname: str, firstname: str, *, upper: bool) -> str:
    """``"LASTNAME Firstname"`` (or ``"Lastname Firstname"`` without ``upper``)."""
    last = lastname.strip().upper() if upper else lastname.strip()
    return " ".join(part for part in (last, firstname.strip()) if part)


def guest_source_id(email: str) -> str:
    """The source id of a guest identity: a digest of the normalised e-mail."""
    return "e" + hashlib.sha256(email.strip().lower().encode()).hexdigest()[:24]


def _street(address: Address | None) -> str:
    if address is None:
        return ""
    return "\n".join(part for part in (address.address1.strip(), address.address2.strip()) if part)


def _company(customer: Customer, address: Address | None) -> str:
    return (customer.company or (address.company if address is not None else "")).strip()


def thirdparty_name(customer: Customer, address: Address | None, *, upper: bool) -> str:
    """The name of a customer's third party: the company, else the person, else the e-mail."""
    return (_company(customer, address) or person_name(customer.lastname, customer.firstname, upper=upper)
            or customer.email)


def thirdparty_body(customer: Customer, address: Address | None, *, key: str, upper: bool, locale: str,
                    country_code: str, ref_from_shop: bool) -> dict[str, Any]:
    """``POST /thirdparties`` body for a customer (see module docstring)."""
    person = person_name(customer.lastname, customer.firstname, upper=upper)
    company = _company(customer, address)
    body: dict[str, Any] = {
        "name": thirdparty_name(customer, address, upper=upper),
        "email": customer.email,
        "client": 1,
        "code_client": str(customer.id) if ref_from_shop else "-1",
        "ref_ext": key,
        "caller": CALLER,
    }
    if company and person:
        body["name_alias"] = person
    if address is not None:
        body.update({"address": _street(address), "zip": address.postcode, "town": address.city,
                     "phone": address.phone or address.phone_mobile})
        if address.vat_number:
            body["tva_intra"] = address.vat_number
    if country_code:
        body["country_code"] = country_code
    if locale:
        body["default_lang"] = locale
    return body


def contact_body(address: Address, *, socid: int, key: str, email: str, country_code: str) -> dict[str, Any]:
    """``POST /contacts`` body for an address."""
    body: dict[str, Any] = {
        "socid": socid,
        "lastname": address.lastname or address.company or address.alias or "-",
        "firstname": address.firstname,
        "address": _street(address),
        "zip": address.postcode,
        "town": address.city,
        "phone_pro": address.phone,
        "phone_mobile": address.phone_mobile,
        "email": email,
        "ref_ext": key,
        "caller": CALLER,
    }
    if country_code:
        body["country_code"] = country_code
    return body


class CustomerSync:
    """Third parties and contacts of one run (see module docstring)."""

    def __init__(self, run: OrderRun) -> None:
        self.run = run

    def _identity(self, customer: Customer) -> tuple[str, str]:
        if customer.is_guest and customer.email:
            if self.run.options.guests == "generic":
                return "guest", "web"
            return "guest", guest_source_id(customer.email)
        return "customer", str(customer.id)

    async def thirdparty_for(self, customer: Customer, address: Address | None) -> int:
        """The Dolibarr third party of ``customer`` (created when needed; see module docstring)."""
        run = self.run
        entity, source_id = self._identity(customer)
        bound = run.bindings.target_for(entity, source_id)
        if bound is not None:
            return int(bound)
        async with run.lock(f"email:{customer.email.strip().lower() or entity + source_id}"):
            bound = run.bindings.target_for(entity, source_id)
            if bound is not None:
                return int(bound)
            found = await run.find_existing(entity, source_id)
            if found is None and run.options.match_by_email and customer.email and source_id != "web":
                found = await self._by_email(customer)
            if found is None:
                found = await self._create(entity, source_id, customer, address)
            if not run.dry_run:
                run.bindings.bind(entity, source_id, found, run.key(entity, source_id))
            return found

    async def _by_email(self, customer: Customer) -> int | None:
        filters = build_sqlfilters(("t.email", "=", customer.email.strip()))
        rows = [row async for row in self.run.dolibarr.list_raw("thirdparties", sqlfilters=filters)]
        ids = sorted({int(row["id"]) for row in rows if str(row.get("id", "")).isdigit()})
        if len(ids) > 1:
            shown = ", ".join(f"#{i} {next((r.get('name') for r in rows if str(r.get('id')) == str(i)), '')}"
                              for i in ids)
            raise AmbiguousCustomer(
                "customer", str(customer.id),
                f"customer {customer.id} <{customer.email}>: {len(ids)} Dolibarr third parties have this e-mail "
                f"({shown}): merge them, or change the e-mail of the wrong ones, then retry; nothing was created")
        return ids[0] if ids else None

    async def _create(self, entity: str, source_id: str, customer: Customer, address: Address | None) -> int:
        run = self.run
        key = run.key(entity, source_id)
        if source_id == "web":
            body: dict[str, Any] = {"name": run.options.generic_customer_name, "client": 1, "code_client": "-1",
                                    "ref_ext": key, "caller": CALLER}
        else:
            country = run.reference.country_iso(address.id_country) if address is not None else ""
            body = thirdparty_body(
                customer, address, key=key, upper=run.shop.customer_name_upper,
                locale=run.reference.locale(customer.id_lang) if run.shop.customer_language else "",
                country_code=country if country in run.erp.countries else "",
                ref_from_shop=run.shop.customer_ref_from_shop)
        if run.dry_run:
            run.plan("POST", "thirdparties", entity, source_id, f"name={body['name']}")
            return -1
        new_id = await run.create(entity, source_id, "thirdparties", body)
        run.count("customers", "created")
        return new_id

    async def contact_for(self, address: Address, socid: int, email: str) -> int:
        """The Dolibarr contact of ``address`` under third party ``socid`` (created when needed)."""
        run = self.run
        bound = run.bindings.target_for("address", address.id)
        if bound is not None:
            return int(bound)
        async with run.lock(f"address:{address.id}"):
            bound = run.bindings.target_for("address", address.id)
            if bound is not None:
                return int(bound)
            found = await run.find_existing("address", address.id)
            if found is None:
                if socid <= 0 and not run.dry_run:
                    raise SetupProblem(f"address {address.id} has no third party to belong to")
                country = run.reference.country_iso(address.id_country)
                body = contact_body(address, socid=socid, key=run.key("address", address.id), email=email,
                                    country_code=country if country in run.erp.countries else "")
                if run.dry_run:
                    run.plan("POST", "contacts", "address", address.id, f"lastname={body['lastname']}")
                    return -1
                found = await run.create("address", address.id, "contacts", body)
            if not run.dry_run:
                run.bindings.bind("address", address.id, found, run.key("address", address.id))
            return found
