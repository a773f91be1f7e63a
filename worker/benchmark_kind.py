"""The ``benchmark`` job kind: a saliency benchmark suite x methods, stored as leaderboard rows;
and ``benchmark-estimate``, its cost before it runs.

A folder suite travels as a zip archive artifact (checked at submit, unpacked once on the
worker's disk), so workers never read the submitter's paths. The job runs
:func:`~genlens.evaluation.runner.run_benchmark` into a folder of its own (so a re-delivered
job resumes the rows it had finished), writes the leaderboard files and plots as artifacts and
inserts the rows into ``benchmark_run``/``metric_result`` in the transaction that marks the job
succeeded (exactly once, even when a worker dies halfway).
"""

import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

from genlens.core import defaults
from genlens.core.errors import ParameterError
from genlens.core.models import ModelSpec
from genlens.evaluation.cost import estimate_cost
from genlens.evaluation.entries import parse_entries
from genlens.evaluation.leaderboard import write_outputs
from genlens.evaluation.runner import LoadedSuite, Sample, run_benchmark
from genlens.evaluation.suites import Suite, get_suite
from genlens.evaluation.suites.archive import SuiteArchiveError, pack_suite, unpack_suite
from genlens.evaluation.suites.folder import folder_suite, is_suite_folder, resolve_suite
from genlens.worker.benchmark_store import store_rows
from genlens.worker.context import ARTIFACT_PREFIX, JobContext, SubmitContext
from genlens.worker.kinds import JobKind, Validator, check_keys

FIELDS = {"suite", "suite_name", "methods", "infill", "model", "limit", "seed"}
MEDIA_TYPES = {
    ".json": "application/json",
    ".csv": "text/csv",
    ".html": "text/html",
    ".txt": "text/plain",
    ".png": "image/png",
    ".jsonl": "application/jsonl",
}
ZIP_MEDIA_TYPE = "application/zip"

SuiteReference = str | dict[str, str]
"""A job's suite: a registered name, or ``{"archive": "artifact:<sha256>", "name": folder}``."""


def _validator(kind: str) -> Validator:
    def validate(spec: Mapping[str, Any], context: SubmitContext) -> dict[str, Any]:
        """Parameters of a ``benchmark`` (or ``benchmark-estimate``) job: ``suite`` (a
        registered suite, a suite folder on the submitter's disk or the bytes of its zip
        archive; folders and archives are checked now and stored, see
        :mod:`genlens.evaluation.suites.archive`), ``suite_name`` (the folder name of an
        archive whose files are not in one folder), ``methods`` (a list or comma-separated
        string of ``method`` / ``method@infiller``), ``infill`` (default in-filler of mask
        methods), ``model`` (instead of the suite's classifier: a registered name or a weights
        file, see :meth:`SubmitContext.model`; required by folder suites) and
        ``limit``/``seed`` (evaluate ``limit`` images drawn with ``seed``)."""
        check_keys(kind, spec, FIELDS)
        reference, suite = _suite_reference(spec.get("suite", ""), spec.get("suite_name"), context)
        infill = spec.get("infill", defaults.INFILL)
        entries = parse_entries(spec.get("methods") or [], infill)
        model = spec.get("model")
        suite.check_model(model)
        limit = spec.get("limit")
        if limit is not None:
            Sample(_integer("limit", limit), _integer("seed", spec.get("seed", 0)))
        return {
            "suite": reference,
            "methods": [str(entry) for entry in entries],
            "infill": infill,
            "model": None if model is None else context.model(model),
            "limit": limit,
            "seed": spec.get("seed", 0),
        }

    return validate


def _suite_reference(
    value: object, name: object, context: SubmitContext
) -> tuple[SuiteReference, Suite]:
    """The job's reference to its suite and the suite (to check the model against)."""
    if isinstance(value, str) and not is_suite_folder(value):
        suite = get_suite(value)
        return suite.name, suite
    limit = context.settings.max_suite_bytes
    if isinstance(value, str | Path):
        value = pack_suite(value, limit)
    if not isinstance(value, bytes):
        raise ParameterError(
            "benchmark suite: a registered suite name, a suite folder or a zip archive's bytes"
        )
    if len(value) > limit:
        raise SuiteArchiveError(f"suite archive: {len(value):,} bytes, limit {limit:,}")
    with tempfile.TemporaryDirectory() as scratch:
        folder = unpack_suite(value, scratch, str(name or "suite"), limit)
        suite = folder_suite(folder)
    stored = context.store.put(value, ZIP_MEDIA_TYPE)
    context.inputs.append(("suite", stored))
    return {"archive": f"{ARTIFACT_PREFIX}{stored.sha256}", "name": folder.name}, suite


def _integer(key: str, value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ParameterError(f"benchmark {key} must be an integer, got {value!r}")
    return value


def job_suite(context: JobContext, reference: SuiteReference) -> Suite:
    """The suite of a job: a registered one, or the stored archive unpacked (once per worker
    disk) under ``<root>/suites/<sha256>/``."""
    if isinstance(reference, str):
        return resolve_suite(reference)
    sha256 = reference["archive"].removeprefix(ARTIFACT_PREFIX)
    base = context.settings.root / "suites" / sha256
    if not base.is_dir():
        data = context.runtime.artifact_bytes(
            sha256, ParameterError(f"suite archive artifact {sha256} is missing")
        )
        partial = base.with_name(f"{sha256}.{os.getpid()}.partial")
        shutil.rmtree(partial, ignore_errors=True)
        unpack_suite(data, partial, reference["name"], context.settings.max_suite_bytes)
        try:
            partial.rename(base)
        except OSError:  # another worker process unpacked it first
            shutil.rmtree(partial)
    return folder_suite(base / reference["name"])


def _model(context: JobContext, params: dict[str, Any]) -> ModelSpec | None:
    return None if params.get("model") is None else context.runtime.model_spec(params["model"])


def _sample(params: dict[str, Any]) -> Sample | None:
    return None if params.get("limit") is None else Sample(params["limit"], params["seed"])


def run_benchmark_job(context: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    """Evaluate; artifacts: results.jsonl, leaderboard.{json,csv,txt} and one PNG per plot."""
    out = context.settings.root / "benchmarks" / context.job_id
    suite = job_suite(context, params["suite"])
    rows = run_benchmark(
        suite,
        params["methods"],
        out,
        infill=params["infill"],
        device=context.settings.device,
        progress=context.progress,
        model=_model(context, params),
        sample=_sample(params),
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


def run_estimate_job(context: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    """The cost of the benchmark these parameters describe
    (:func:`~genlens.evaluation.cost.estimate_cost` on this worker): per method the passes
    per image and the seconds, and the total seconds."""
    suite = job_suite(context, params["suite"])
    loaded = LoadedSuite.load(
        suite, context.settings.device, _model(context, params), _sample(params)
    )
    estimates = estimate_cost(loaded, params["methods"], params["infill"])
    return {
        "suite": suite.name,
        "images": len(loaded.data.images),
        "methods": [asdict(estimate) for estimate in estimates],
        "seconds": sum(estimate.seconds for estimate in estimates),
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
    _validator("benchmark"),
    run_benchmark_job,
    "saliency benchmark: a suite x methods into leaderboard rows",
    time_limit=4 * 3600,
)

ESTIMATE_KIND = JobKind(
    "benchmark-estimate",
    "gpu",
    _validator("benchmark-estimate"),
    run_estimate_job,
    "the cost of a benchmark (passes and seconds per method) from a one-batch probe",
    time_limit=1800,
)
