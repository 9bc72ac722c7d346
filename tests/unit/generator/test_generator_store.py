"""The store generator: determinism, completeness and internal consistency of what it makes."""

from __future__ import annotations

import hashlib
import json
import struct
import zlib
from collections import Counter
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

import pytest

from dolisync.emulators.generator import GeneratedStore, TableInserter, generate_store
from dolisync.emulators.generator.barcodes import is_valid_ean13, is_valid_upc
from dolisync.emulators.generator.rows import RowFactory
from dolisync.mapping.prestashop_money import TaxRule

D = Decimal
CENT = D("0.01")


def digest(store: GeneratedStore) -> str:
    h = hashlib.sha256()
    h.update(json.dumps(store.prestashop.tables, sort_keys=False, default=str).encode())
    for image_id, blob in sorted(store.prestashop.images.items()):
        h.update(str(image_id).encode() + blob.mime.encode() + blob.content)
    h.update(repr(store.dolibarr).encode())
    return h.hexdigest()


@pytest.fixture(scope="module")
def store() -> GeneratedStore:
    return generate_store(seed=11, products=250, orders=1500, customers=120, shops=2, languages=2)


def test_same_seed_gives_byte_identical_output() -> None:
    first = generate_store(seed=4, products=60, orders=150, customers=30)
    second = generate_store(seed=4, products=60, orders=150, customers=30)
    other = generate_store(seed=5, products=60, orders=150, customers=30)
    assert digest(first) == digest(second)
    assert digest(first) != digest(other)


def test_every_row_has_every_field_and_unique_ids(store: GeneratedStore) -> None:
    factory = RowFactory([1, 2])
    for resource, rows in store.prestashop.tables.items():
        fields = factory.fields(resource)
        multilang = factory.multilang_fields(resource)
        ids = [row["id"] for row in rows]
        assert len(ids) == len(set(ids)), resource
        assert all(i.isdigit() for i in ids), resource
        for row in rows:
            missing = [f for f in fields if f not in row]
            assert not missing, (resource, missing)
            for name in multilang:
                assert set(row[name]) == {1, 2}, (resource, name)


def test_stock_product_row_is_sum_of_combination_rows(store: GeneratedStore) -> None:
    tables = store.prestashop.tables
    with_combinations = {c["id_product"] for c in tables["combinations"]}
    per_key: dict[tuple[str, str], list[int]] = {}
    product_rows: dict[tuple[str, str], int] = {}
    for row in tables["stock_availables"]:
        key = (row["id_product"], row["id_shop"])
        if row["id_product_attribute"] == "0":
            product_rows[key] = int(row["quantity"])
        else:
            per_key.setdefault(key, []).append(int(row["quantity"]))
    checked = 0
    for key, quantity in product_rows.items():
        if key[0] in with_combinations:
            assert quantity == sum(per_key[key]), key
            checked += 1
    assert checked > 50


def test_catalogue_variety(store: GeneratedStore) -> None:
    tables = store.prestashop.tables
    products = tables["products"]
    assert Counter(p["product_type"] for p in products).keys() >= {"standard", "combinations", "virtual"}
    eans = [p["ean13"] for p in products if p["ean13"]] + [c["ean13"] for c in tables["combinations"] if c["ean13"]]
    valid = sum(is_valid_ean13(e) for e in eans)
    assert valid / len(eans) > 0.9 and valid < len(eans), "mostly valid EAN13, a few invalid on purpose"
    upcs = [p["upc"] for p in products if p["upc"]]
    assert upcs and sum(is_valid_upc(u) for u in upcs) >= len(upcs) * 0.8
    assert any(p["isbn"] for p in products)
    assert any("_shops" in p for p in products) and any("_shop_fields" in p for p in products)
    assert {sp["reduction_type"] for sp in tables["specific_prices"]} == {"percentage", "amount"}
    # each shop has its own root category, and products sit under their shop's root
    roots = {s["id"]: s["id_category"] for s in tables["shops"]}
    categories = {c["id"]: c for c in tables["categories"]}
    assert len(set(roots.values())) == len(roots)
    for root in roots.values():
        assert categories[root]["is_root_category"] == "1" and categories[root]["id_parent"] == "1"
    for product in products[:50]:
        assoc = [c["id"] for c in product["associations"]["categories"]]
        assert assoc[0] in roots.values() and product["id_category_default"] == assoc[-1]


def test_images_are_valid_png_or_jpeg(store: GeneratedStore) -> None:
    images = store.prestashop.images
    mimes = Counter(blob.mime for blob in images.values())
    assert mimes["image/jpeg"] and mimes["image/png"]
    assert len({blob.content for blob in images.values()}) == len(images)
    products = {p["id"]: p for p in store.prestashop.tables["products"]}
    for blob in list(images.values())[:40]:
        assert str(blob.id_image) in [i["id"] for i in products[str(blob.id_product)]["associations"]["images"]]
        if blob.mime == "image/png":
            assert blob.content.startswith(b"\x89PNG\r\n\x1a\n")
            # walk the chunks and check every CRC
            pos = 8
            kinds = []
            while pos < len(blob.content):
                (length,) = struct.unpack(">I", blob.content[pos:pos + 4])
                kind = blob.content[pos + 4:pos + 8]
                data = blob.content[pos + 8:pos + 8 + length]
                (crc,) = struct.unpack(">I", blob.content[pos + 8 + length:pos + 12 + length])
                assert zlib.crc32(kind + data) & 0xFFFFFFFF == crc
                if kind == b"IDAT":
                    assert len(zlib.decompress(data)) == 16 * (1 + 16 * 3)
                kinds.append(kind)
                pos += 12 + length
            assert kinds[0] == b"IHDR" and kinds[-1] == b"IEND"
        else:
            assert blob.content.startswith(b"\xff\xd8") and blob.content.endswith(b"\xff\xd9")
            assert b"\xff\xc0" in blob.content and b"\xff\xda" in blob.content


def _sum(values: list[str]) -> Decimal:
    return sum((D(v) for v in values), D(0))


def test_orders_are_internally_consistent(store: GeneratedStore) -> None:
    tables = store.prestashop.tables
    details: dict[str, list[dict]] = {}
    for d in tables["order_details"]:
        details.setdefault(d["id_order"], []).append(d)
    histories: dict[str, list[dict]] = {}
    for h in tables["order_histories"]:
        histories.setdefault(h["id_order"], []).append(h)
    payments = {p["order_reference"]: p for p in tables["order_payments"]}
    invoices = {i["id_order"]: i for i in tables["order_invoices"]}
    rules: dict[str, list[dict]] = {}
    for r in tables["order_cart_rules"]:
        rules.setdefault(r["id_order"], []).append(r)
    states = {s["id"]: s for s in tables["order_states"]}
    addresses = {a["id"]: a for a in tables["addresses"]}
    customers = {c["id"] for c in tables["customers"]}
    carriers = {c["id_order"]: c for c in tables["order_carriers"]}
    for order in tables["orders"]:
        oid = order["id"]
        lines = details[oid]
        assert [r["id"] for r in order["associations"]["order_rows"]] == [d["id"] for d in lines]
        if order["round_type"] == "3":
            # lines are stored with 6 decimals; the header rounds their unrounded sum
            stored = _sum([d["total_price_tax_excl"] for d in lines]).quantize(CENT, ROUND_HALF_UP)
            assert abs(D(order["total_products"]) - stored) <= CENT
        else:
            assert D(order["total_products"]) == _sum([d["total_price_tax_excl"] for d in lines])
            assert D(order["total_products_wt"]) == _sum([d["total_price_tax_incl"] for d in lines])
        assert order["total_paid"] == order["total_paid_tax_incl"]
        assert order["id_customer"] in customers
        assert addresses[order["id_address_delivery"]]["id_customer"] == order["id_customer"]
        assert histories[oid][-1]["id_order_state"] == order["current_state"]
        reached = [states[h["id_order_state"]] for h in histories[oid]]
        paid = any(s["paid"] == "1" for s in reached)
        assert (order["reference"] in payments) == paid
        if paid:
            assert payments[order["reference"]]["amount"] == order["total_paid"]
            assert order["total_paid_real"] == order["total_paid"]
        assert (oid in invoices) == any(s["invoice"] == "1" for s in reached)
        if oid in invoices:
            assert invoices[oid]["total_paid_tax_incl"] == order["total_paid_tax_incl"]
            assert all(d["id_order_invoice"] == invoices[oid]["id"] for d in lines)
        assert carriers[oid]["shipping_cost_tax_incl"] == order["total_shipping_tax_incl"]
        if oid in rules:
            assert abs(_sum([r["value"] for r in rules[oid]]) - D(order["total_discounts_tax_incl"])) <= CENT


def test_order_variety_and_the_one_cent_gap(store: GeneratedStore) -> None:
    orders = store.prestashop.tables["orders"]
    assert {o["current_state"] for o in orders} >= {str(s) for s in range(1, 14)}
    assert {o["round_type"] for o in orders} == {"1", "2", "3"}
    assert {o["module"] for o in orders} >= {"ps_checkpayment", "ps_wirepayment", "ps_cashondelivery", "ps_checkout"}
    currencies = {c["id"]: c["iso_code"] for c in store.prestashop.tables["currencies"]}
    assert {currencies[o["id_currency"]] for o in orders} == {"EUR", "USD", "GBP", "CAD"}
    assert any(o["gift"] == "1" and D(o["total_wrapping"]) > 0 for o in orders)
    assert any(D(o["total_discounts"]) > 0 for o in orders)
    free = [r for r in store.prestashop.tables["order_cart_rules"] if r["free_shipping"] == "1"]
    assert free
    details = store.prestashop.tables["order_details"]
    by_order: dict[str, set[str]] = {}
    rates = {}
    for d in details:
        excl, incl = D(d["unit_price_tax_excl"]), D(d["unit_price_tax_incl"])
        if excl:
            rates[d["id"]] = ((incl / excl - 1) * 100).quantize(D("0.1"))
            by_order.setdefault(d["id_order"], set()).add(str(rates[d["id"]]))
    assert any(len(r) > 1 for r in by_order.values()), "some carts mix VAT rates"
    assert {"20.0", "10.0", "5.5"} <= {str(r) for r in rates.values()}
    gaps = 0
    for o in orders:
        parts = (D(o["total_products_wt"]) + D(o["total_shipping_tax_incl"]) + D(o["total_wrapping"]).quantize(CENT)
                 - D(o["total_discounts_tax_incl"]))
        parts_excl = (D(o["total_products"]) + D(o["total_shipping_tax_excl"])
                      + D(o["total_wrapping_tax_excl"]).quantize(CENT) - D(o["total_discounts_tax_excl"]))
        gap = max(abs(parts - D(o["total_paid_tax_incl"])), abs(parts_excl - D(o["total_paid_tax_excl"])))
        assert gap <= D("0.03")
        gaps += gap > 0
    assert gaps / len(orders) > 0.12, f"only {gaps} of {len(orders)} orders show the rounding gap"


def test_canadian_store_uses_combined_and_compound_taxes() -> None:
    store = generate_store(seed=2, products=120, orders=400, customers=60, shops=1, country="CA")
    tables = store.prestashop.tables
    assert tables["currencies"][0]["iso_code"] == "CAD" and tables["currencies"][0]["conversion_rate"] == "1.000000"
    assert store.dolibarr.country_code == "CA" and store.dolibarr.localtax1_on
    assert {v.localtax1_type for v in store.dolibarr.vat_rates} >= {"1", "2"}
    rates = set()
    for d in tables["order_details"]:
        excl, incl = D(d["unit_price_tax_excl"]), D(d["unit_price_tax_incl"])
        if excl and d["tax_computation_method"] in ("1", "2"):
            rates.add((d["tax_computation_method"], ((incl / excl - 1) * 100).quantize(D("0.01"))))
    assert ("1", D("14.98")) in rates or ("1", D("14.97")) in rates  # GST + QST combined
    assert ("2", D("12.35")) in rates  # GST then PST: 1.05 x 1.07 - 1
    multi_tax = [d for d in tables["order_details"] if len(d["associations"]["taxes"]) == 2]
    assert multi_tax


def test_table_inserter_continues_ids() -> None:
    tables = {"orders": [{"id": "7"}]}
    insert = TableInserter(tables)
    row = {"id": ""}
    assert insert("orders", row) == 8 and row["id"] == "8" and tables["orders"][-1] is row
    assert insert("carts", {"id": ""}) == 1


def test_dolibarr_setup_matches_shop(store: GeneratedStore) -> None:
    setup = store.dolibarr
    assert setup.country_code == "FR" and setup.currency == "EUR" and not setup.localtax1_on
    assert {"20.000", "10.000", "5.500", "2.100"} <= {v.rate for v in setup.vat_rates}
    modules = {o["module"] for o in store.prestashop.tables["orders"]}
    assert modules <= {b.get("payment_module") for b in setup.bank_accounts}
    assert set(setup.multicurrencies) == {"USD", "GBP", "CAD"}
    assert D(setup.multicurrencies["USD"]) == D("1.0834")
    assert TaxRule().total_rate() == 0


def test_order_factory_builds_one_checkout_order() -> None:
    generated = generate_store(seed=13, products=40, orders=10, customers=8, shops=1)
    tables = generated.prestashop.tables
    factory = generated.order_factory(seed=99)
    insert = TableInserter(tables)
    before = {name: len(rows) for name, rows in tables.items()}
    draft = factory.build(datetime(2026, 11, 20, 12, 0, 0), progress=1, module="ps_wirepayment", new_customer=True)
    assert draft.customer is not None and draft.addresses
    ids = factory.commit(draft, insert)
    order = tables["orders"][-1]
    assert order["id"] == str(ids["order"]) and order["current_state"] == "10"  # awaiting bank wire
    assert order["id_customer"] == draft.customer["id"] and order["valid"] == "0"
    assert order["total_paid_real"] == "0.000000" and order["invoice_number"] == "0"
    assert len(tables["orders"]) == before["orders"] + 1
    assert len(tables["customers"]) == before["customers"] + 1
    assert len(tables["order_histories"]) == before["order_histories"] + 1
    assert len(tables["order_payments"]) == before["order_payments"]
    assert len(tables["order_invoices"]) == before["order_invoices"]
    assert tables["addresses"][-1]["id_customer"] == draft.customer["id"]
    assert order["id_address_delivery"] in {a["id"] for a in draft.addresses}
    assert tables["carts"][-1]["id"] == order["id_cart"]
    assert ids["order_details"] == [int(d["id"]) for d in tables["order_details"][-len(ids["order_details"]):]]
    # the new customer is remembered: a later order may reuse them, never a placeholder address
    again = factory.build(datetime(2026, 11, 21, 12, 0, 0), progress=5, module="ps_checkout")
    factory.commit(again, insert)
    assert not again.order["id_address_delivery"].startswith("new-")
    if again.final_state == 8:  # payment error: neither paid nor invoiced
        assert not again.payments and again.invoice is None
    else:  # card payments are paid and invoiced from their first state
        assert again.payments and again.invoice is not None and again.final_state in (5, 7)
