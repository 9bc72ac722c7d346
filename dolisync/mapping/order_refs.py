"""The Dolibarr ``ref`` of an order in ``order_ref_mode = "ref"`` (pure, no I/O).

Dolibarr keeps a ref given to ``POST /orders`` (``Commande::create()``) and ``valid()`` keeps
any ref that does not match ``/^[\\(]?PROV/i``; the ref must be unique (``uk_commande_ref`` on
ref + entity). PrestaShop gives every order split from one cart the same reference, so:

* the first order of the reference (lowest id) gets the reference itself (``XKBKNABJK``), the
  next ones ``XKBKNABJK-2``, ``XKBKNABJK-3``… by id order — the same on every run and after
  any crash, whichever order is synced first;
* no reference, or one Dolibarr would replace by its numbering (``PROV…``: 1 reference in
  ~457,000), gives ``None``: Dolibarr numbers that order itself (``CO…``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["order_ref"]

_PROVISIONAL = re.compile(r"^\(?PROV", re.IGNORECASE)


def order_ref(reference: str, order_id: int, siblings: Sequence[int] = ()) -> str | None:
    """The ref for order ``order_id`` whose reference is shared by ``siblings`` (ids, any order,
    itself included or not); ``None`` when Dolibarr must number it (see module docstring)."""
    reference = reference.strip()
    if not reference or _PROVISIONAL.match(reference):
        return None
    rank = 1 + sum(1 for other in set(siblings) if other < order_id)
    return reference if rank == 1 else f"{reference}-{rank}"
