"""The ``benchmark`` job kind: a saliency benchmark suite x methods, stored as leaderboard rows.

The job runs :func:`~genlens.evaluation.runner.run_benchmark` into a folder of its own (so a
re-delivered
job resumes the rows it had finished), writes the leaderboard files and plots as artifacts and
inserts the rows into ``benchmark_run``/``metric_result`` in the transaction that marks the job
succeeded (exactly once, even when a worker dies halfway).
"""

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from genlens.core import defaults
from genlens.core.errors import ParameterError
from genlens.evaluation.entries import parse_entries
from genlens.evaluation.leaderboard import write_outputs
from genlens.evaluation.runner import Sample, run_benchmark
from genlens.evaluation.suites.folder import resolve_suite
from genlens.worker.benchmark_store import store_rows
from genlens.worker.context import ARTIFACT_PREFIX, JobContext, SubmitContext
from genlens.worker.kinds import JobKind, check_keys

FIELDS = {"suite", "methods", "infill", "model", "limit", "seed"}
MEDIA_TYPES = {
    ".json": "application/json",
    ".csv": "text/csv",
    ".html": "text/html",
    ".txt": "text/plain",
    ".png": "image/png",
    ".jsonl": "application/jsonl",
}


def validate_benchmark(spec: Mapping[str, Any], context: SubmitContext) -> dict[str, Any]:
    """Parameters of a ``benchmark`` job: ``suite`` (a registered suite or a suite folder on
    the worker's disk, checked now), ``methods`` (a list or comma-separated string of
    ``method`` / ``method@infiller``), ``infill`` (default in-filler of mask methods),
    ``model`` (instead of the suite's classifier: a registered name or a weights file, see
    :meth:`SubmitContext.model`; required by folder suites) and ``limit``/``seed`` (evaluate
    ``limit`` images drawn with ``seed``)."""
    check_keys("benchmark", spec, FIELDS)
    name = str(spec.get("suite", ""))
    suite = resolve_suite(name)
    infill = spec.get("infill", defaults.INFILL)
    entries = parse_entries(spec.get("methods") or [], infill)
    model = spec.get("model")
    suite.check_model(model)
    limit = spec.get("limit")
    if limit is not None:
        Sample(_integer("limit", limit), _integer("seed", spec.get("seed", 0)))
    return {
        "suite": suite.name if suite.classifier else str(Path(name).resolve()),
        "methods": [str(entry) for entry in entries],
        "infill": infill,
        "model": None if model is None else context.model(model),
        "limit": limit,
        "seed": spec.get("seed", 0),
    }


def _integer(key: str, value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ParameterError(f"benchmark {key} must be an integer, got {value!r}")
    return value


def run_benchmark_job(context: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    """Evaluate; artifacts: results.jsonl, leaderboard.{json,csv,txt} and one PNG per plot."""
    out = context.settings.root / "benchmarks" / context.job_id
    suite = resolve_suite(params["suite"])
    rows = run_benchmark(
        suite,
        params["methods"],
        out,
        infill=params["infill"],
        device=context.settings.device,
        progress=context.progress,
        model=None if params.get("model") is None else context.runtime.model_spec(params["model"]),
        sample=None if params.get("limit") is None else Sample(params["limit"], params["seed"]),
    )
    for path in [
        out / "results.jsonl",
        out / "leaderboard.txt",
        *write_outputs(rows, suite.metrics, out),
    ]:
        _save(context, Path(path))
    model = _model_name(params.get("model"))
    context.defer(lambda session: store_rows(session, rows, suite, model, context.job_id))
    return {
        "suite": suite.name,
        "rows": [
            {"method": row.label, **{name: value.value for name, value in row.metrics.items()}}
            for row in rows
        ],
    }


def _model_name(model: str | dict[str, Any] | None) -> str | None:
    """The registered name, ``ARCH@<sha256 prefix>`` of stored weights, or None (the suite's)."""
    if model is None or isinstance(model, str):
        return model
    return f"{model.get('arch') or 'weights'}@{model['weights'].removeprefix(ARTIFACT_PREFIX)[:12]}"


def _save(context: JobContext, path: Path) -> None:
    role = "plot" if path.suffix == ".png" else "leaderboard"
    context.save(role, path.name, path.read_bytes(), MEDIA_TYPES[path.suffix])


BENCHMARK_KIND = JobKind(
    "benchmark",
    "gpu",
    validate_benchmark,
    run_benchmark_job,
    "saliency benchmark: a suite x methods into leaderboard rows",
    time_limit=4 * 3600,
)
