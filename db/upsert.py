"""``INSERT ... ON CONFLICT DO NOTHING`` for every supported dialect (a registry, no if-chain)."""

from collections.abc import Callable
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase, Session

INSERTS: dict[str, Callable[[Any], Any]] = {
    "sqlite": sqlite.insert,
    "postgresql": postgresql.insert,
}


def insert_ignore(session: Session, model: type[DeclarativeBase], values: dict[str, Any]) -> None:
    """Insert one row of ``model`` unless a row with the same primary key exists."""
    statement = INSERTS[session.get_bind().dialect.name](model.__table__).values(**values)
    session.execute(statement.on_conflict_do_nothing())
