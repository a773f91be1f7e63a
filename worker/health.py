"""Health of a deployment: database, broker, workers per queue and the artifact store.

:func:`health_report` backs ``genlens status`` and the front ends' ``/healthz``. Each check is
independent, bounded by ``timeout`` seconds, and reports ``{"ok": bool, "detail": str, ...}``;
the report is healthy when every check is. Credentials never appear in the report (URLs are
shown with the password masked).

Worker liveness uses Celery's remote control (``inspect().active_queues()``): every running
worker answers with the queues it consumes. This works on Redis and on the embedded filesystem
broker (both support the fanout exchange that remote control needs).
"""

import shutil
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import redis
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from celery import Celery
from kombu import Connection
from kombu.utils.url import maybe_sanitize_url
from sqlalchemy import make_url

from genlens.db.engine import make_engine
from genlens.db.migrate import alembic_config
from genlens.worker.celery_config import celery_config
from genlens.worker.kinds import QUEUES
from genlens.worker.settings import Settings

Check = dict[str, Any]


def _failure(exc: BaseException) -> str:
    """One line naming an exception."""
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__


def _probe_folder(folder: Path) -> str:
    """Raise unless a file can be created and removed in ``folder`` or, while it does not exist
    yet (it is created on first use), in its nearest existing parent. Root ignores file modes,
    so only a real write proves it."""
    target = folder
    while not target.exists() and target != target.parent:
        target = target.parent
    if not target.is_dir():
        raise NotADirectoryError(f"{target} is not a folder")
    probe = target / f".health-{uuid.uuid4().hex}"
    probe.write_bytes(b"")
    probe.unlink()
    return "writable" if target == folder else f"not created yet, {target} writable"


def check_database(settings: Settings, timeout: float) -> Check:
    """Connect, read the Alembic revision and compare it with the packaged migrations' head."""
    url = settings.database
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql" and "connect_timeout" not in parsed.query:
        url = parsed.update_query_dict({"connect_timeout": str(max(1, round(timeout)))})
        url = url.render_as_string(hide_password=False)
    heads = sorted(ScriptDirectory.from_config(alembic_config(settings.database)).get_heads())
    report: Check = {"url": maybe_sanitize_url(settings.database), "head": heads}
    try:
        engine = make_engine(url)
        try:
            with engine.connect() as connection:
                current = sorted(MigrationContext.configure(connection).get_current_heads())
        finally:
            engine.dispose()
    except Exception as exc:
        return {**report, "ok": False, "revision": None, "detail": _failure(exc)}
    ok = current == heads
    detail = (
        f"at head {', '.join(heads)}"
        if ok
        else f"revision {', '.join(current) or 'none'}, head {', '.join(heads)}: "
        "run `genlens db upgrade`"
    )
    return {**report, "ok": ok, "revision": current, "detail": detail}


def _ping_redis(settings: Settings, timeout: float) -> str:
    client = redis.Redis.from_url(
        settings.broker, socket_connect_timeout=timeout, socket_timeout=timeout
    )
    try:
        client.ping()
    finally:
        client.close()
    return "PING answered"


def _filesystem_folders(settings: Settings, timeout: float) -> str:
    folders = [settings.broker_folder / "queue", settings.broker_folder / "control"]
    return "; ".join(f"{folder}: {_probe_folder(folder)}" for folder in folders)


def _kombu_connect(settings: Settings, timeout: float) -> str:
    with Connection(settings.broker, connect_timeout=timeout) as connection:
        connection.ensure_connection(max_retries=1, timeout=timeout)
    return "connected"


BROKER_PROBES: dict[str, Callable[[Settings, float], str]] = {
    "redis": _ping_redis,
    "rediss": _ping_redis,
    "filesystem": _filesystem_folders,
}


def check_broker(settings: Settings, timeout: float) -> Check:
    """Redis: ``PING``; filesystem transport: its folders exist and are writable; other
    transports: a kombu connection."""
    scheme = settings.broker.partition("://")[0]
    report: Check = {"url": maybe_sanitize_url(settings.broker)}
    try:
        detail = BROKER_PROBES.get(scheme, _kombu_connect)(settings, timeout)
    except Exception as exc:
        return {**report, "ok": False, "detail": _failure(exc)}
    return {**report, "ok": True, "detail": detail}


def check_workers(settings: Settings, queues: Sequence[str], timeout: float) -> Check:
    """Ask every worker which queues it consumes; healthy when each of ``queues`` has one.

    Returns ``queues`` (queue -> worker names) and ``workers`` (worker name -> queues).
    """
    app = Celery("genlens-health")
    app.conf.update(celery_config(settings))
    try:
        replies = app.control.inspect(timeout=timeout).active_queues() or {}
    except Exception as exc:
        empty = {queue: [] for queue in queues}
        return {"ok": False, "queues": empty, "workers": {}, "detail": _failure(exc)}
    finally:
        app.close()
    workers = {name: sorted(q["name"] for q in consumed) for name, consumed in replies.items()}
    by_queue = {
        queue: sorted(name for name, consumed in workers.items() if queue in consumed)
        for queue in queues
    }
    missing = [queue for queue, names in by_queue.items() if not names]
    detail = (
        f"no worker answered within {timeout:g} s for queue(s) {', '.join(missing)}"
        if missing
        else ", ".join(f"{queue}: {len(names)} worker(s)" for queue, names in by_queue.items())
    )
    return {"ok": not missing, "queues": by_queue, "workers": workers, "detail": detail}


def check_artifacts(settings: Settings) -> Check:
    """The local artifact folder exists and is writable (a shared volume in deployments)."""
    folder = settings.artifacts
    try:
        state = _probe_folder(folder)
        free = shutil.disk_usage(folder if folder.exists() else folder.parent).free
    except Exception as exc:
        return {"ok": False, "path": str(folder), "detail": _failure(exc)}
    return {"ok": True, "path": str(folder), "detail": f"{state}, {free / 2**30:.1f} GiB free"}


def health_report(
    settings: Settings,
    queues: Sequence[str] = QUEUES,
    timeout: float = 3.0,
    workers: bool = True,
) -> dict[str, Any]:
    """Check database, broker, artifact store and (when ``workers``) worker liveness.

    Args:
        settings: the deployment's settings.
        queues: queues that must each have at least one live worker.
        timeout: seconds allowed to each network check (the worker check waits this long for
            replies).
        workers: include the worker check (skipped, and unhealthy, when the broker is down).

    Returns:
        ``{"ok": bool, "checks": {"database": ..., "broker": ..., "artifacts": ...,
        "workers": ...}}``, JSON-serialisable.
    """
    checks: dict[str, Check] = {
        "database": check_database(settings, timeout),
        "broker": check_broker(settings, timeout),
        "artifacts": check_artifacts(settings),
    }
    if workers:
        checks["workers"] = (
            check_workers(settings, queues, timeout)
            if checks["broker"]["ok"]
            else {"ok": False, "queues": {}, "workers": {}, "detail": "broker unreachable"}
        )
    return {"ok": all(check["ok"] for check in checks.values()), "checks": checks}
