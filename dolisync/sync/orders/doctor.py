"""Checks of the order setup for ``dolisync check`` (the lead wires them into the doctor).

:func:`order_setup_problems` returns one fix-it line per problem: configured state ids that do
not exist, invoice states without PrestaShop's *invoice* flag, payment modules seen in recent
orders that are not mapped to an existing Dolibarr bank account, carriers or warehouses of the
carrier → warehouse map that do not exist. Reads only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dolisync.clients.dolibarr import DolibarrClient
from dolisync.clients.prestashop import PrestaShopClient
from dolisync.clients.prestashop_records import Order
from dolisync.config import Settings, ShopSettings
from dolisync.sync.orders.erp_setup import ErpSetup, SetupProblem
from dolisync.sync.orders.rules import UnknownState, resolve_rules
from dolisync.sync.orders.shop_reader import ShopReader

__all__ = ["order_setup_problems", "RECENT_ORDERS"]

RECENT_ORDERS = 200


async def order_setup_problems(settings: Settings, shop: ShopSettings, *,
                               transports: Mapping[str, Any] | None = None) -> list[str]:
    """Problems of the order setup of ``shop`` (empty list = fine)."""
    transports = transports or {}
    problems: list[str] = []
    async with PrestaShopClient.from_settings(shop, transport=transports.get("prestashop")) as prestashop, \
            DolibarrClient.from_settings(settings.dolibarr, transport=transports.get("dolibarr")) as dolibarr:
        reference = await ShopReader(prestashop).reference()
        erp = await ErpSetup.load(dolibarr)
        rules_config = shop.order_state_rules
        try:
            resolve_rules(rules_config, reference.states)
        except UnknownState as error:
            problems.append(f"shop[{shop.name}]: {error}")
        flagged = {s.id for s in reference.states if s.invoice}
        for state in rules_config.invoice:
            if state not in flagged and any(s.id == state for s in reference.states):
                problems.append(f"shop[{shop.name}]: order_state_rules.invoice lists state {state}, which has no "
                                "'invoice' flag in PrestaShop: PrestaShop makes no invoice in it — set the flag "
                                "(Orders > Statuses) or remove the state")
        ids = await prestashop.list_ids("orders")
        recent = ids[-RECENT_ORDERS:]
        modules: set[str] = set()
        if recent:
            async for order in prestashop.list("orders", record_type=Order, filters={"id": recent}):
                if order.module:
                    modules.add(order.module)
        for module in sorted(modules):
            try:
                erp.bank_account_id(module, shop.payment_accounts)
            except SetupProblem as error:
                problems.append(f"shop[{shop.name}]: {error}")
        for carrier, warehouse in sorted(shop.carrier_warehouses.items()):
            if not any(str(c.id_reference or c.id) == carrier for c in reference.carriers.values()):
                problems.append(f"shop[{shop.name}]: carrier_warehouses names carrier {carrier}, which does not "
                                "exist in PrestaShop (use the carrier's id_reference)")
            try:
                erp.warehouse_id(warehouse)
            except SetupProblem as error:
                problems.append(f"shop[{shop.name}]: {error}")
        if shop.default_warehouse:
            try:
                erp.warehouse_id(shop.default_warehouse)
            except SetupProblem as error:
                problems.append(f"shop[{shop.name}]: {error}")
    return problems
