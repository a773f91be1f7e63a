"""The compose deployment without Docker: every service of ``docker-compose.yml`` runs as a
local process with the command and environment the compose file gives it (values from
``.env.example``), mapped to this machine.

Mapping, and nothing else: the hosts ``redis:6379`` and ``postgres:5432`` become real
``redis-server`` (started with the compose service's own arguments) and PostgreSQL servers on
free loopback ports; the ``/data`` volume becomes a temporary folder; ``--host 0.0.0.0`` and
the container ports become 127.0.0.1 and free ports; ``genlens`` is this interpreter's CLI;
the GPU worker runs on the CPU (``GENLENS_DEVICE=cpu``, one torch thread), as there is no GPU.

The ``migrate`` service runs to completion first (``service_completed_successfully``); then
both workers and both front ends start; the workers' compose healthchecks (``celery inspect
ping``) and the front ends' (``/healthz``, ``/_stcore/health``) run as written; a batch goes
through :class:`genlens.worker.client.JobClient`; the rows are read back from PostgreSQL directly.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from compose_env import load_compose, service_environment
from servers import REPO, PostgresServer, free_port, wait_for
from sqlalchemy import make_url

from genlens.worker.client import JobClient
from genlens.worker.health import health_report
from genlens.worker.settings import Settings

GENLENS = [sys.executable, "-c", "from genlens.demo.cli import main; main()"]
STARTED = ("worker-gpu", "worker-cpu", "gradio", "streamlit")

pytest_plugins = ["service_fixtures"]


class LocalCompose:
    """The compose services as local processes (see the module docstring)."""

    def __init__(self, folder: Path, postgres: PostgresServer):
        self.folder = folder
        self.compose = load_compose()
        self.processes: dict[str, subprocess.Popen] = {}
        self.ports: dict[str, int] = {}
        self.redis_port = free_port()
        self.database = make_url(postgres.create_database())
        self.postgres_port = postgres.port
        self._start_redis()

    # -- mapping ----------------------------------------------------------------------------

    def _map(self, value: str) -> str:
        value = value.replace("@redis:6379/", f"@127.0.0.1:{self.redis_port}/")
        if value.startswith("postgresql+psycopg://"):
            url = make_url(value)
            assert (url.host, url.port) == ("postgres", 5432)
            value = url.set(
                host="127.0.0.1", port=self.postgres_port, database=self.database.database
            ).render_as_string(False)
        return re.sub(r"^/data(?=/|$)", str(self.folder / "data"), value)

    def environment(self, service: str) -> dict[str, str]:
        """The service's compose environment, mapped, on top of this process's."""
        mapped = {
            key: self._map(value)
            for key, value in service_environment(self.compose, service).items()
        }
        if mapped.get("GENLENS_DEVICE") == "cuda":
            mapped.update(GENLENS_DEVICE="cpu", GENLENS_TORCH_THREADS="1")
        return {
            **os.environ,
            **mapped,
            "PYTHONPATH": str(REPO),
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        }

    def command(self, service: str) -> list[str]:
        """The service's compose command with ``genlens``, host and port mapped."""
        command = list(self.compose["services"][service]["command"])
        assert command[0] == "genlens", command
        command = [*GENLENS, *command[1:]]
        if "--host" in command:
            command[command.index("--host") + 1] = "127.0.0.1"
        if "--port" in command:
            index = command.index("--port") + 1
            container_port = command[index]
            self.ports[service] = free_port()
            command[index] = str(self.ports[service])
            published = self.compose["services"][service]["ports"][0]
            assert published.endswith(f":{container_port}"), published
        return command

    # -- servers and services ---------------------------------------------------------------

    def _start_redis(self) -> None:
        command = self.compose["services"]["redis"]["command"]
        assert command[0] == "redis-server"
        folder = self.folder / "redis"
        folder.mkdir()
        self.processes["redis"] = subprocess.Popen(
            [
                shutil.which("redis-server") or "redis-server",
                *command[1:],
                "--port",
                str(self.redis_port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(folder),
            ],
            stdout=(folder / "redis.log").open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        url = self.environment("worker-cpu")["GENLENS_BROKER_URL"]

        def answers() -> bool:
            import redis

            try:
                return redis.Redis.from_url(url, socket_timeout=1).ping()
            except redis.ConnectionError:
                return False

        wait_for(answers, 30, "redis-server with the compose arguments")

    def run(self, service: str) -> subprocess.CompletedProcess:
        """Run a one-shot service to completion."""
        return subprocess.run(
            self.command(service),
            env=self.environment(service),
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=300,
        )

    def start(self, service: str) -> None:
        log = self.folder / f"{service}.log"
        self.processes[service] = subprocess.Popen(
            self.command(service),
            env=self.environment(service),
            cwd=REPO,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def healthcheck(self, service: str) -> subprocess.CompletedProcess:
        """Run the service's compose healthcheck command (ports mapped)."""
        test = list(self.compose["services"][service]["healthcheck"]["test"])
        if service in self.ports:
            port = self.compose["services"][service]["ports"][0].rpartition(":")[2]
            test = [part.replace(f":{port}/", f":{self.ports[service]}/") for part in test]
        command = ["bash", "-c", test[1]] if test[0] == "CMD-SHELL" else test[1:]
        if command[0] == "python":
            command[0] = sys.executable
        return subprocess.run(
            command, env=self.environment(service), capture_output=True, text=True, timeout=120
        )

    def alive(self, service: str) -> None:
        process = self.processes[service]
        if process.poll() is not None:
            log = (self.folder / f"{service}.log").read_text(errors="replace")
            raise AssertionError(f"{service} exited with {process.returncode}:\n{log[-4000:]}")

    def settings(self, service: str) -> Settings:
        env = self.environment(service)
        return Settings(
            data_dir=env["GENLENS_DATA_DIR"],
            database_url=env["GENLENS_DATABASE_URL"],
            broker_url=env["GENLENS_BROKER_URL"],
            artifact_dir=env["GENLENS_ARTIFACT_DIR"],
        )

    def stop(self) -> None:
        for process in reversed(self.processes.values()):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)


@pytest.fixture
def local_compose(tmp_path: Path, postgres_server: PostgresServer) -> Iterator[LocalCompose]:
    deployment = LocalCompose(tmp_path, postgres_server)
    yield deployment
    deployment.stop()


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_compose_services_as_local_processes(local_compose: LocalCompose) -> None:
    migrated = local_compose.run("migrate")
    assert migrated.returncode == 0, migrated.stderr
    for service in STARTED:
        local_compose.start(service)

    for worker in ("worker-gpu", "worker-cpu"):

        def healthy(worker: str = worker) -> bool:
            local_compose.alive(worker)
            return local_compose.healthcheck(worker).returncode == 0

        wait_for(healthy, 300, f"{worker} healthcheck", interval=2)

    settings = local_compose.settings("gradio")
    client = JobClient(settings)
    try:
        batch = client.submit_batch(
            [
                {"kind": "explain", "image": "sample:chelsea", "method": "grad-cam"},
                {"kind": "explain", "image": "sample:coffee", "method": "grad-cam"},
                {"kind": "sleep", "steps": 2, "seconds": 0.05, "tag": "compose-smoke"},
            ]
        )
        final = client.wait(batch, timeout=300)
        assert final.status == "succeeded", [
            client.status(c).error for c in client.result(batch).children
        ]
    finally:
        client.close()

    url = make_url(settings.database).set(drivername="postgresql")
    with psycopg.connect(url.render_as_string(False)) as connection:
        rows = connection.execute(
            "SELECT id, kind, status, worker FROM job WHERE parent_id = %s ORDER BY kind",
            (batch,),
        ).fetchall()
        files = connection.execute(
            "SELECT a.key FROM job_artifact l JOIN artifact a ON a.sha256 = l.sha256 "
            "JOIN job j ON j.id = l.job_id WHERE j.parent_id = %s AND l.role = 'map'",
            (batch,),
        ).fetchall()
    assert [(kind, status) for _, kind, status, _ in rows] == [
        ("explain", "succeeded"),
        ("explain", "succeeded"),
        ("sleep", "succeeded"),
    ]
    groups = {
        kind: {os.getpgid(int(worker.rpartition(":")[2])) for _, k, _, worker in rows if k == kind}
        for kind in ("explain", "sleep")
    }
    assert groups == {
        "explain": {local_compose.processes["worker-gpu"].pid},
        "sleep": {local_compose.processes["worker-cpu"].pid},
    }
    assert len(files) == 2
    assert all((local_compose.folder / "data" / "artifacts" / key).is_file() for (key,) in files)

    report = health_report(settings, timeout=5)
    assert report["ok"], json.dumps(report, indent=2)
    for service in ("gradio", "streamlit"):

        def answers(service: str = service) -> bool:
            local_compose.alive(service)
            return local_compose.healthcheck(service).returncode == 0

        wait_for(answers, 300, f"{service} healthcheck", interval=2)
    status, body = _get(f"http://127.0.0.1:{local_compose.ports['gradio']}/healthz")
    assert status == 200 and json.loads(body)["checks"]["workers"]["ok"]
