"""dolisync: keep PrestaShop stores and a Dolibarr ERP/CRM in sync."""

__version__ = "0.1.0"
