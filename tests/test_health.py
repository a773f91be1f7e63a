"""``genlens.worker.health`` and ``genlens status`` against real servers and worker subprocesses:
the embedded deployment (filesystem broker + SQLite) and the full one (Redis + PostgreSQL)."""

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from servers import REPO, Deployment, RedisServer, free_port

from genlens.db.migrate import upgrade
from genlens.worker.health import check_broker, check_database, health_report
from genlens.worker.settings import Settings

pytest_plugins = ["service_fixtures"]


def _settings(tmp_path: Path, **values: str) -> Settings:
    return Settings(data_dir=tmp_path, **values)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_database_check_needs_the_head_revision(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'jobs.db'}"
    else:
        url = request.getfixturevalue("postgres_server").create_database()
    settings = _settings(tmp_path, database_url=url)
    empty = check_database(settings, timeout=3)
    assert not empty["ok"] and empty["revision"] == []
    assert "genlens db upgrade" in empty["detail"]
    upgrade(url, "0001")
    behind = check_database(settings, timeout=3)
    assert not behind["ok"] and behind["revision"] == ["0001"]
    upgrade(url)
    current = check_database(settings, timeout=3)
    assert current["ok"] and current["revision"] == current["head"] != ["0001"]


def test_database_check_reports_an_unreachable_server_without_the_password(
    tmp_path: Path,
) -> None:
    url = f"postgresql+psycopg://genlens:s3cret@127.0.0.1:{free_port()}/genlens"
    check = check_database(_settings(tmp_path, database_url=url), timeout=2)
    assert not check["ok"] and "OperationalError" in check["detail"]
    assert "s3cret" not in json.dumps(check)


def test_broker_check(tmp_path: Path, redis_server: RedisServer) -> None:
    assert check_broker(_settings(tmp_path, broker_url=redis_server.url), timeout=2)["ok"]
    down = check_broker(
        _settings(tmp_path, broker_url=f"redis://:pw@127.0.0.1:{free_port()}/0"), timeout=2
    )
    assert not down["ok"] and "pw@" not in down["url"]
    assert check_broker(_settings(tmp_path / "fresh"), timeout=2)["ok"]  # folders made on use
    (tmp_path / "blocked").mkdir()
    (tmp_path / "blocked" / "broker").write_text("a file where the broker folder should be")
    blocked = check_broker(_settings(tmp_path / "blocked"), timeout=2)
    assert not blocked["ok"] and "not a folder" in blocked["detail"]


@pytest.fixture(scope="module", params=["filesystem+sqlite", "redis+postgresql"])
def cpu_only(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployment]:
    """A deployment whose only worker consumes the ``cpu`` queue."""
    broker = database = None
    if request.param == "redis+postgresql":
        server = RedisServer(tmp_path_factory.mktemp("health-redis"))
        request.addfinalizer(server.stop)
        broker = server.url
        database = request.getfixturevalue("postgres_server").create_database()
    deployment = Deployment(tmp_path_factory.mktemp("health"), database, broker)
    deployment.start_worker(queues="cpu")
    yield deployment
    deployment.close()


@pytest.mark.parametrize("cpu_only", ["filesystem+sqlite"], indirect=True)
def test_status_command_exit_codes(cpu_only: Deployment) -> None:
    """``genlens status`` exits 1 while a check fails (no gpu worker) and 0 when all pass
    (once: each run imports the whole CLI, and the smoke test runs it on Redis+PostgreSQL).

    The two runs go one after the other: run side by side on the filesystem broker, the
    worker's reply to one of them was lost, in CI and in a fresh clone, even with 20 s to
    answer (one after the other they pass there)."""
    command = [sys.executable, "-c", "from genlens.demo.cli import main; main()", "status"]
    runs = [
        subprocess.run(
            [*command, *args],
            env=cpu_only.env,
            cwd=REPO,
            text=True,
            capture_output=True,
            timeout=180,
        )
        for args in (["--json"], ["--queues", "cpu", "--timeout", "10"])
    ]
    unhealthy, healthy = runs
    assert [run.returncode for run in runs] == [1, 0], healthy.stdout + healthy.stderr
    report = json.loads(unhealthy.stdout)
    assert not report["ok"] and report["checks"]["workers"]["queues"]["gpu"] == []
    assert "FAIL" not in healthy.stdout and "cpu: 1 worker(s)" in healthy.stdout


def test_worker_liveness_per_queue(cpu_only: Deployment) -> None:
    report = health_report(cpu_only.settings, timeout=5)
    checks = report["checks"]
    assert checks["database"]["ok"] and checks["broker"]["ok"] and checks["artifacts"]["ok"]
    workers = checks["workers"]
    assert not report["ok"] and not workers["ok"]
    assert workers["queues"]["gpu"] == [] and len(workers["queues"]["cpu"]) == 1
    assert workers["workers"] == {workers["queues"]["cpu"][0]: ["cpu"]}
    assert "gpu" in workers["detail"]
    assert health_report(cpu_only.settings, queues=["cpu"], timeout=5)["ok"]

    cpu_only.kill_worker(cpu_only.workers[0])
    gone = health_report(cpu_only.settings, queues=["cpu"], timeout=2)["checks"]["workers"]
    assert not gone["ok"] and gone["queues"]["cpu"] == []
