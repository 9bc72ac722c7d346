"""Benchmark: how long the store generator takes for a big shop (not a test).

Usage: ``.venv/bin/python bench/generator.py [--products 10000] [--orders 20000] [--seed 1]``
Prints the wall time, rows per table and the share of orders whose grand total differs from
the sum of its rounded parts.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
from decimal import Decimal

from dolisync.emulators.generator import generate_store
from dolisync.mapping.money import to_decimal


def _gap_share(orders: list[dict[str, object]]) -> float:
    gaps = 0
    for order in orders:
        parts = (to_decimal(order["total_products_wt"]) + to_decimal(order["total_shipping_tax_incl"])
                 + to_decimal(order["total_wrapping_tax_incl"]).quantize(Decimal("0.01"))
                 - to_decimal(order["total_discounts_tax_incl"]))
        parts_excl = (to_decimal(order["total_products"]) + to_decimal(order["total_shipping_tax_excl"])
                      + to_decimal(order["total_wrapping_tax_excl"]).quantize(Decimal("0.01"))
                      - to_decimal(order["total_discounts_tax_excl"]))
        if parts != to_decimal(order["total_paid_tax_incl"]) or parts_excl != to_decimal(order["total_paid_tax_excl"]):
            gaps += 1
    return gaps / max(len(orders), 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--customers", type=int, default=5_000)
    parser.add_argument("--shops", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--memory", action="store_true", help="also measure peak Python memory (slower)")
    args = parser.parse_args()
    if args.memory:
        tracemalloc.start()
    started = time.perf_counter()
    store = generate_store(seed=args.seed, products=args.products, orders=args.orders,
                           customers=args.customers, shops=args.shops)
    elapsed = time.perf_counter() - started
    print(f"generated in {elapsed:.2f} s")
    if args.memory:
        _current, peak = tracemalloc.get_traced_memory()
        print(f"peak traced memory: {peak / 1e6:.1f} MB")
    for name, rows in store.prestashop.tables.items():
        print(f"  {name:24s} {len(rows):>8d}")
    print(f"  {'images (blobs)':24s} {len(store.prestashop.images):>8d}")
    print(f"orders whose grand total (incl or excl) differs from its rounded parts: {_gap_share(store.prestashop.tables['orders']):.1%}")


if __name__ == "__main__":
    main()
