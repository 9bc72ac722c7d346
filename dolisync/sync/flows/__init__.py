"""Catalog flows, shop → ERP: one module per entity, wired by :mod:`dolisync.sync.engine`."""
