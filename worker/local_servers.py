"""Throw-away servers and worker processes on this machine, for the service tests and the
service benchmark (``bench/service.py``): ``redis-server`` and PostgreSQL from Debian on free
loopback ports in temporary folders, and Celery workers started with ``genlens worker`` for one
isolated deployment (:class:`LocalDeployment`). Everything started here is stopped by its pid.

A server that cannot start raises :class:`ServerError` (tests then fail, never skip): CI must
install ``redis-server`` and ``postgresql`` (``scripts/dev.sh`` APT_PACKAGES).
"""

import contextlib
import glob
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

import psycopg

from genlens.db.migrate import upgrade
from genlens.worker.client import JobClient
from genlens.worker.settings import Settings

WORKER_COMMAND = [sys.executable, "-c", "from genlens.demo.cli import main; main()", "worker"]
"""``genlens worker`` run by this interpreter (works without the console script on PATH)."""


class ServerError(RuntimeError):
    """A server or worker needed by a test or benchmark could not start."""


def _fail(message: str) -> None:
    raise ServerError(message)


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(
    condition: Callable[[], object], timeout: float, what: str, interval: float = 0.1
) -> object:
    """Poll ``condition`` until it returns something truthy; raise :class:`TimeoutError`
    after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def stop_process(process: subprocess.Popen, grace: float = 5.0) -> None:
    """SIGTERM ``process``, then SIGKILL its process group after ``grace`` seconds."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


class RedisServer:
    """``redis-server`` on a free loopback port, no persistence."""

    def __init__(self, folder: Path):
        binary = shutil.which("redis-server")
        if binary is None:
            _fail("redis-server not installed (apt-get install redis-server)")
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(folder),
                "--maxmemory-policy",
                "noeviction",
            ],
            stdout=(folder / "redis.log").open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for(self._ping, 20, "redis-server to answer PING")

    def _ping(self) -> bool:
        if self.process.poll() is not None:
            _fail(f"redis-server exited with {self.process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        stop_process(self.process)


def _postgres_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}")) or [shutil.which(name)]
    if not found or found[-1] is None:
        _fail(f"PostgreSQL {name} not found (apt-get install postgresql)")
    return found[-1]


class PostgresServer:
    """A throw-away PostgreSQL cluster (``initdb`` + ``pg_ctl``) on a free loopback port, in
    its own temporary folder (removed by :meth:`stop`).

    PostgreSQL refuses to run as root, so as root the cluster belongs to the ``postgres``
    system user created by the Debian package (the folder is not under pytest's private
    temporary root, which other pytest sessions reset to mode 0700).
    """

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="genlens-postgres-"))
        self.data = self.folder / "data"
        self.port = free_port()
        self._as: list[str] = []
        if os.geteuid() == 0:
            try:
                account = pwd.getpwnam("postgres")
            except KeyError:
                _fail("running as root but there is no 'postgres' user to own PostgreSQL")
            os.chown(self.folder, account.pw_uid, account.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]
        self._run(
            [
                _postgres_bin("initdb"),
                "-D",
                str(self.data),
                "-U",
                "genlens",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ]
        )
        self._run(
            [
                _postgres_bin("pg_ctl"),
                "-D",
                str(self.data),
                "-l",
                str(self.folder / "postgres.log"),
                "-w",
                "-t",
                "60",
                "-o",
                f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off "
                "-c full_page_writes=off -c max_connections=100",
                "start",
            ]
        )
        self.pid = int((self.data / "postmaster.pid").read_text().split()[0])
        self.admin_url = f"postgresql://genlens@127.0.0.1:{self.port}/postgres"

    def _run(self, command: list[str]) -> None:
        done = subprocess.run([*self._as, *command], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            log = self.folder / "postgres.log"
            details = log.read_text() if log.exists() else ""
            _fail(f"{command[0]} failed: {done.stderr}{details}")

    def create_database(self) -> str:
        """A new empty database; returns its SQLAlchemy URL."""
        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.admin_url, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql+psycopg://genlens@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        """Immediate shutdown (SIGQUIT to the postmaster), then remove the cluster folder."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGQUIT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        shutil.rmtree(self.folder, ignore_errors=True)


class LocalDeployment:
    """One isolated deployment: settings (also as the workers' environment), a migrated
    database, a client, and ``genlens worker`` processes started on demand.

    ``database_url`` / ``broker_url`` None: the embedded defaults under ``folder``.
    ``plugins``: modules imported by the client and the workers (extra job kinds);
    ``pythonpath``: folders the workers import them from; ``cwd``: the workers' working folder
    (None: this process's). ``overrides``: further ``GENLENS_*`` settings, as variables.
    """

    def __init__(
        self,
        folder: Path,
        database_url: str | None,
        broker_url: str | None,
        *,
        plugins: Sequence[str] = (),
        pythonpath: Sequence[Path] = (),
        cwd: Path | None = None,
        **overrides: str,
    ):
        self.folder = folder
        self.cwd = cwd
        self.env = {
            **os.environ,
            "GENLENS_DATA_DIR": str(folder),
            "GENLENS_DEVICE": "cpu",
            "GENLENS_TORCH_THREADS": "1",
            "GENLENS_PLUGINS": json.dumps(list(plugins)),
            "GENLENS_PROGRESS_INTERVAL": "0",
            **overrides,
        }
        if pythonpath:
            self.env["PYTHONPATH"] = os.pathsep.join(str(path) for path in pythonpath)
        for key, value in (
            ("GENLENS_DATABASE_URL", database_url),
            ("GENLENS_BROKER_URL", broker_url),
        ):
            if value:
                self.env[key] = value
            else:
                self.env.pop(key, None)
        self.settings = Settings(
            data_dir=folder,
            database_url=database_url,
            broker_url=broker_url,
            device="cpu",
            plugins=list(plugins),
            progress_interval=0,
            **{key.removeprefix("GENLENS_").lower(): value for key, value in overrides.items()},
        )
        upgrade(self.settings.database)
        self.client = JobClient(self.settings)
        self.workers: list[subprocess.Popen] = []

    def start_worker(
        self, concurrency: int = 1, queues: str = "gpu,cpu", wait: bool = True
    ) -> subprocess.Popen:
        """``genlens worker`` as a subprocess in its own process group (waits until ready)."""
        index = len(self.workers)
        log = self.folder / f"worker{index}.log"
        process = subprocess.Popen(
            [
                *WORKER_COMMAND,
                "-c",
                str(concurrency),
                "-Q",
                queues,
                "-n",
                f"w{index}-{uuid.uuid4().hex[:6]}@%h",
            ],
            env=self.env,
            cwd=self.cwd,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        process.log = log  # type: ignore[attr-defined]
        self.workers.append(process)
        if wait:
            self.wait_ready(process)
        return process

    def wait_ready(self, process: subprocess.Popen) -> None:
        """Wait until the worker logs that it is ready to consume."""

        def ready() -> bool:
            if process.poll() is not None:
                _fail(f"worker exited with {process.returncode}:\n{process.log.read_text()}")
            return " ready." in process.log.read_text(errors="replace")

        wait_for(ready, 180, f"worker {process.pid} to be ready")

    def kill_worker(self, process: subprocess.Popen) -> None:
        """SIGKILL the worker's whole process group (main process and pool children)."""
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)

    def log(self) -> str:
        """All worker logs (for failure messages)."""
        return "\n".join(
            path.read_text(errors="replace") for path in sorted(self.folder.glob("worker*.log"))
        )

    def close(self) -> None:
        """Kill the workers that are still running and close the client."""
        for process in self.workers:
            if process.poll() is None:
                self.kill_worker(process)
        self.client.close()

    def ensure_workers(self, count: int) -> None:
        """Start workers (in parallel) until ``count`` are alive."""
        alive = [process for process in self.workers if process.poll() is None]
        started = [self.start_worker(wait=False) for _ in range(count - len(alive))]
        for process in started:
            self.wait_ready(process)
