"""Every catalogue/stock/documents/setup/error sample replayed, in recorded order, on the emulator."""

from __future__ import annotations

import anyio
import httpx2 as httpx
import pytest

from dolisync.emulators.dolibarr import create_app
from dolisync.emulators.dolibarr.replay_fixture import CATALOG_SEQUENCE, PREPARE, key_for_auth, recorded_state
from tests.contract.dolibarr.replay import Outcome, Sample, run_sequence, unsupported_samples

#: Per-sample keys whose values legitimately differ (still structure- and type-checked elsewhere).
IGNORE: dict[str, tuple[str, ...]] = {
    # The recorded PDF was produced by Dolibarr's "sponge" template; ours is a small valid PDF.
    "documents_builddoc_invoice_pdf": ("content", "filesize"),
    "documents_download_invoice_pdf": ("content", "filesize"),
    "documents_list_invoice": ("size", "label"),
    # Recorded after ~1000 benchmark products and stock movements on the same instance.
    "products_create_unknown_field_ignored": ("$",),
    "products_get_numeric_string_id": ("stock_reel",),
}

#: Samples the recorder trimmed to a few keys.
SUBSET = ("products_get_price_ttc_correct", "products_get_after_image_upload")

_results: dict[str, tuple[Sample, Outcome]] = {}


def _replay_all() -> dict[str, tuple[Sample, Outcome]]:
    if _results:
        return _results
    state = recorded_state()
    app = create_app(state, auth_failure_delay=0)

    async def main() -> dict[str, tuple[Sample, Outcome]]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://emulator/api/index.php",
                                     timeout=10.0) as client:
            return await run_sequence(client, CATALOG_SEQUENCE, key_for=key_for_auth, prepare=PREPARE, state=state,
                                      ignore=IGNORE, subset=SUBSET)

    _results.update(anyio.run(main))
    return _results


@pytest.mark.parametrize("name", CATALOG_SEQUENCE)
def test_sample_replays(name: str) -> None:
    unsupported = unsupported_samples()
    assert name not in unsupported, f"{name} is both replayed and listed as unsupported"
    sample, outcome = _replay_all()[name]
    assert not outcome.differences, f"{name}: " + "; ".join(outcome.differences[:15])
    assert outcome.status == sample.status
