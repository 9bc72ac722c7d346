"""``generate_store``: a whole seeded PrestaShop shop plus the matching Dolibarr setup.

Contract: the output depends only on the arguments (no clock, no global random state): the
same seed and sizes give byte-identical datasets. Sizes scale linearly; 10k products and 20k
orders take well under a minute (``bench/generator.py`` measures it).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from dolisync.emulators.dataset import DolibarrSetup, ImageBlob, PrestaShopDataset
from dolisync.emulators.generator.catalog import CatalogOptions, build_catalog
from dolisync.emulators.generator.dolibarr import build_dolibarr_setup
from dolisync.emulators.generator.orders import OrderFactory, OrderMix, moment
from dolisync.emulators.generator.people import COUNTRY_WEIGHTS_CA, COUNTRY_WEIGHTS_FR, PeopleMaker
from dolisync.emulators.generator.reference import build_reference
from dolisync.emulators.generator.rows import Row, RowFactory

__all__ = ["GeneratedStore", "generate_store", "TableInserter", "DEFAULT_EPOCH", "DEFAULT_API_KEY"]

DEFAULT_EPOCH = datetime(2026, 11, 1, 9, 0, 0)
DEFAULT_API_KEY = "GENERATEDKEY0000000000000000DEMO"


@dataclass(slots=True)
class GeneratedStore:
    """A generated shop (``prestashop``) and the ERP configuration that goes with it."""

    prestashop: PrestaShopDataset
    dolibarr: DolibarrSetup
    seed: int
    epoch: datetime

    def order_factory(self, *, seed: int | None = None, mix: OrderMix | None = None) -> OrderFactory:
        """An :class:`OrderFactory` over this store's current tables (for the activity simulator)."""
        weights = COUNTRY_WEIGHTS_CA if self.dolibarr.country_code == "CA" else COUNTRY_WEIGHTS_FR
        return OrderFactory(self.prestashop.tables, seed=self.seed + 1 if seed is None else seed,
                            mix=mix, country_weights=weights)


class TableInserter:
    """``insert(resource, row) -> id`` over plain tables: the next id per resource, set in place."""

    def __init__(self, tables: dict[str, list[Row]]) -> None:
        self._tables = tables
        self._next = {name: 1 + max((int(r["id"]) for r in rows if str(r.get("id", "")).isdigit()), default=0)
                      for name, rows in tables.items()}

    def __call__(self, resource: str, row: Row) -> int:
        new_id = self._next.get(resource, 1)
        self._next[resource] = new_id + 1
        row["id"] = str(new_id)
        self._tables.setdefault(resource, []).append(row)
        return new_id


def generate_store(
    *,
    seed: int = 1,
    products: int = 100,
    orders: int = 200,
    customers: int = 50,
    shops: int = 2,
    languages: int = 2,
    country: str = "FR",
    epoch: datetime = DEFAULT_EPOCH,
    days: int = 365,
    catalog: CatalogOptions | None = None,
    mix: OrderMix | None = None,
    shop_name: str = "dolisync demo shop",
    api_key: str = DEFAULT_API_KEY,
) -> GeneratedStore:
    """Generate a shop with ``products`` products, ``customers`` customers (plus guests made at
    checkout) and ``orders`` orders spread over ``days`` days before ``epoch``.

    ``country`` is the merchant's country: "FR" (EUR, French VAT) or "CA" (CAD, GST/PST/HST).
    ``languages`` (1-5): 1 = en, 2 = fr, then es, de, it.
    """
    if country not in ("FR", "CA"):
        raise ValueError(f"country must be 'FR' or 'CA', not {country!r}")
    if not 1 <= languages <= 5 or shops < 1:
        raise ValueError("languages must be 1-5 and shops >= 1")
    rng = random.Random(seed)
    rows = RowFactory(list(range(1, languages + 1)))
    tables: dict[str, list[Row]] = {}
    images: dict[int, ImageBlob] = {}
    ref = build_reference(
        tables, rows, shops=shops, default_currency="CAD" if country == "CA" else "EUR",
        default_country=4 if country == "CA" else 8, epoch=epoch - timedelta(days=days + 60),
        shop_name=shop_name)
    options = catalog or CatalogOptions(products=products)
    options.products = products
    build_catalog(tables, images, rows, ref, options, random.Random(rng.getrandbits(64)), epoch - timedelta(days=days))

    weights = COUNTRY_WEIGHTS_CA if country == "CA" else COUNTRY_WEIGHTS_FR
    insert = TableInserter(tables)
    people = PeopleMaker(rows, random.Random(rng.getrandbits(64)), weights)
    start = epoch - timedelta(days=days + 30)
    people_rng = random.Random(rng.getrandbits(64))
    for serial in range(1, customers + 1):
        when = start + timedelta(seconds=(days * 86400 * serial) // max(customers, 1) // 2)
        guest = people_rng.random() < 0.2
        customer = people.customer(serial, when=when, id_shop=people_rng.choice(ref.shop_ids), guest=guest,
                                   id_lang=people_rng.choice(ref.language_ids[:2]))
        insert("customers", customer)
        country_id = None
        for index in range(1 if guest else people_rng.choice((1, 1, 2, 3))):
            address = people.address(customer, when=PeopleMaker.later(when, people_rng),
                                     alias=("My address", "Home", "Work")[index], country=country_id)
            insert("addresses", address)
            country_id = int(address["id_country"]) if people_rng.random() < 0.7 else None

    order_mix = mix or OrderMix(new_customer_share=0.1)
    factory = OrderFactory(tables, seed=rng.getrandbits(64), rows=rows, mix=order_mix, country_weights=weights)
    for index in range(orders):
        draft = factory.build(moment(epoch, index, orders, days), horizon=epoch)
        factory.commit(draft, insert)

    dataset = PrestaShopDataset(
        tables=tables, images=images, api_keys={api_key: None},
        timezone="America/Toronto" if country == "CA" else "Europe/Paris")
    setup = build_dolibarr_setup(country, shop_name)
    return GeneratedStore(prestashop=dataset, dolibarr=setup, seed=seed, epoch=epoch)
