"""Shop facts the catalog options need: language ids and the weight/dimension units.

* :func:`shop_language_ids` turns the configured ISO code into PrestaShop's language id and
  picks a fallback language (the lowest other id) for texts missing in the configured one.
  An unknown ISO code stops the run with a :class:`MappingError` naming the known codes.
* :func:`shop_currency` is the ISO code of the shop's default currency (the currency of
  product prices), or "" when it cannot be read.
* :func:`shop_units` reads ``PS_WEIGHT_UNIT`` / ``PS_DIMENSION_UNIT`` (shop row first, then
  global); PrestaShop's defaults ``kg``/``cm`` when they are not readable.
"""

from __future__ import annotations

from dolisync.clients.errors import RemoteError
from dolisync.clients.prestashop import PrestaShopClient
from dolisync.clients.prestashop_records import Language
from dolisync.mapping.errors import MappingError
from dolisync.sync.flows.ports import ShopPort

__all__ = ["shop_language_ids", "shop_units", "shop_currency"]


async def shop_language_ids(shop: ShopPort, iso_code: str) -> tuple[int, int | None]:
    """``(language id, fallback language id)`` for ``iso_code`` (see module docstring)."""
    languages = await shop.list_all("languages", Language)
    chosen = next((lang.id for lang in languages if lang.iso_code.lower() == iso_code.lower()), None)
    if chosen is None:
        known = ", ".join(sorted(lang.iso_code for lang in languages)) or "none"
        raise MappingError("configuration", "shop", "language", iso_code,
                           f"the shop has no language {iso_code!r} (it has: {known}): fix `language` in the [[shop]] entry")
    others = sorted(lang.id for lang in languages if lang.id != chosen)
    return chosen, (others[0] if others else None)


async def shop_units(client: PrestaShopClient, id_shop: int) -> tuple[str, str]:
    """``(weight unit, dimension unit)`` as configured in the shop (see module docstring)."""
    found: dict[str, tuple[int, str]] = {}
    try:
        async for row in client.list_raw("configurations",
                                         filters={"name": "[PS_WEIGHT_UNIT|PS_DIMENSION_UNIT]"}):
            name = str(row.get("name", ""))
            shop_id = int(row.get("id_shop") or 0)
            rank = 2 if shop_id == id_shop else (1 if shop_id == 0 else 0)
            value = str(row.get("value") or "").strip()
            if value and rank and rank >= found.get(name, (0, ""))[0]:
                found[name] = (rank, value)
    except RemoteError:
        pass
    return found.get("PS_WEIGHT_UNIT", (0, "kg"))[1], found.get("PS_DIMENSION_UNIT", (0, "cm"))[1]


async def shop_configuration(client: PrestaShopClient, name: str, id_shop: int) -> str:
    """The value of configuration ``name`` for ``id_shop`` (a shop row beats the global one; "" = unset)."""
    best: tuple[int, str] = (0, "")
    async for row in client.list_raw("configurations", filters={"name": f"[{name}]"}):
        shop_id = int(row.get("id_shop") or 0)
        rank = 2 if shop_id == id_shop else (1 if shop_id == 0 else 0)
        value = str(row.get("value") or "").strip()
        if value and rank >= best[0] and rank:
            best = (rank, value)
    return best[1]


async def shop_currency(client: PrestaShopClient, id_shop: int) -> str:
    """ISO code of ``PS_CURRENCY_DEFAULT`` (see module docstring)."""
    try:
        currency_id = await shop_configuration(client, "PS_CURRENCY_DEFAULT", id_shop)
        if not currency_id.isdigit():
            return ""
        row = await client.get_raw("currencies", int(currency_id))
    except RemoteError:
        return ""
    return str(row.get("iso_code") or "").upper()
