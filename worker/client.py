"""The client API used by the CLI and the front ends: submit, status, result, cancel, list.

>>> client = JobClient()
>>> job_id = client.submit({"kind": "explain", "image": "sample:chelsea", "steps": 50})
>>> client.wait(job_id).status
'succeeded'
>>> [a.path for a in client.result(job_id).artifacts]

Specs are validated here, in the submitting process: a bad spec raises a
:class:`~genlens.core.errors.GenlensError`
and never reaches a worker. The job row is committed before
the message is sent; the same spec returns the existing job (queued, running or succeeded).
"""

import hashlib
import json
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from celery import Celery
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from genlens.core.errors import GenlensError, ParameterError
from genlens.core.plugins import import_plugins
from genlens.db.artifacts import LocalArtifactStore, record
from genlens.db.engine import Database
from genlens.db.models import TERMINAL, Job, JobArtifact, Status, utcnow
from genlens.worker.celery_config import QUEUE_TASKS, create_app
from genlens.worker.context import SubmitContext
from genlens.worker.kinds import JobKind, get_kind
from genlens.worker.settings import Settings, get_settings

BATCH = "batch"
REUSABLE = (Status.QUEUED, Status.RUNNING, Status.SUCCEEDED)


class ServiceError(GenlensError):
    """The job service cannot take the request (e.g. the broker is unreachable)."""


@dataclass(frozen=True)
class ArtifactInfo:
    """One file of a job."""

    role: str
    name: str
    sha256: str
    media_type: str
    size: int
    path: str


@dataclass(frozen=True)
class JobStatus:
    """A snapshot of a job row (for a batch: aggregated over its children)."""

    id: str
    kind: str
    status: str
    progress: float
    message: str | None
    error: str | None
    attempts: int
    worker: str | None
    parent_id: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    children: int = 0

    @property
    def done(self) -> bool:
        """Whether the job reached a final status."""
        return self.status in TERMINAL


@dataclass(frozen=True)
class JobResult:
    """A job's status, its small JSON result and its files."""

    status: JobStatus
    result: dict[str, Any] | None
    artifacts: list[ArtifactInfo] = field(default_factory=list)
    children: list[str] = field(default_factory=list)


def params_hash(kind: str, parameters: Mapping[str, Any]) -> str:
    """The idempotency key: sha256 of the canonical JSON of kind + parameters."""
    canonical = json.dumps(
        {"kind": kind, "parameters": parameters}, sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def aggregate(statuses: Sequence[str]) -> str:
    """A batch's status from its children's."""
    if not statuses:
        return Status.SUCCEEDED
    if any(status not in TERMINAL for status in statuses):
        return (
            Status.QUEUED if all(status == Status.QUEUED for status in statuses) else Status.RUNNING
        )
    for outcome in (Status.FAILED, Status.CANCELLED):
        if outcome in statuses:
            return outcome
    return Status.SUCCEEDED


class JobClient:
    """Submit and follow jobs; one instance per process (it holds a connection pool)."""

    def __init__(self, settings: Settings | None = None):
        self.settings = settings or get_settings()
        import_plugins(self.settings.plugins)
        self.db = Database(self.settings.database)
        self.store = LocalArtifactStore(self.settings.artifacts)
        self._celery: Celery | None = None

    @property
    def celery(self) -> Celery:
        """The Celery app used to send messages (created on first use)."""
        if self._celery is None:
            self._celery = create_app(self.settings)
        return self._celery

    def close(self) -> None:
        """Release the database pool and the broker connection."""
        self.db.close()
        if self._celery is not None:
            self._celery.close()

    # -- submitting -------------------------------------------------------------------------

    def _validate(
        self, spec: Mapping[str, Any], session: Session
    ) -> tuple[JobKind, dict[str, Any], SubmitContext]:
        if not isinstance(spec, Mapping) or "kind" not in spec:
            raise ParameterError("a job spec is a mapping with a 'kind' field")
        body = dict(spec)
        kind = get_kind(body.pop("kind"))
        context = SubmitContext(self.settings, self.store, session)
        return kind, kind.validate(body, context), context

    def _reusable(self, session: Session, kind: str, digest: str) -> Job | None:
        return session.scalars(
            select(Job)
            .where(Job.kind == kind, Job.params_hash == digest, Job.status.in_(REUSABLE))
            .order_by(Job.created_at.desc())
            .limit(1)
        ).first()

    def _new_job(
        self,
        session: Session,
        kind: JobKind,
        parameters: dict[str, Any],
        context: SubmitContext,
        parent_id: str | None = None,
    ) -> Job:
        job = Job(
            id=str(uuid.uuid4()),
            kind=kind.name,
            queue=kind.queue,
            parameters=parameters,
            params_hash=params_hash(kind.name, parameters),
            status=Status.QUEUED,
            progress=0.0,
            attempts=0,
            cancel_requested=False,
            parent_id=parent_id,
            created_at=utcnow(),
            message="queued",
        )
        session.add(job)
        session.flush()
        for name, stored in context.inputs:
            record(session, stored)
            session.add(JobArtifact(job_id=job.id, role="input", name=name, sha256=stored.sha256))
        return job

    def _send(self, jobs: Iterable[tuple[str, JobKind]]) -> None:
        for job_id, kind in jobs:
            try:
                self.celery.send_task(
                    QUEUE_TASKS[kind.queue], args=[job_id], task_id=job_id, **kind.send_options()
                )
            except Exception as exc:
                with self.db.begin() as session:
                    session.execute(
                        update(Job)
                        .where(Job.id == job_id, Job.status == Status.QUEUED)
                        .values(
                            status=Status.FAILED,
                            error=f"could not enqueue: {exc}",
                            finished_at=utcnow(),
                        )
                    )
                raise ServiceError(f"job {job_id}: broker unreachable ({exc})") from exc

    def submit(self, spec: Mapping[str, Any]) -> str:
        """Validate ``spec`` (``{"kind": ..., **fields}``), create the job, enqueue it; returns
        the job id. The same spec returns the existing queued, running or succeeded job."""
        with self.db.begin() as session:
            kind, parameters, context = self._validate(spec, session)
            existing = self._reusable(session, kind.name, params_hash(kind.name, parameters))
            if existing is not None:
                return existing.id
            job = self._new_job(session, kind, parameters, context)
            job_id = job.id
        self._send([(job_id, kind)])
        return job_id

    def submit_batch(self, specs: Sequence[Mapping[str, Any]]) -> str:
        """Submit many specs as one parent job with a child per spec; returns the parent id.

        Every spec is validated first (one bad spec rejects the batch). Children whose spec
        already succeeded reuse that result instead of running again.
        """
        if not specs:
            raise ParameterError("a batch needs at least one job spec")
        to_send: list[tuple[str, JobKind]] = []
        with self.db.begin() as session:
            validated = [self._validate(spec, session) for spec in specs]
            digests = [params_hash(kind.name, parameters) for kind, parameters, _ in validated]
            parent_parameters = {"children": digests}
            existing = self._reusable(session, BATCH, params_hash(BATCH, parent_parameters))
            if existing is not None and self._snapshot(session, existing).status in REUSABLE:
                return existing.id
            parent = Job(
                id=str(uuid.uuid4()),
                kind=BATCH,
                queue="none",
                parameters=parent_parameters,
                params_hash=params_hash(BATCH, parent_parameters),
                status=Status.QUEUED,
                progress=0.0,
                attempts=0,
                cancel_requested=False,
                created_at=utcnow(),
                message=f"{len(specs)} jobs",
            )
            session.add(parent)
            session.flush()
            for (kind, parameters, context), digest in zip(validated, digests, strict=True):
                child = self._new_job(session, kind, parameters, context, parent.id)
                cached = session.scalars(
                    select(Job)
                    .where(
                        Job.kind == kind.name,
                        Job.params_hash == digest,
                        Job.status == Status.SUCCEEDED,
                    )
                    .limit(1)
                ).first()
                if cached is None:
                    to_send.append((child.id, kind))
                    continue
                child.status, child.progress, child.result = Status.SUCCEEDED, 1.0, cached.result
                child.message, child.finished_at = f"cached result of {cached.id}", utcnow()
                for link in cached.artifacts:
                    if link.role != "input":
                        session.add(
                            JobArtifact(
                                job_id=child.id, role=link.role, name=link.name, sha256=link.sha256
                            )
                        )
            parent_id = parent.id
        self._send(to_send)
        return parent_id

    # -- following --------------------------------------------------------------------------

    def _snapshot(self, session: Session, job: Job) -> JobStatus:
        status, progress, children = job.status, job.progress, 0
        if job.kind == BATCH:
            rows = session.execute(
                select(Job.status, Job.progress).where(Job.parent_id == job.id)
            ).all()
            children = len(rows)
            status = aggregate([row.status for row in rows])
            progress = sum(row.progress for row in rows) / children if children else 1.0
        return JobStatus(
            id=job.id,
            kind=job.kind,
            status=status,
            progress=progress,
            message=job.message,
            error=job.error,
            attempts=job.attempts,
            worker=job.worker,
            parent_id=job.parent_id,
            created_at=job.created_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
            children=children,
        )

    def _get(self, session: Session, job_id: str) -> Job:
        job = session.get(Job, job_id)
        if job is None:
            raise ParameterError(f"no job {job_id!r}")
        return job

    def status(self, job_id: str) -> JobStatus:
        """The current status of ``job_id``."""
        with self.db.begin() as session:
            return self._snapshot(session, self._get(session, job_id))

    def result(self, job_id: str) -> JobResult:
        """Status, JSON result and files of ``job_id`` (files with local paths)."""
        with self.db.begin() as session:
            job = self._get(session, job_id)
            artifacts = [
                ArtifactInfo(
                    link.role,
                    link.name,
                    link.sha256,
                    link.artifact.media_type,
                    link.artifact.size,
                    self.store.locate(link.artifact.key),
                )
                for link in job.artifacts
            ]
            children = session.scalars(
                select(Job.id).where(Job.parent_id == job_id).order_by(Job.created_at, Job.id)
            ).all()
            return JobResult(self._snapshot(session, job), job.result, artifacts, list(children))

    def list(
        self, limit: int = 50, status: str | None = None, kind: str | None = None
    ) -> list[JobStatus]:
        """Most recent jobs first (children of batches included)."""
        query = select(Job).order_by(Job.created_at.desc()).limit(limit)
        if status is not None:
            query = query.where(Job.status == status)
        if kind is not None:
            query = query.where(Job.kind == kind)
        with self.db.begin() as session:
            return [self._snapshot(session, job) for job in session.scalars(query).all()]

    def count(self, status: str | None = None) -> int:
        """Number of jobs (with ``status``)."""
        query = select(func.count()).select_from(Job)
        if status is not None:
            query = query.where(Job.status == status)
        with self.db.begin() as session:
            return int(session.scalar(query) or 0)

    def cancel(self, job_id: str) -> JobStatus:
        """Request cancellation: a queued job is cancelled at once, a running one stops at its
        next progress step (cooperative); a batch cancels its unfinished children."""
        with self.db.begin() as session:
            job = self._get(session, job_id)
            targets = [job_id]
            if job.kind == BATCH:
                targets += session.scalars(select(Job.id).where(Job.parent_id == job_id)).all()
            for target in targets:
                session.execute(
                    update(Job)
                    .where(Job.id == target, Job.status.not_in(TERMINAL))
                    .values(cancel_requested=True)
                )
                session.execute(
                    update(Job)
                    .where(Job.id == target, Job.status == Status.QUEUED)
                    .values(
                        status=Status.CANCELLED,
                        message="cancelled while queued",
                        finished_at=utcnow(),
                    )
                )
        return self.status(job_id)

    def wait(self, job_id: str, timeout: float = 600.0, poll: float = 0.25) -> JobStatus:
        """Poll until ``job_id`` is finished; raises :class:`TimeoutError` after ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            current = self.status(job_id)
            if current.done:
                return current
            if time.monotonic() > deadline:
                raise TimeoutError(f"job {job_id} still {current.status} after {timeout} s")
            time.sleep(poll)
