"""Engine and session factory: SQLite by default (WAL, busy timeout, foreign keys), PostgreSQL
by URL (``postgresql+psycopg://...``, psycopg 3)."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.orm import Session, sessionmaker

from genlens.core.errors import ParameterError

SQLITE_PRAGMAS = (
    "PRAGMA busy_timeout=30000",  # first: switching to WAL can itself hit SQLITE_BUSY
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    for pragma in SQLITE_PRAGMAS:
        cursor.execute(pragma)
    cursor.close()


def _sqlite_engine(url: str) -> Engine:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30})
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _server_engine(url: str) -> Engine:
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)


ENGINE_FACTORIES = {"sqlite": _sqlite_engine, "postgresql": _server_engine}


def make_engine(url: str) -> Engine:
    """An engine for ``url``; a SQLite file's folder is created when missing."""
    backend = make_url(url).get_backend_name()
    if backend not in ENGINE_FACTORIES:
        raise ParameterError(
            f"unsupported database {backend!r}; use sqlite:///... or postgresql+psycopg://..."
        )
    return ENGINE_FACTORIES[backend](url)


class Database:
    """An engine plus its session factory; one per process (dispose after fork)."""

    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def begin(self) -> Iterator[Session]:
        """A session inside one transaction: committed on success, rolled back on error."""
        with self.sessions.begin() as session:
            yield session

    def after_fork(self) -> None:
        """Drop pooled connections inherited from the parent without closing its sockets."""
        self.engine.dispose(close=False)

    def close(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
