"""The one-shot local demo: a worker, the Gradio demo and the Streamlit app as child processes
on the embedded default (SQLite + filesystem broker under ``GENLENS_DATA_DIR``, no servers).

:func:`run_demo` starts them, waits until both pages answer, prints the URLs and then watches
the children; Ctrl-C (or SIGTERM) stops them all: SIGTERM to each child's process group, SIGKILL
after a grace period. Child output goes to ``<data_dir>/logs/<name>.log``.
"""

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from genlens.core.errors import GenlensError
from genlens.db.migrate import upgrade
from genlens.worker.settings import get_settings

GRACE_SECONDS = 15.0
START_TIMEOUT = 300.0
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)  # Ctrl-C, also when started in the background
CLI = [sys.executable, "-c", "from genlens.demo.cli import main; main()"]
OFFLINE_ENV = {
    "GRADIO_ANALYTICS_ENABLED": "False",
    "HF_HUB_OFFLINE": "1",
    "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
    "NO_PROXY": "localhost,127.0.0.1,::1",
}


class LaunchError(GenlensError):
    """A child process exited or did not come up."""


@dataclass
class Child:
    """One child process: its name, command, log file and (once started) the process."""

    name: str
    command: list[str]
    log: Path
    ready_url: str | None = None
    process: subprocess.Popen | None = None

    def start(self, env: dict[str, str]) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                self.command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )

    def exited(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def ready(self) -> bool:
        if self.ready_url is None:
            return True
        try:
            with urllib.request.urlopen(self.ready_url, timeout=5):
                return True
        except OSError:
            return False

    def stop(self) -> None:
        """SIGTERM the child's process group; SIGKILL it after the grace period."""
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)


def children(host: str, gradio_port: int, streamlit_port: int, logs: Path) -> list[Child]:
    """The worker, the Gradio demo and the Streamlit app."""
    local = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    return [
        Child("worker", [*CLI, "worker", "-c", "1", "-n", "demo@%h"], logs / "worker.log"),
        Child(
            "gradio",
            [*CLI, "ui", "gradio", "--host", host, "--port", str(gradio_port)],
            logs / "gradio.log",
            f"http://{local}:{gradio_port}/",
        ),
        Child(
            "streamlit",
            [*CLI, "ui", "streamlit", "--host", host, "--port", str(streamlit_port)],
            logs / "streamlit.log",
            f"http://{local}:{streamlit_port}/_stcore/health",
        ),
    ]


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run_demo(
    host: str = "127.0.0.1",
    gradio_port: int = 7860,
    streamlit_port: int = 8501,
    echo: Callable[[str], None] = print,
) -> None:
    """Start worker + Gradio + Streamlit, print the URLs and block until Ctrl-C or a child
    exits (then raise :class:`LaunchError`); every child is stopped on the way out."""
    settings = get_settings()
    upgrade(settings.database)
    logs = settings.root / "logs"
    env = {
        **os.environ,
        **{key: value for key, value in OFFLINE_ENV.items() if key not in os.environ},
    }
    started = children(host, gradio_port, streamlit_port, logs)
    previous = {number: signal.signal(number, _raise_interrupt) for number in STOP_SIGNALS}
    try:
        for child in started:
            child.start(env)
        echo(f"jobs: {settings.database} (broker {settings.broker}); logs in {logs}")
        _wait_ready(started)
        local = "127.0.0.1" if host in ("0.0.0.0", "::") else host
        echo(f"Gradio demo:    http://{local}:{gradio_port}/")
        echo(f"Streamlit app:  http://{local}:{streamlit_port}/")
        echo("Ctrl-C stops the worker and both apps.")
        while True:
            _check_alive(started)
            time.sleep(1.0)
    except KeyboardInterrupt:
        echo("stopping ...")
    finally:
        for child in reversed(started):
            child.stop()
        for number, handler in previous.items():
            signal.signal(number, handler)


def _check_alive(started: list[Child]) -> None:
    for child in started:
        code = child.exited()
        if code is not None:
            tail = child.log.read_text(errors="replace")[-2000:]
            raise LaunchError(f"{child.name} exited with {code}; end of {child.log}:\n{tail}")


def _wait_ready(started: list[Child]) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    waiting = list(started)
    while waiting:
        _check_alive(started)
        waiting = [child for child in waiting if not child.ready()]
        if waiting and time.monotonic() > deadline:
            names = ", ".join(child.name for child in waiting)
            raise LaunchError(f"{names} did not answer within {START_TIMEOUT:.0f} s")
        time.sleep(0.5)
