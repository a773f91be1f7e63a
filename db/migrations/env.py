"""Alembic environment: uses the connection handed over by :func:`genlens.db.migrate.upgrade`, or
creates an engine from ``sqlalchemy.url`` (batch mode for SQLite ALTERs)."""

from alembic import context

from genlens.db.engine import make_engine
from genlens.db.models import Base

config = context.config


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run the migrations on a live connection."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url"))
    try:
        with engine.begin() as own_connection:
            _run(own_connection)
    finally:
        engine.dispose()


run_migrations_online()
