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
from genlens.evaluation.suites import Suite

DETAIL_FIELDS = ("images", "peak_memory_mb", "inputs_hash", "model_hash", "versions", "precision")


def _model_id(session: Session, name: str) -> int:
    model = session.scalar(select(RegisteredModel).where(RegisteredModel.name == name))
    if model is None:
        model = RegisteredModel(name=name, description="registered by a benchmark run")
        session.add(model)
        session.flush()
    return model.id


def _dataset_id(session: Session, suite: Suite) -> int:
    dataset = session.scalar(select(Dataset).where(Dataset.name == suite.name))
    if dataset is None:
        dataset = Dataset(
            name=suite.name, location=f"suite:{suite.name}", description=suite.description
        )
        session.add(dataset)
        session.flush()
    return dataset.id


def store_rows(
    session: Session,
    rows: Sequence[ResultRow],
    suite: Suite,
    model: str | None = None,
    job_id: str | None = None,
) -> list[str]:
    """Insert ``rows`` of ``suite`` (one ``benchmark_run`` each, one ``metric_result`` per
    metric) measured with ``model`` (its name, the ``model`` of the rows read back; default:
    the suite's classifier); their ids."""
    model = model or suite.classifier
    model_id = _model_id(session, model)
    dataset_id = _dataset_id(session, suite)
    ids = []
    for row in rows:
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


def _row(run: BenchmarkRun, model: str) -> ResultRow:
    details = dict(run.details or {})
    return ResultRow.from_json(
        {
            **details,
            "model": model,
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
    """The newest stored row of each (method, in-filler, parameters, precision, classifier
    weights, suite inputs) on ``suite``, named by its registered model: rows of other models or
    of another sample of the suite stand beside each other (``row.model``, ``row.model_hash``,
    ``row.inputs_hash`` and ``row.images`` tell)."""
    runs = session.execute(
        select(BenchmarkRun, RegisteredModel.name)
        .join(RegisteredModel, BenchmarkRun.model_id == RegisteredModel.id)
        .where(BenchmarkRun.suite == suite)
        .options(selectinload(BenchmarkRun.metrics))
        .order_by(BenchmarkRun.created_at.desc())
    ).all()
    newest: dict[tuple[str, ...], ResultRow] = {}
    for run, model in runs:
        row = _row(run, model)
        newest.setdefault(row.key(), row)
    return list(newest.values())


def stored_suites(session: Session) -> list[str]:
    """Suites with at least one stored row, sorted."""
    return sorted(set(session.scalars(select(BenchmarkRun.suite).distinct())) - {""})
