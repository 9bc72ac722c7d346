"""Catalog crash safety with real kills, and no secret anywhere with DEBUG logging.

Crash test: both emulators are served on loopback (uvicorn threads of the test process); the
catalog sync runs as its own process, ``python -m dolisync.cli sync --json -c <config>``, with a
SQLite state file. The Dolibarr emulator is wrapped by :class:`Killer`, which classifies every
write (category, attribute, value, extrafield, product, variant, variant child update, category
link, stock movement, image upload) and sends SIGKILL to the sync process at its n-th write of a
chosen kind: at 14 points spread over every kind, half of them *after Dolibarr applied the write
but before the answer left* (the worst moment: the object exists, the sync never heard of it),
half right after the answer was sent. Each run resumes the previous one; a last run completes.
Dolibarr must then hold exactly what one uninterrupted sync of the same store produces (no
duplicate, nothing missing, every stock correction applied once) and match the shop's counts.

Secrets test: a sync at ``DOLISYNC_LOG__LEVEL=DEBUG`` with some failing items, then one with a
wrong Dolibarr key, then ``dolisync status`` and ``status --json``: no key in any output, in the
stored failures and runs, or anywhere in the SQLite file.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from dolisync.emulators.dolibarr import DolibarrState
from dolisync.emulators.dolibarr import create_app as dolibarr_app
from dolisync.emulators.faults import FaultPlan
from dolisync.emulators.prestashop import create_app as prestashop_app
from dolisync.emulators.serve import BackgroundServer
from tests.e2e.test_catalog_harness import DOLIBARR_KEY, CatalogWorld

ROOT = Path(__file__).resolve().parents[2]
PRODUCTS = 40
SEED = 11

_KINDS = (
    (re.compile(r"/products/\d+/variants$"), "POST", "variant"),
    (re.compile(r"/products/\d+$"), "PUT", "product_update"),
    (re.compile(r"/products$"), "POST", "product"),
    (re.compile(r"/products/attributes/\d+/values$"), "POST", "attribute_value"),
    (re.compile(r"/products/attributes$"), "POST", "attribute"),
    (re.compile(r"/setup/extrafields/"), "POST", "extrafield"),
    (re.compile(r"/categories/\d+/objects/"), "POST", "link"),
    (re.compile(r"/categories$"), "POST", "category"),
    (re.compile(r"/stockmovements$"), "POST", "stock"),
    (re.compile(r"/documents/upload$"), "POST", "image"),
)

# (kind, n-th write of that kind in the run, kill before the answer is sent)
KILL_POINTS = [
    ("category", 1, True), ("extrafield", 1, False), ("attribute_value", 3, True), ("product", 1, True),
    ("link", 2, False), ("variant", 1, True), ("product_update", 2, False), ("product", 6, True),
    ("variant", 5, False), ("link", 3, True), ("stock", 1, True), ("stock", 25, False),
    ("image", 1, True), ("image", 15, False),
]


def write_kind(method: str, path: str) -> str:
    """The kind of a Dolibarr write, from its method and path."""
    for pattern, verb, kind in _KINDS:
        if verb == method and pattern.search(path):
            return kind
    return f"{method} other"


class Killer:
    """ASGI wrapper: SIGKILL the armed process at its n-th write of one kind (see module doc)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.pid: int | None = None
        self.target: tuple[str, int] | None = None
        self.before_answer = True
        self.seen: Counter[str] = Counter()
        self.kills: list[str] = []

    def arm(self, pid: int, target: tuple[str, int, bool] | None) -> None:
        """Watch the writes of process ``pid`` (counted from zero); kill it at ``target`` if given."""
        self.target = None
        self.seen = Counter()
        self.pid = pid
        self.before_answer = True if target is None else target[2]
        self.target = None if target is None else (target[0], target[1])

    def disarm(self) -> None:
        """Kill nobody any more."""
        self.target = None
        self.pid = None

    def _kill(self, kind: str) -> None:
        if self.pid:  # never 0 or None: os.kill(0, ...) would hit the test's own process group
            os.kill(self.pid, signal.SIGKILL)
            self.kills.append(kind)
            self.pid = None
            self.target = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope.get("type") != "http" or scope["method"] in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        kind = write_kind(scope["method"], scope["path"])
        self.seen[kind] += 1
        if self.target != (kind, self.seen[kind]) or not self.pid:
            await self.app(scope, receive, send)
            return
        if not self.before_answer:
            await self.app(scope, receive, send)
            self._kill(kind)
            return
        killed = False

        async def gated(message: Any) -> None:
            nonlocal killed
            if message["type"] == "http.response.start" and not killed:
                killed = True
                self._kill(kind)
            if not killed:
                await send(message)

        await self.app(scope, receive, gated)


def snapshot(erp: DolibarrState) -> dict[str, Any]:
    """What the catalog left in Dolibarr, without ids (refs, external keys, labels, amounts)."""
    products = erp.table("products")
    categories = erp.table("categories")
    attributes = erp.table("product_attributes")
    values = erp.table("product_attribute_values")
    fields = ("ref", "ref_ext", "label", "description", "price", "price_ttc", "price_base_type", "tva_tx", "status",
              "status_buy", "barcode", "barcode_type", "cost_price", "weight", "length", "width", "height")
    product_rows = sorted(tuple(str(row.get(f)) for f in fields) + (json.dumps(row.get("array_options"),
                                                                               sort_keys=True, default=str),)
                          for row in products.values())
    ref_of = {pid: row["ref"] for pid, row in products.items()}
    movements: dict[str, list[str]] = {}
    for move in erp.table("stock_movements").values():
        movements.setdefault(ref_of[move["fk_product"]], []).append(str(move["qty"]))
    return {
        "products": product_rows,
        "categories": sorted((str(c["ref_ext"]), c["label"], str(categories[c["fk_parent"]]["ref_ext"])
                              if c["fk_parent"] else "") for c in categories.values()),
        "attributes": sorted((a["ref"], a["label"], str(a.get("ref_ext"))) for a in attributes.values()),
        "values": sorted((attributes[v["fk_product_attribute"]]["ref"], v["ref"], v["value"]) for v in values.values()),
        "extrafields": sorted((e["elementtype"], e["attrname"], e["label"]) for e in erp.table("extrafields").values()),
        "variants": sorted((ref_of[c["fk_product_parent"]], ref_of[c["fk_product_child"]], c["variation_ref_ext"],
                            str(c["variation_price"]), str(c["variation_weight"]),
                            tuple(sorted((attributes[a]["ref"], values[v]["ref"]) for a, v in c["attributes"])))
                           for c in erp.table("product_combinations").values()),
        "links": sorted((str(categories[link["fk_categorie"]]["ref_ext"]), ref_of[link["fk_object"]])
                        for link in erp.table("category_links").values() if link["type"] == "product"),
        "stock": sorted((ref_of[s["fk_product"]], s["fk_entrepot"], str(s["reel"]))
                        for s in erp.table("product_stock").values()),
        "movements": sorted((ref, sorted(qty)) for ref, qty in movements.items()),
        "files": sorted((path, len(stored.content)) for path, stored in erp.files.items()),
    }


def no_duplicates(state: dict[str, Any]) -> None:
    """Every object exactly once: keys, refs, links, files and movements are unique."""
    for name, position in (("products", 0), ("products", 1), ("categories", 0), ("attributes", 0), ("values", None),
                           ("variants", 1), ("links", None), ("files", 0)):
        column = [row if position is None else row[position] for row in state[name]]
        repeated = [key for key, n in Counter(column).items() if n > 1]
        assert not repeated, f"duplicate {name}: {repeated[:5]}"
    assert all(len(qty) == 1 for _ref, qty in state["movements"]), "a stock correction was applied twice"


def write_config(path: Path, world: CatalogWorld, shop_url: str, erp_url: str, state: Path) -> None:
    """The child's TOML configuration (keys come from the environment)."""
    shop = world.settings.shop[0]
    path.write_text(
        f'[state]\nurl = "sqlite:///{state}"\n\n'
        f'[dolibarr]\nurl = "{erp_url}/api/index.php"\nrate_per_s = 100000\nretries = 1\n\n'
        f'[[shop]]\nname = "{shop.name}"\nurl = "{shop_url}"\nid_shop = {shop.id_shop}\n'
        f'default_warehouse = "{shop.default_warehouse}"\nrate_per_s = 100000\nretries = 1\n',
        encoding="utf-8",
    )


def child_env(world: CatalogWorld, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("DOLISYNC_")}
    env.update({"DOLISYNC_DOLIBARR__KEY": DOLIBARR_KEY,
                "DOLISYNC_SHOP__0__KEY": world.settings.shop[0].key.get_secret_value(),
                "DOLISYNC_LOG__LEVEL": "WARNING", **extra})
    return env


def run_cli(args: list[str], env: dict[str, str], killer: Killer | None = None,
            target: tuple[str, int, bool] | None = None) -> subprocess.CompletedProcess[str]:
    process = subprocess.Popen([sys.executable, "-m", "dolisync.cli", *args], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if killer is not None:
        killer.arm(process.pid, target)
    out, err = process.communicate(timeout=120)
    if killer is not None:
        killer.disarm()
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


@pytest.mark.timeout(300)
def test_sigkill_at_fourteen_points_of_a_catalog_sync_leaves_no_duplicate_and_nothing_missing(tmp_path: Path) -> None:
    (tmp_path / "ref").mkdir()
    reference = CatalogWorld.build(tmp_path / "ref", products=PRODUCTS, seed=SEED)
    summary = asyncio.run(reference.sync())
    assert summary.ok and not summary.parked, summary.to_dict()
    expected = snapshot(reference.erp)
    no_duplicates(expected)

    world = CatalogWorld.build(tmp_path, products=PRODUCTS, seed=SEED)
    killer = Killer(dolibarr_app(world.erp, auth_failure_delay=0.0))
    shop_app = prestashop_app(world.shop, base_url="http://127.0.0.1")
    codes: list[int] = []
    with BackgroundServer(killer) as erp_server, BackgroundServer(shop_app) as shop_server:
        config = tmp_path / "dolisync.toml"
        write_config(config, world, shop_server.url, erp_server.url, tmp_path / "state.sqlite")
        env = child_env(world)
        for point in KILL_POINTS:
            result = run_cli(["sync", "--json", "-c", str(config)], env, killer, point)
            assert result.returncode in (0, -signal.SIGKILL), result.stderr[-2000:]
            codes.append(result.returncode)
        final = run_cli(["sync", "--json", "-c", str(config)], env, killer, None)
        assert final.returncode == 0, final.stderr[-2000:]
        again = run_cli(["sync", "--json", "-c", str(config)], env, killer, None)
    assert codes.count(-signal.SIGKILL) >= 10, (codes, killer.kills)
    assert len(set(killer.kills)) >= 8, killer.kills  # categories, products, variants, links, stock, images...

    state = snapshot(world.erp)
    no_duplicates(state)
    assert state == expected
    # ...and it is the shop: every product, combination (variant child) and image exactly once
    shop_products = world.shop.rows("products")
    shop_combinations = world.shop.rows("combinations")
    assert len(state["products"]) == len(shop_products) + len(shop_combinations)
    assert len(state["variants"]) == len(shop_combinations)
    assert len(state["files"]) == len(world.generated.prestashop.images)
    # a last run after all that writes nothing
    document = json.loads(again.stdout[again.stdout.index("{"):])
    assert document["shops"][0]["requests"]["dolibarr"]["writes"] == 0, document["shops"][0]["entities"]


def _secret_free(text: str, secrets: list[str], where: str) -> None:
    for secret in secrets:
        assert secret not in text, f"a key leaked into {where}"


@pytest.mark.timeout(180)
def test_debug_logging_status_and_stored_failures_never_show_a_key(tmp_path: Path) -> None:
    world = CatalogWorld.build(tmp_path, products=12, seed=5)
    shop_key = world.settings.shop[0].key.get_secret_value()
    wrong_key = "WRONG-dolibarr-key-7c1f0a9e5d"
    secrets = [shop_key, DOLIBARR_KEY, wrong_key]
    # every image upload fails with a 500: failures with messages get stored
    faults = FaultPlan.from_specs(["path=/api/index.php/documents/upload*,error_rate=1,status=500"])
    erp_app = dolibarr_app(world.erp, faults=faults, auth_failure_delay=0.0)
    with BackgroundServer(erp_app) as erp_server, \
            BackgroundServer(prestashop_app(world.shop, base_url="http://127.0.0.1")) as shop_server:
        config = tmp_path / "dolisync.toml"
        state = tmp_path / "state.sqlite"
        write_config(config, world, shop_server.url, erp_server.url, state)
        debug = child_env(world, DOLISYNC_LOG__LEVEL="DEBUG")
        synced = run_cli(["sync", "--json", "-c", str(config)], debug)
        refused = run_cli(["sync", "products", "-c", str(config)], {**debug, "DOLISYNC_DOLIBARR__KEY": wrong_key})
        status = run_cli(["status", "-c", str(config)], debug)
        status_json = run_cli(["status", "--json", "-c", str(config)], debug)

    assert synced.returncode == 1, synced.stderr[-2000:]  # the image uploads failed
    assert "remote.request" in synced.stderr  # DEBUG really logged every request
    assert refused.returncode != 0
    assert status.returncode == 0 and status_json.returncode == 0, status.stderr[-2000:]
    document = json.loads(status_json.stdout)
    items = document["shops"][0]["items"]
    assert any("image" in item["key"] for item in items), items
    for name, result in (("sync", synced), ("refused sync", refused), ("status", status),
                         ("status --json", status_json)):
        _secret_free(result.stdout, secrets, f"{name} stdout")
        _secret_free(result.stderr, secrets, f"{name} stderr")
    with sqlite3.connect(state) as db:
        for table in ("failures", "runs"):
            rows = db.execute(f"SELECT * FROM {table}").fetchall()  # noqa: S608 - fixed table names
            assert rows, table
            _secret_free(repr(rows), secrets, f"stored {table}")
        errors = [row[0] for row in db.execute("SELECT error FROM runs WHERE status = 'failed'")]
    assert errors and all(errors), errors  # the refused run stored why (without the key it was refused)
    for path in tmp_path.glob("state.sqlite*"):
        _secret_free(path.read_bytes().decode("latin-1"), secrets, path.name)
