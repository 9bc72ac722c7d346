"""Customers, orders, invoices and payments, PrestaShop -> Dolibarr, exact to the cent.

Public API: :func:`sync_orders`, :func:`sync_customers`, :func:`retry_orders`,
:func:`reconcile_report` (see :mod:`dolisync.sync.orders.api`) and
:class:`~dolisync.sync.orders.context.OrderSyncOptions`. The order script itself is
:class:`dolisync.sync.orders.engine.OrderEngine`; docs/orders.md explains the whole flow.
"""

from __future__ import annotations

from dolisync.sync.orders.api import reconcile_report, retry_orders, sync_customers, sync_orders
from dolisync.sync.orders.context import OrderSyncOptions

__all__ = ["sync_orders", "sync_customers", "retry_orders", "reconcile_report", "OrderSyncOptions"]
