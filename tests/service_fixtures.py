"""Pytest fixtures for the service tests (servers and deployments from :mod:`servers`)."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from servers import Deployment, PostgresServer, RedisServer

from genlens.db.engine import Database
from genlens.db.migrate import upgrade
from genlens.worker.client import JobClient
from genlens.worker.context import Runtime
from genlens.worker.settings import Settings


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A real Redis for the whole session."""
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A real PostgreSQL cluster for the whole session."""
    server = PostgresServer()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a migrated, empty database: SQLite, then a real PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'jobs.db'}"
    else:
        url = request.getfixturevalue("postgres_server").create_database()
    upgrade(url)
    return url


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    """A :class:`Database` on each backend."""
    db = Database(database_url)
    yield db
    db.close()


@pytest.fixture
def runtime(database_url: str, tmp_path: Path) -> Iterator[Runtime]:
    """A worker runtime on each backend (filesystem broker and artifacts under tmp_path)."""
    settings = Settings(
        data_dir=tmp_path, database_url=database_url, device="cpu", progress_interval=0
    )
    runtime = Runtime(settings)
    yield runtime
    runtime.db.close()


@pytest.fixture
def client(runtime: Runtime) -> Iterator[JobClient]:
    """A client on the same deployment as ``runtime``."""
    client = JobClient(runtime.settings)
    yield client
    client.close()


BROKERS = ["filesystem", "redis"]


@pytest.fixture(scope="module", params=BROKERS)
def service(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployment]:
    """A SQLite deployment with one worker, on the filesystem broker and on a real Redis;
    shared by the tests of a module (tests check only their own jobs)."""
    broker = None
    if request.param == "redis":
        broker = request.getfixturevalue("redis_server").url.replace("/0", f"/{_redis_db()}")
    deployment = Deployment(tmp_path_factory.mktemp(request.param), None, broker)
    deployment.ensure_workers(1)
    yield deployment
    deployment.close()


_databases = iter(range(1, 16))


def _redis_db() -> int:
    """A different Redis database number per deployment (no leftovers between them)."""
    return next(_databases)
