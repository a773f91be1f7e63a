"""Following jobs from a front end: the process-wide job client, waiting on a job while
reporting its progress, the children of a batch, and job lists as table rows."""

import time
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import select

from genlens.core.errors import GenlensError
from genlens.db.migrate import upgrade
from genlens.db.models import Job
from genlens.worker.client import JobClient, JobResult, JobStatus
from genlens.worker.settings import get_settings


class JobFailed(GenlensError):
    """A job the front end waited on ended failed or cancelled."""


@lru_cache(maxsize=1)
def get_client() -> JobClient:
    """The process-wide job client (database migrated on first use)."""
    settings = get_settings()
    upgrade(settings.database)
    return JobClient(settings)


def follow(
    client: JobClient,
    job_id: str,
    report: Callable[[JobStatus], None],
    poll: float = 0.5,
    timeout: float = 3600.0,
) -> JobResult:
    """Poll ``job_id`` (calling ``report`` with each snapshot) until it finishes; returns its
    result, or raises :class:`JobFailed` naming the error when it failed or was cancelled."""
    deadline = time.monotonic() + timeout
    while not (current := client.status(job_id)).done:
        report(current)
        if time.monotonic() > deadline:
            raise JobFailed(f"job {job_id} still {current.status} after {timeout:.0f} s")
        time.sleep(poll)
    report(current)
    if current.status != "succeeded":
        raise JobFailed(f"job {job_id[:8]} {current.status}: {current.error or current.message}")
    return client.result(job_id)


def batch_children(client: JobClient, batch_id: str) -> list[tuple[dict[str, Any], JobResult]]:
    """``(parameters, result)`` of every child job of ``batch_id``, in submission order."""
    with client.db.begin() as session:
        children = session.execute(
            select(Job.id, Job.parameters)
            .where(Job.parent_id == batch_id)
            .order_by(Job.created_at, Job.id)
        ).all()
    return [(row.parameters, client.result(row.id)) for row in children]


def job_rows(jobs: Sequence[JobStatus]) -> list[dict[str, Any]]:
    """Table rows for a job list: id, kind, status, progress (%), message, created (UTC)."""
    return [
        {
            "id": job.id,
            "kind": job.kind,
            "status": job.status,
            "progress %": round(100 * job.progress),
            "message": job.error or job.message or "",
            "children": job.children,
            "created": job.created_at.strftime("%Y-%m-%d %H:%M:%S"),
        }
        for job in jobs
    ]
