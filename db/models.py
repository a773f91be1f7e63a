"""SQLAlchemy 2.0 typed models: jobs, content-addressed artifacts, registered models and
datasets, benchmark runs and their metric results (the leaderboard's source).

The ``job`` row is the source of truth for a job's state; Celery only carries its id.
"""

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Status(StrEnum):
    """Job statuses (stored as their string values)."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


TERMINAL = frozenset({Status.SUCCEEDED, Status.FAILED, Status.CANCELLED})


def utcnow() -> datetime:
    """Current UTC time as a naive datetime (stored the same way on SQLite and PostgreSQL)."""
    return datetime.now(UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    """Declarative base with stable constraint names (Alembic batch mode friendly)."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, datetime: DateTime()}


class Artifact(Base):
    """A stored file, addressed by the sha256 of its bytes (same content, same row)."""

    __tablename__ = "artifact"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    media_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    key: Mapped[str] = mapped_column(String(512))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Job(Base):
    """One unit of work (or a batch parent with children); ``id`` is also the Celery task id."""

    __tablename__ = "job"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    queue: Mapped[str] = mapped_column(String(16))
    parameters: Mapped[dict[str, Any]]
    params_hash: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16), default=Status.QUEUED, index=True)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    message: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    worker: Mapped[str | None] = mapped_column(String(255))
    error: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any] | None]
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("job.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    heartbeat_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    artifacts: Mapped[list["JobArtifact"]] = relationship(
        back_populates="job", order_by="JobArtifact.role, JobArtifact.name", lazy="selectin"
    )


class JobArtifact(Base):
    """An artifact produced by (or uploaded for) a job, with its role (overlay, map, input...)."""

    __tablename__ = "job_artifact"

    job_id: Mapped[str] = mapped_column(ForeignKey("job.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    sha256: Mapped[str] = mapped_column(ForeignKey("artifact.sha256"), index=True)

    job: Mapped[Job] = relationship(back_populates="artifacts")
    artifact: Mapped[Artifact] = relationship(lazy="joined")


class RegisteredModel(Base):
    """A classifier known to the service: a built-in name or uploaded safetensors weights."""

    __tablename__ = "registered_model"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    arch: Mapped[str | None] = mapped_column(String(128))
    weights_sha256: Mapped[str | None] = mapped_column(ForeignKey("artifact.sha256"))
    num_classes: Mapped[int | None]
    labels: Mapped[dict[str, Any] | None]
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Dataset(Base):
    """A dataset that benchmark runs evaluate on."""

    __tablename__ = "dataset"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    location: Mapped[str] = mapped_column(String(512))
    num_items: Mapped[int | None]
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class BenchmarkRun(Base):
    """One saliency benchmark row: model x method (x in-filler) on a suite's dataset split.

    ``details`` holds what the leaderboard shows beside the metrics: the sanity curve, images,
    peak memory, versions and the input/model hashes (see ``genlens.evaluation.runner.ResultRow``).
    """

    __tablename__ = "benchmark_run"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    job_id: Mapped[str | None] = mapped_column(ForeignKey("job.id"), index=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("registered_model.id"))
    dataset_id: Mapped[int] = mapped_column(ForeignKey("dataset.id"))
    split: Mapped[str] = mapped_column(String(32))
    method: Mapped[str] = mapped_column(String(64))
    parameters: Mapped[dict[str, Any]]
    seed: Mapped[int] = mapped_column(Integer, default=0)
    code_version: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    suite: Mapped[str] = mapped_column(String(64), default="", index=True)
    infill: Mapped[str] = mapped_column(String(64), default="")
    seconds_per_image: Mapped[float | None] = mapped_column(Float)
    details: Mapped[dict[str, Any] | None]

    metrics: Mapped[list["MetricResult"]] = relationship(back_populates="run")


class MetricResult(Base):
    """One metric value of a benchmark run (one row per metric; the leaderboard is a query)."""

    __tablename__ = "metric_result"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[str] = mapped_column(
        ForeignKey("benchmark_run.id", ondelete="CASCADE"), index=True
    )
    metric: Mapped[str] = mapped_column(String(64))
    value: Mapped[float]
    n: Mapped[int]
    low: Mapped[float | None] = mapped_column(Float)
    high: Mapped[float | None] = mapped_column(Float)

    run: Mapped[BenchmarkRun] = relationship(back_populates="metrics")
