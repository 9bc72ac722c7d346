"""Alembic migration environment of the state store (applied by ``dolisync.store.migrate``)."""
