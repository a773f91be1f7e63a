"""Running one job: claim the row, run its kind, record the outcome. Plain functions (no
Celery), so the logic is tested directly; :mod:`genlens.worker.tasks` is a thin wrapper.

Exactly-once rules (the job row is the source of truth; brokers may deliver a message twice):

* a delivery **claims** the job with a conditional UPDATE (status, attempts and owner must be
  what it read), so two deliveries never both run it;
* a running job is only taken over when its owner is gone: same host and the owner's process
  is dead, or no heartbeat for ``lease_seconds``;
* every claim counts an attempt; after ``max_attempts`` starts without an outcome (the worker
  was killed each time) the job is marked ``failed`` instead of looping;
* outputs are linked and the status flipped to ``succeeded`` in one transaction, only while the
  claim is still held.
"""

import logging
import os
import socket
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update

from genlens.core.errors import GenlensError
from genlens.db.artifacts import record
from genlens.db.models import TERMINAL, Job, JobArtifact, Status, utcnow
from genlens.db.upsert import insert_ignore
from genlens.worker.context import JobCancelled, JobContext, Runtime
from genlens.worker.kinds import get_kind

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Claim:
    """A job this process now owns."""

    job_id: str
    kind: str
    parameters: dict[str, Any]
    attempt: int


def owner_alive(job: Job, lease_seconds: float) -> bool:
    """Whether the process recorded as the job's worker may still be running it."""
    host, _, pid = (job.worker or "").rpartition(":")
    if host == socket.gethostname() and pid.isdigit():
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    beat = job.heartbeat_at or job.started_at
    return beat is not None and (utcnow() - beat).total_seconds() < lease_seconds


def _set_outcome(runtime: Runtime, job_id: str, identity: str | None, **values: Any) -> bool:
    """Conditionally finish a job this process owns (or, with ``identity=None``, any
    non-terminal job); returns whether the row changed."""
    condition = [Job.id == job_id, Job.status.not_in(TERMINAL)]
    if identity is not None:
        condition.append(Job.worker == identity)
    with runtime.db.begin() as session:
        changed = session.execute(
            update(Job).where(*condition).values(finished_at=utcnow(), **values)
        ).rowcount
    return changed == 1


def claim(runtime: Runtime, job_id: str, identity: str) -> Claim | None:
    """Take ownership of ``job_id`` for this delivery, or return ``None`` (nothing to run)."""
    settings = runtime.settings
    with runtime.db.begin() as session:
        job = session.get(Job, job_id)
        if job is None or job.status in TERMINAL:
            return None
        if (
            job.status == Status.RUNNING
            and job.worker != identity
            and owner_alive(job, settings.lease_seconds)
        ):
            log.warning("job %s is running on %s; duplicate delivery ignored", job_id, job.worker)
            return None
        status, attempts, cancel = job.status, job.attempts, job.cancel_requested
        kind, parameters, worker = job.kind, job.parameters, job.worker
    if cancel:
        _set_outcome(
            runtime, job_id, None, status=Status.CANCELLED, message="cancelled before running"
        )
        return None
    if attempts >= settings.max_attempts:
        _set_outcome(
            runtime,
            job_id,
            None,
            status=Status.FAILED,
            error=f"gave up after {attempts} attempts: the worker process was lost while "
            f"running this job each time (last: {worker})",
        )
        return None
    now = utcnow()
    with runtime.db.begin() as session:
        taken = session.execute(
            update(Job)
            .where(Job.id == job_id, Job.status == status, Job.attempts == attempts)
            .where(Job.worker.is_(None) if worker is None else Job.worker == worker)
            .values(
                status=Status.RUNNING,
                attempts=attempts + 1,
                worker=identity,
                started_at=now,
                heartbeat_at=now,
                message=f"started (attempt {attempts + 1})",
                error=None,
            )
        ).rowcount
    return Claim(job_id, kind, parameters, attempts + 1) if taken == 1 else None


def finish(context: JobContext, result: dict[str, Any]) -> bool:
    """Link the outputs, run the deferred writes and mark the job succeeded, in one
    transaction, if still owned."""
    with context.runtime.db.begin() as session:
        changed = session.execute(
            update(Job)
            .where(
                Job.id == context.job_id,
                Job.status == Status.RUNNING,
                Job.worker == context.identity,
            )
            .values(
                status=Status.SUCCEEDED,
                progress=1.0,
                result=result,
                message="done",
                finished_at=utcnow(),
            )
        ).rowcount
        if changed != 1:
            return False
        for role, name, stored in context.outputs:
            record(session, stored)
            insert_ignore(
                session,
                JobArtifact,
                {"job_id": context.job_id, "role": role, "name": name, "sha256": stored.sha256},
            )
        for write in context.on_success:
            write(session)
    return True


def _error_message(exc: BaseException) -> str:
    if isinstance(exc, GenlensError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def execute(runtime: Runtime, job_id: str, identity: str) -> str:
    """Run one delivery of ``job_id``; returns the job's status afterwards (or ``"skipped"``)."""
    claimed = claim(runtime, job_id, identity)
    if claimed is None:
        return "skipped"
    context = JobContext(runtime, job_id, identity)
    try:
        kind = get_kind(claimed.kind)
        result = kind.run(context, claimed.parameters)
    except JobCancelled as exc:
        _set_outcome(runtime, job_id, identity, status=Status.CANCELLED, message=str(exc))
        return Status.CANCELLED
    except Exception as exc:
        log.error("job %s failed:\n%s", job_id, traceback.format_exc())
        _set_outcome(runtime, job_id, identity, status=Status.FAILED, error=_error_message(exc))
        return Status.FAILED
    return Status.SUCCEEDED if finish(context, result) else "skipped"


def fail_if_unfinished(runtime: Runtime, job_id: str, error: str) -> None:
    """Mark a job failed whatever its owner (used after a hard time limit killed the child)."""
    _set_outcome(runtime, job_id, None, status=Status.FAILED, error=error)


def recover_orphans(runtime: Runtime, enqueue: Callable[[str, str], None]) -> list[str]:
    """Re-queue running jobs whose worker is gone (e.g. the whole worker was SIGKILLed, so the
    broker will not redeliver soon, or at all with the filesystem transport);
    ``enqueue(job_id, kind_name)`` sends each again."""
    with runtime.db.begin() as session:
        running = session.scalars(select(Job).where(Job.status == Status.RUNNING)).all()
        orphans = [
            (job.id, job.kind, job.worker)
            for job in running
            if not owner_alive(job, runtime.settings.lease_seconds)
        ]
    recovered = []
    for job_id, kind, worker in orphans:
        with runtime.db.begin() as session:
            changed = session.execute(
                update(Job)
                .where(Job.id == job_id, Job.status == Status.RUNNING, Job.worker == worker)
                .values(status=Status.QUEUED, message=f"re-queued: worker {worker} was lost")
            ).rowcount
        if changed == 1:
            enqueue(job_id, kind)
            recovered.append(job_id)
    return recovered
