"""Order state rules: which PrestaShop order states drive which Dolibarr effect.

Contract:

* :func:`resolve_rules` turns the ``[shop.order_state_rules]`` section and the shop's
  ``order_states`` into explicit sets (:class:`StateRules`). Empty configured sets take the
  defaults that work on a stock PrestaShop 8: *create* = every state except the cancelled one
  and error states (template ``payment_error``), *invoice* = states flagged ``invoice``,
  *payment* = states flagged ``paid``, *shipped* = states flagged ``shipped`` plus the
  configured shipped state, *delivered* = states flagged ``delivery`` that are also shipped
  plus the configured delivered state. A configured id that does not exist raises
  :class:`UnknownState` (the doctor reports it; a sync refuses to guess).
* :meth:`StateRules.progress` reads what an order has *reached*: its history of states plus
  its current state. An effect is wanted as soon as one reached state is in its set, so an
  order first seen late (already shipped) still gets every earlier effect, and a replayed or
  repeated state changes nothing. Cancellation is the exception: it counts only while the
  order's *current* state is the cancelled one (an order may be cancelled and reopened).
* Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["StateRules", "Progress", "UnknownState", "resolve_rules"]


class UnknownState(ValueError):
    """A configured order state id does not exist in the shop."""


@dataclass(frozen=True, slots=True)
class Progress:
    """The Dolibarr effects an order's reached states call for."""

    create: bool
    invoice: bool
    payment: bool
    shipped: bool
    delivered: bool
    cancelled: bool

    def as_dict(self) -> dict[str, bool]:
        """Plain dict (hashing, logs)."""
        return {name: getattr(self, name) for name in self.__slots__}


@dataclass(frozen=True, slots=True)
class StateRules:
    """Resolved state sets of one shop (see module docstring)."""

    create: frozenset[int]
    invoice: frozenset[int]
    payment: frozenset[int]
    shipped: frozenset[int]
    delivered: frozenset[int]
    cancelled: int | None
    names: tuple[tuple[int, str], ...] = ()

    def name_of(self, state_id: int) -> str:
        """The state's name (for messages), or ``#id``."""
        return dict(self.names).get(state_id, f"#{state_id}")

    def progress(self, current_state: int, history: Iterable[int]) -> Progress:
        """What the order has reached (history + current state); see module docstring."""
        reached = {int(s) for s in history} | {int(current_state)}
        cancelled = self.cancelled is not None and int(current_state) == self.cancelled
        return Progress(
            create=bool(reached & self.create) and not cancelled or int(current_state) in self.create,
            invoice=bool(reached & self.invoice),
            payment=bool(reached & self.payment),
            shipped=bool(reached & self.shipped) and not cancelled,
            delivered=bool(reached & self.delivered) and not cancelled,
            cancelled=cancelled,
        )


def _field(state: Any, name: str) -> Any:
    return state.get(name) if isinstance(state, dict) else getattr(state, name, None)


def _flag(state: Any, name: str) -> bool:
    value = _field(state, name)
    return value is True or str(value).strip() in ("1", "true", "True")


def _template(state: Any) -> str:
    value = _field(state, "template")
    if isinstance(value, dict):
        return " ".join(str(v) for v in value.values())
    return str(value or "")


def _name(state: Any) -> str:
    value = _field(state, "name")
    if isinstance(value, dict):
        for key in sorted(value):
            if value[key]:
                return str(value[key])
        return ""
    return str(value or "")


def resolve_rules(config: Any, states: Sequence[Any]) -> StateRules:
    """Explicit state sets from ``config`` (an :class:`~dolisync.config.OrderStateRules`) and the
    shop's ``order_states`` (records or raw rows). Raises :class:`UnknownState`."""
    by_id = {int(_field(s, "id")): s for s in states if not _flag(s, "deleted")}
    known = set(by_id)

    def check(ids: Iterable[int], option: str) -> frozenset[int]:
        wanted = frozenset(int(i) for i in ids)
        missing = sorted(wanted - known)
        if missing:
            raise UnknownState(
                f"order_state_rules.{option} names state(s) {missing} that do not exist in PrestaShop "
                f"(existing: {sorted(known)}): fix the [shop.order_state_rules] section")
        return wanted

    cancelled = config.cancelled
    if cancelled is not None and cancelled not in known:
        raise UnknownState(f"order_state_rules.cancelled = {cancelled} does not exist in PrestaShop "
                           f"(existing: {sorted(known)})")
    errors = {sid for sid, s in by_id.items() if "payment_error" in _template(s) or "error" in _name(s).lower()}
    create = check(config.create, "create") if config.create else frozenset(known - errors - {cancelled})
    invoice = check(config.invoice, "invoice") if config.invoice else frozenset(
        sid for sid, s in by_id.items() if _flag(s, "invoice") and sid != cancelled)
    payment = check(config.payment, "payment") if config.payment else frozenset(
        sid for sid, s in by_id.items() if _flag(s, "paid") and sid != cancelled)
    shipped = {sid for sid, s in by_id.items() if _flag(s, "shipped")}
    delivered = {sid for sid, s in by_id.items() if _flag(s, "delivery") and _flag(s, "shipped")
                 and config.delivered is None}
    if config.shipped is not None:
        shipped |= check([config.shipped], "shipped")
    if config.delivered is not None:
        delivered |= check([config.delivered], "delivered")
    names = tuple(sorted((sid, _name(s)) for sid, s in by_id.items()))
    return StateRules(create=create, invoice=invoice, payment=payment, shipped=frozenset(shipped),
                      delivered=frozenset(delivered), cancelled=cancelled, names=names)
