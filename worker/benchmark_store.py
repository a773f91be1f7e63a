"""Leaderboard rows in the database: :class:`~genlens.evaluation.runner.ResultRow` <->
``benchmark_run``
+ ``metric_result`` rows. The leaderboard of a suite is a query (the newest row per method,
in-filler and parameters), read by the front ends and ``genlens bench`` alike.
"""

import uuid
from collections.abc import Sequence
from dataclasses import asdict

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from genlens.db.models import BenchmarkRun, Dataset, MetricResult, RegisteredModel
from genlens.evaluation.runner import ResultRow
from genlens.evaluation.suites import get_suite

DETAIL_FIELDS = ("images", "peak_memory_mb", "inputs_hash", "model_hash", "versions", "precision")


def _model_id(session: Session, name: str) -> int:
    model = session.scalar(select(RegisteredModel).where(RegisteredModel.name == name))
    if model is None:
        model = RegisteredModel(name=name, description="registered by a benchmark run")
        session.add(model)
        session.flush()
    return model.id


def _dataset_id(session: Session, suite: str) -> int:
    dataset = session.scalar(select(Dataset).where(Dataset.name == suite))
    if dataset is None:
        description = get_suite(suite).description
        dataset = Dataset(name=suite, location=f"suite:{suite}", description=description)
        session.add(dataset)
        session.flush()
    return dataset.id


def store_rows(session: Session, rows: Sequence[ResultRow], job_id: str | None = None) -> list[str]:
    """Insert ``rows`` (one ``benchmark_run`` each, one ``metric_result`` per metric); ids."""
    ids = []
    owners: dict[str, tuple[int, int]] = {}
    for row in rows:
        suite = get_suite(row.suite)
        if suite.name not in owners:
            owners[suite.name] = (
                _model_id(session, suite.classifier),
                _dataset_id(session, suite.name),
            )
        model_id, dataset_id = owners[suite.name]
        run = BenchmarkRun(
            id=str(uuid.uuid4()),
            job_id=job_id,
            model_id=model_id,
            dataset_id=dataset_id,
            split="suite",
            method=row.method,
            parameters=row.params,
            seed=suite.seed,
            code_version=row.versions.get("genlens", ""),
            suite=row.suite,
            infill=row.infill,
            seconds_per_image=row.seconds_per_image,
            details={
                **{name: getattr(row, name) for name in DETAIL_FIELDS},
                "sanity": asdict(row.sanity) if row.sanity else None,
            },
        )
        run.metrics = [
            MetricResult(metric=name, value=v.value, low=v.low, high=v.high, n=row.images)
            for name, v in row.metrics.items()
        ]
        session.add(run)
        ids.append(run.id)
    session.flush()
    return ids


def _row(run: BenchmarkRun) -> ResultRow:
    details = dict(run.details or {})
    return ResultRow.from_json(
        {
            **details,
            "suite": run.suite,
            "method": run.method,
            "infill": run.infill,
            "params": run.parameters,
            "metrics": {
                m.metric: {
                    "value": m.value,
                    "low": m.value if m.low is None else m.low,
                    "high": m.value if m.high is None else m.high,
                }
                for m in run.metrics
            },
            "seconds_per_image": run.seconds_per_image or 0.0,
        }
    )


def leaderboard_rows(session: Session, suite: str) -> list[ResultRow]:
    """The newest stored row of each (method, in-filler, parameters, precision) on ``suite``,
    whatever classifier weights it was measured with (``row.model_hash`` tells)."""
    runs = session.scalars(
        select(BenchmarkRun)
        .where(BenchmarkRun.suite == suite)
        .options(selectinload(BenchmarkRun.metrics))
        .order_by(BenchmarkRun.created_at.desc())
    ).all()
    newest: dict[tuple[str, ...], ResultRow] = {}
    for run in runs:
        row = _row(run)
        newest.setdefault(row.board_key(), row)
    return list(newest.values())


def stored_suites(session: Session) -> list[str]:
    """Suites with at least one stored row, sorted."""
    return sorted(set(session.scalars(select(BenchmarkRun.suite).distinct())) - {""})
