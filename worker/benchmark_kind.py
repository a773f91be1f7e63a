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
from genlens.evaluation.entries import parse_entries
from genlens.evaluation.leaderboard import write_outputs
from genlens.evaluation.runner import run_benchmark
from genlens.evaluation.suites import get_suite
from genlens.worker.benchmark_store import store_rows
from genlens.worker.context import JobContext, SubmitContext
from genlens.worker.kinds import JobKind, check_keys

FIELDS = {"suite", "methods", "infill", "model"}
MEDIA_TYPES = {
    ".json": "application/json",
    ".csv": "text/csv",
    ".txt": "text/plain",
    ".png": "image/png",
    ".jsonl": "application/jsonl",
}


def validate_benchmark(spec: Mapping[str, Any], context: SubmitContext) -> dict[str, Any]:
    """Parameters of a ``benchmark`` job: ``suite`` (a registered suite), ``methods`` (a list
    or comma-separated string of ``method`` / ``method@infiller``), ``infill`` (default
    in-filler of mask methods) and ``model`` (instead of the suite's classifier: a registered
    name or a weights file, see :meth:`SubmitContext.model`)."""
    check_keys("benchmark", spec, FIELDS)
    suite = get_suite(spec.get("suite", "")).name
    infill = spec.get("infill", defaults.INFILL)
    entries = parse_entries(spec.get("methods") or [], infill)
    model = spec.get("model")
    return {
        "suite": suite,
        "methods": [str(entry) for entry in entries],
        "infill": infill,
        "model": None if model is None else context.model(model),
    }


def run_benchmark_job(context: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    """Evaluate; artifacts: results.jsonl, leaderboard.{json,csv,txt} and one PNG per plot."""
    out = context.settings.root / "benchmarks" / context.job_id
    rows = run_benchmark(
        params["suite"],
        params["methods"],
        out,
        infill=params["infill"],
        device=context.settings.device,
        progress=context.progress,
        model=None if params.get("model") is None else context.runtime.model_spec(params["model"]),
    )
    suite = get_suite(params["suite"])
    for path in [
        out / "results.jsonl",
        out / "leaderboard.txt",
        *write_outputs(rows, suite.metrics, out),
    ]:
        _save(context, Path(path))
    context.defer(lambda session: store_rows(session, rows, context.job_id))
    return {
        "suite": suite.name,
        "rows": [
            {"method": row.label, **{name: value.value for name, value in row.metrics.items()}}
            for row in rows
        ],
    }


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
