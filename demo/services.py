"""What the front ends need from the service, without any web framework: the job client, the
choices offered in forms, job specs, waiting on a job, reading its files, leaderboards and
model cards. The front ends only submit and read jobs; models run in worker processes."""

import io
import json
import time
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache, partial
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from sqlalchemy import select

from genlens.core.data import sample_names
from genlens.core.errors import GenlensError, ImageError, ParameterError
from genlens.core.models.registry import registered_classifiers
from genlens.core.saliency import get_method, infiller_names, method_names
from genlens.core.zoo import ZooModel, zoo_models, zoo_of_kind
from genlens.db.migrate import upgrade
from genlens.db.models import Job
from genlens.evaluation.leaderboard import format_interval, plot_metric, sort_rows
from genlens.evaluation.metrics import metric
from genlens.evaluation.runner import ResultRow, load_rows
from genlens.evaluation.suites import suite_names
from genlens.worker.benchmark_store import leaderboard_rows, stored_suites
from genlens.worker.client import JobClient, JobResult, JobStatus
from genlens.worker.kinds import kind_names
from genlens.worker.settings import get_settings

REPO = Path(__file__).resolve().parent.parent
BENCH_RESULTS = REPO / "bench" / "results"
GENERATE = "generate"
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp"}


class JobFailed(GenlensError):
    """A job the front end waited on ended failed or cancelled."""


@lru_cache(maxsize=1)
def get_client() -> JobClient:
    """The process-wide job client (database migrated on first use)."""
    settings = get_settings()
    upgrade(settings.database)
    return JobClient(settings)


# -- choices ---------------------------------------------------------------------------------


def model_choices() -> list[str]:
    """Registered classifier names, ``efficientnet_lite0`` first."""
    names = [entry.name for entry in registered_classifiers()]
    return sorted(names, key=lambda name: (name != "efficientnet_lite0", name))


def method_choices() -> list[str]:
    """Saliency method names (registry order)."""
    return method_names()


def infiller_choices() -> list[str]:
    """In-filler names (``local-mean`` first)."""
    return sorted(infiller_names(), key=lambda name: (name != "local-mean", name))


def generator_choices() -> list[str]:
    """Shipped conditional generators (the models of the ``generate`` kind)."""
    return [model.name for model in zoo_of_kind("conditional")]


def sample_choices() -> list[str]:
    """Shipped photo names, usable as ``sample:NAME``."""
    return sample_names()


def has_kind(name: str) -> bool:
    """Whether job kind ``name`` is registered in this process (workers import the same)."""
    return name in kind_names()


# -- specs -----------------------------------------------------------------------------------


def explain_spec(
    image: str | bytes,
    model: str,
    method: str,
    infill: str,
    steps: int | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """An ``explain`` job spec (``image``: a path, ``sample:NAME`` or bytes); ``steps`` goes
    to the methods that declare it (FIDO, BBMP, integrated gradients), the others ignore it."""
    spec: dict[str, Any] = {
        "kind": "explain",
        "image": image,
        "model": model,
        "method": method,
        "infill": infill,
        "seed": seed,
    }
    if steps is not None and "steps" in get_method(method).params:
        spec["steps"] = int(steps)
    return spec


def parse_indices(text: str, what: str = "units") -> list[int]:
    """``"1, 207 291"`` -> ``[1, 207, 291]``; anything but integers >= 0 raises."""
    parts = [part for part in text.replace(",", " ").split() if part]
    if not parts or not all(part.isdigit() for part in parts):
        raise ParameterError(f"{what}: give integers >= 0 separated by commas, got {text!r}")
    return [int(part) for part in parts]


def image_reference(upload: str | Path | None, sample: str | None) -> str:
    """An uploaded file path if any, else ``sample:NAME``; neither raises."""
    if upload:
        return str(upload)
    if sample:
        return f"sample:{sample}"
    raise ImageError("upload an image or pick a sample photo")


# -- following jobs --------------------------------------------------------------------------


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


def artifact_path(result: JobResult, role: str) -> str | None:
    """Local path of the first file with ``role`` (None when the job has none)."""
    return next((a.path for a in result.artifacts if a.role == role), None)


def artifact_paths(result: JobResult, role: str) -> list[tuple[str, str]]:
    """``(path, name)`` of every file with ``role``, in name order."""
    return sorted(
        ((a.path, a.name) for a in result.artifacts if a.role == role), key=lambda pair: pair[1]
    )


def image_outputs(result: JobResult) -> list[tuple[str, str]]:
    """``(path, "role: name")`` of every image a job produced (inputs excluded)."""
    return [
        (a.path, f"{a.role}: {a.name}")
        for a in result.artifacts
        if a.role != "input" and a.media_type.startswith("image/")
    ]


@dataclass(frozen=True)
class ExplainView:
    """What the explain page shows. ``image`` (H, W, 3) uint8 is the classifier's view of the
    input, ``saliency`` (H, W) float in [0, 1] the min-max normalised map."""

    image: np.ndarray
    saliency: np.ndarray
    overlay: str
    counterfactuals: list[tuple[str, str]]
    probabilities: dict[str, float]
    label: str
    raw_map: str


def explain_view(result: JobResult) -> ExplainView:
    """Read an explain job's files: prepared input, raw map, overlay, counterfactual, figure."""
    raw_map = artifact_path(result, "map")
    if raw_map is None or result.result is None:
        raise JobFailed(f"job {result.status.id[:8]} has no saliency map")
    saliency = np.load(raw_map, allow_pickle=False).astype(np.float32)
    span = float(saliency.max() - saliency.min())
    saliency = (saliency - saliency.min()) / span if span > 0 else np.zeros_like(saliency)
    prepared = artifact_path(result, "prepared") or artifact_path(result, "overlay")
    with Image.open(prepared) as image:
        rgb = np.asarray(image.convert("RGB").resize(saliency.shape[::-1]))
    view = result.result.get("view", "kept")
    counterfactuals = [
        (path, f"counterfactual (evidence {view})")
        for path, _ in artifact_paths(result, "counterfactual")
    ] + [(path, "image | map | counterfactual") for path, _ in artifact_paths(result, "figure")]
    probabilities = {
        "original image": result.result["prob_original"],
        "evidence kept": result.result["prob_kept"],
        "evidence removed": result.result["prob_removed"],
    }
    return ExplainView(
        rgb,
        saliency,
        artifact_path(result, "overlay") or "",
        counterfactuals,
        probabilities,
        f"{result.result['label']} (class {result.result['target']})",
        raw_map,
    )


REGIONS = ((0.10, "top 10% (most salient)", "#d62728"), (0.30, "top 10-30%", "#ff9f1c"))
REGION_COLOURS = {label: colour for _, label, colour in REGIONS}


def salient_regions(saliency: np.ndarray) -> list[tuple[np.ndarray, str]]:
    """Nested bands of the most salient pixels of an (H, W) map as disjoint 0/1 float masks:
    the top 10 % of pixels, then the next 20 % (by rank, ties broken by position)."""
    order = np.argsort(-saliency, axis=None, kind="stable")
    rank = np.empty(saliency.size, dtype=np.int64)
    rank[order] = np.arange(saliency.size)
    rank = rank.reshape(saliency.shape)
    regions, start = [], 0
    for fraction, label, _ in REGIONS:
        stop = round(fraction * saliency.size)
        regions.append((((rank >= start) & (rank < stop)).astype(np.float32), label))
        start = stop
    return regions


def map_image(saliency: np.ndarray) -> Image.Image:
    """(H, W) [0, 1] map -> grayscale PIL image (white = most salient)."""
    return Image.fromarray((saliency.clip(0, 1) * 255).round().astype(np.uint8), mode="L")


def trace_rows(trace_file: str, names: Sequence[str]) -> list[dict[str, Any]]:
    """A visualize job's trace as long rows ``{"step", "score", "unit"}`` for line plots."""
    trace = json.loads(Path(trace_file).read_text())["trace"]
    return [
        {"step": step, "score": float(score), "unit": names[index]}
        for step, scores in enumerate(trace)
        for index, score in enumerate(scores)
    ]


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


def batch_children(client: JobClient, batch_id: str) -> list[tuple[dict[str, Any], JobResult]]:
    """``(parameters, result)`` of every child job of ``batch_id``, in submission order."""
    with client.db.begin() as session:
        children = session.execute(
            select(Job.id, Job.parameters)
            .where(Job.parent_id == batch_id)
            .order_by(Job.created_at, Job.id)
        ).all()
    return [(row.parameters, client.result(row.id)) for row in children]


# -- batch uploads ---------------------------------------------------------------------------


def images_in_zip(data: bytes, max_bytes: int, limit: int = 1000) -> Iterator[tuple[str, bytes]]:
    """``(name, bytes)`` of the image files in a zip archive (by suffix; folders flattened,
    hidden files skipped); at most ``limit`` images of at most ``max_bytes`` each (checked
    before a member is decompressed)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise ImageError(f"not a zip archive: {exc}") from exc
    with archive:
        members = [
            info
            for info in archive.infolist()
            if not info.is_dir()
            and Path(info.filename).suffix.lower() in IMAGE_SUFFIXES
            and not Path(info.filename).name.startswith(".")
        ]
        if len(members) > limit:
            raise ImageError(f"the archive holds {len(members)} images; at most {limit}")
        for info in members:
            if info.file_size > max_bytes:
                raise ImageError(
                    f"{info.filename}: {info.file_size:,} bytes, upload limit {max_bytes:,}"
                )
            yield Path(info.filename).name, archive.read(info)


def suite_choices() -> list[str]:
    """Benchmark suites (for ``benchmark`` jobs)."""
    return suite_names()


def benchmark_spec(suite: str, methods: Sequence[str], infill: str) -> dict[str, Any]:
    """A ``benchmark`` job spec: every method on ``suite``, stored as leaderboard rows."""
    if not methods:
        raise ParameterError("a benchmark needs at least one method")
    return {"kind": "benchmark", "suite": suite, "methods": list(methods), "infill": infill}


def batch_specs(
    images: Sequence[bytes | str],
    methods: Sequence[str],
    model: str,
    infill: str,
    steps: int | None,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """Explain specs for every image x method (images as bytes or ``sample:NAME``)."""
    if not images:
        raise ParameterError("a batch needs at least one image")
    if not methods:
        raise ParameterError("a batch needs at least one method")
    return [
        explain_spec(image, model, method, infill, steps, seed)
        for image in images
        for method in methods
    ]


# -- leaderboards ----------------------------------------------------------------------------


RowsLoader = Callable[[], list[ResultRow]]


def leaderboards(client: JobClient) -> dict[str, RowsLoader]:
    """Every leaderboard, by display name, with a function reading its rows: the committed
    benchmark folders (``bench/results/*/results.jsonl``) and the suites stored in the database
    by ``benchmark`` jobs (:mod:`genlens.worker.benchmark_store`)."""
    boards = {
        f"{path.parent.name} (files)": partial(load_rows, path)
        for path in sorted(BENCH_RESULTS.glob("*/results.jsonl"))
    }

    def stored(suite: str) -> list[ResultRow]:
        with client.db.begin() as session:
            return leaderboard_rows(session, suite)

    with client.db.begin() as session:
        suites = stored_suites(session)
    return boards | {f"{suite} (database)": partial(stored, suite) for suite in suites}


def metric_names(rows: Sequence[ResultRow]) -> list[str]:
    """Metrics present in every row, in the order of the first row."""
    if not rows:
        return []
    return [name for name in rows[0].metrics if all(name in row.metrics for row in rows)]


def leaderboard_table(rows: Sequence[ResultRow], metrics: Sequence[str]) -> list[dict[str, Any]]:
    """Table rows best first by ``metrics[0]``: rank, method, ``value [low, high]`` per metric
    (arrow = direction), the sanity rho after randomising every layer when measured, seconds
    per image and image count."""
    if not rows or not metrics:
        return []
    table = []
    for rank, row in enumerate(sort_rows(rows, metrics[0]), 1):
        cells = {
            f"{name} {'↑' if metric(name).higher_is_better else '↓'}": format_interval(
                row.metrics[name]
            )
            for name in metrics
        }
        if row.sanity:
            cells["sanity rho ↓"] = format_interval(row.sanity.rho[-1])
        table.append(
            {
                "rank": rank,
                "method": row.label,
                **cells,
                "s/image": round(row.seconds_per_image, 3),
                "images": row.images,
            }
        )
    return table


def metric_plot(rows: Sequence[ResultRow], name: str, out: Path) -> Path:
    """The bar chart with 95% intervals of one metric (PNG under ``out``)."""
    out.mkdir(parents=True, exist_ok=True)
    return plot_metric(rows, name, out)


# -- model cards -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelCard:
    """A registered classifier with its shipped card (None for built-ins without one)."""

    name: str
    description: str
    zoo: ZooModel | None


def model_cards() -> list[ModelCard]:
    """Every registered classifier, plus the shipped in-fillers and priors, with cards."""
    shipped = {model.name: model for model in zoo_models()}
    cards = [
        ModelCard(entry.name, entry.description, shipped.pop(entry.name, None))
        for entry in registered_classifiers()
    ]
    return cards + [ModelCard(model.name, model.description, model) for model in shipped.values()]
