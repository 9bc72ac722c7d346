"""Alembic environment: runs migrations on the connection handed over by ``migrate.upgrade``.

No alembic.ini and no URL here: :func:`dolisync.store.migrate.upgrade` builds the Config in
code and passes an open SQLAlchemy connection in ``config.attributes["connection"]``.
"""

from __future__ import annotations

from alembic import context

from dolisync.store.schema import metadata


def _run() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("dolisync migrations run only through dolisync.store.migrate.upgrade")
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


_run()
