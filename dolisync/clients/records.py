"""All typed records of both remotes, in one import.

``from dolisync.clients.records import Product, Order, DoliProduct, ...``. The models live in
:mod:`dolisync.clients.prestashop_records` (PrestaShop, plain names) and
:mod:`dolisync.clients.dolibarr_records` (Dolibarr, ``Doli`` prefix); the field types shared by
both (Decimal money, defensive ints/flags/dates, multilang dicts) in :mod:`dolisync.clients.fields`.
"""

from __future__ import annotations

from dolisync.clients.dolibarr_records import *  # noqa: F403
from dolisync.clients.dolibarr_records import __all__ as _doli_all
from dolisync.clients.fields import multilang_text, parse_multilang
from dolisync.clients.prestashop_records import *  # noqa: F403
from dolisync.clients.prestashop_records import __all__ as _ps_all

__all__ = [*_ps_all, *_doli_all, "multilang_text", "parse_multilang"]
