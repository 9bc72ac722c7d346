"""Every catalogue-area sample is either replayed or listed, with a reason, as unsupported."""

from __future__ import annotations

from dolisync.emulators.dolibarr.replay_fixture import CATALOG_SEQUENCE
from tests.contract.dolibarr.replay import SAMPLES_DIR, load_sample, unsupported_samples

CATALOG_PREFIXES = ("status", "products_", "attribute", "variants_", "categories_", "warehouses_", "stockmovements_",
                    "documents_", "setup_", "dict_", "multicurrencies_", "error_", "empty_list", "users_")


def test_every_catalogue_sample_is_replayed_or_explained() -> None:
    names = sorted(p.stem for p in SAMPLES_DIR.glob("*.json") if p.stem.startswith(CATALOG_PREFIXES))
    unsupported = unsupported_samples()
    missing = [n for n in names if n not in CATALOG_SEQUENCE and n not in unsupported]
    assert names, "no sample found"
    assert not missing, f"samples neither replayed nor listed in UNSUPPORTED.md: {missing}"
    assert all(reason.strip() for reason in unsupported.values())


def test_sequence_names_exist_and_are_unique() -> None:
    assert len(CATALOG_SEQUENCE) == len(set(CATALOG_SEQUENCE))
    for name in CATALOG_SEQUENCE:
        assert load_sample(name).is_call, name
