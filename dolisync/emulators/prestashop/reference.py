"""The reference shop: the real 8.2.1 demo shop that ``reference/prestashop/real`` was captured from.

Contract: :func:`reference_dataset` returns a fresh :class:`PrestaShopDataset` (languages en/fr,
the 19 demo products, combinations, stock, customers, addresses, orders ... as the captures show
them before any write), with three keys: full permission, products GET/HEAD only, and one that
the store marks inactive (see :data:`REFERENCE_KEYS`). The data file ``reference_shop.json`` is
produced by ``_extract_reference``; it is read on each call (no import-time I/O).
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

from dolisync.emulators.dataset import ImageBlob, PrestaShopDataset

__all__ = ["reference_dataset", "REFERENCE_KEYS", "REFERENCE_BASE_URL"]

REFERENCE_BASE_URL = "http://127.0.0.1:8090"
REFERENCE_KEYS: dict[str, str] = {
    "full": "REFERENCEFULLKEY0000000000000001",
    "limited": "REFERENCELIMITEDKEY0000000000002",
    "inactive": "REFERENCEINACTIVEKEY000000000003",
}
_DATA_FILE = Path(__file__).with_name("reference_shop.json")


def reference_dataset() -> PrestaShopDataset:
    """A new dataset reproducing the captured demo shop (see module docstring)."""
    payload = json.loads(_DATA_FILE.read_text(encoding="utf-8"))
    images = {
        int(i["id_image"]): ImageBlob(
            id_image=int(i["id_image"]),
            id_product=int(i["id_product"]),
            content=base64.b64decode(i["content"]),
            mime=i.get("mime", "image/jpeg"),
        )
        for i in payload["images"]
    }
    return PrestaShopDataset(
        tables=payload["tables"],
        images=images,
        api_keys={
            REFERENCE_KEYS["full"]: None,
            REFERENCE_KEYS["limited"]: {"products": ["GET", "HEAD"]},
            REFERENCE_KEYS["inactive"]: {"_inactive": []},
        },
        shop_domain="127.0.0.1:8090",
        timezone="Europe/Paris",
    )
