"""DolibarrState persistence, ids, refs and events; core formatting helpers."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from dolisync.emulators.dataset import DolibarrSetup, VatRate
from dolisync.emulators.dolibarr.core import as_decimal, fmt_amount, fmt_rate
from dolisync.emulators.dolibarr.documents import store_file
from dolisync.emulators.dolibarr.state import DolibarrState


def _state() -> DolibarrState:
    setup = DolibarrSetup(vat_rates=[VatRate("20.000")], warehouses=[{"ref": "WH1", "label": "Main"}],
                          multicurrencies={"USD": "1.1"}, api_keys={"k": "admin"})
    state = DolibarrState.from_setup(setup)
    state.clock = lambda: 1795835347  # 2026-11-28
    return state


def test_from_setup_seeds_warehouses_and_currencies() -> None:
    state = _state()
    assert [w["ref"] for w in state.table("warehouses").values()] == ["WH1"]
    assert sorted(c["code"] for c in state.table("multicurrencies").values()) == ["EUR", "USD"]
    assert state.api_keys == {"k": "admin"}


def test_ids_are_never_reused() -> None:
    state = _state()
    first = state.insert("products", {"ref": "A"})
    state.delete("products", first)
    assert state.insert("products", {"ref": "B"}) == first + 1


def test_refs_follow_prefix_month_counter() -> None:
    state = _state()
    assert state.next_ref("CO") == "CO2611-0001"
    assert state.next_ref("CO") == "CO2611-0002"
    assert state.next_ref("FA") == "FA2611-0001"
    assert DolibarrState.draft_ref(12) == "(PROV12)"


def test_emit_appends_and_calls_hooks() -> None:
    state = _state()
    seen: list[str] = []
    state.event_hooks.append(lambda event: seen.append(event.triggercode))
    state.emit("PRODUCT_CREATE", {"id": 1}, {"caller": "x"})
    assert [e.triggercode for e in state.events] == ["PRODUCT_CREATE"] and seen == ["PRODUCT_CREATE"]
    assert state.events[0].context == {"caller": "x"} and state.events[0].at == 1795835347


def test_save_load_round_trip(tmp_path: Path) -> None:
    state = _state()
    state.insert("products", {"ref": "A", "price": Decimal("20.00000"), "array_options": {"ps_id": "4"},
                              "lines": [{"fk_product": 1}]})
    store_file(state, "produit", "A", "a.png", b"\x00\x01binary")
    state.next_ref("CO")
    target = tmp_path / "state.json"
    state.save(target)
    loaded = DolibarrState.load(target)
    assert loaded.table("products") == state.table("products")
    assert isinstance(loaded.table("products")[1]["price"], Decimal)
    assert loaded.files["produit/A/a.png"].content == b"\x00\x01binary"
    assert loaded.next_ref("CO") == "CO2611-0002"
    assert loaded.insert("products", {"ref": "B"}) == 2
    assert loaded.setup.vat_rates == state.setup.vat_rates


def test_formatting() -> None:
    assert fmt_amount(Decimal("20")) == "20.00000000"
    assert fmt_amount(0) == "0.00000000"
    assert fmt_amount(None) is None
    assert fmt_rate("5.5") == "5.5000"
    assert as_decimal(7.5) == Decimal("7.5") and as_decimal("garbage") == 0
