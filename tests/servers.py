"""Real servers and worker processes for the service tests: the helpers of
:mod:`genlens.worker.local_servers`, and :class:`Deployment`, a local deployment whose workers
also load the test-only job kinds (:mod:`service_kinds`, from this folder)."""

from pathlib import Path

from genlens.worker.local_servers import (
    LocalDeployment,
    PostgresServer,
    RedisServer,
    ServerError,
    free_port,
    stop_process,
    wait_for,
)

REPO = Path(__file__).resolve().parent.parent

__all__ = [
    "REPO",
    "Deployment",
    "PostgresServer",
    "RedisServer",
    "ServerError",
    "free_port",
    "stop_process",
    "wait_for",
]


class Deployment(LocalDeployment):
    """One isolated deployment for a test (see :class:`LocalDeployment`): workers run in the
    checkout with ``tests/`` importable and the ``service_kinds`` plugin loaded."""

    def __init__(
        self, folder: Path, database_url: str | None, broker_url: str | None, **overrides: str
    ):
        super().__init__(
            folder,
            database_url,
            broker_url,
            plugins=["service_kinds"],
            pythonpath=[REPO, REPO / "tests"],
            cwd=REPO,
            **overrides,
        )
