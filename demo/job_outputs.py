"""Reading what a finished job produced, for display: its files by role, an explain job's map
and counterfactuals (:class:`ExplainView`), the salient regions and grey-scale image of a map,
a visualize job's optimisation trace as plot rows, and a benchmark estimate as a table."""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from genlens.demo.jobs import JobFailed
from genlens.worker.client import JobResult

REGIONS = ((0.10, "top 10% (most salient)", "#d62728"), (0.30, "top 10-30%", "#ff9f1c"))
"""``(cumulative fraction of pixels, label, colour)`` of the salient regions, most salient first."""
REGION_COLOURS = {label: colour for _, label, colour in REGIONS}


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


def duration(seconds: float) -> str:
    """``"42 s"`` under two minutes, else ``"3.5 min"``, else ``"2.1 h"`` from two hours."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.1f} min" if seconds < 7200 else f"{seconds / 3600:.1f} h"


def estimate_table(result: dict[str, Any]) -> list[dict[str, Any]]:
    """A ``benchmark-estimate`` job's result as table rows: method, classifier passes per
    image (forward, backward) and the estimated time on the worker."""
    return [
        {
            "method": row["method"],
            "forwards/image": round(row["forwards_per_image"]),
            "backwards/image": round(row["backwards_per_image"]),
            "time": duration(row["seconds"]),
        }
        for row in result["methods"]
    ]


def estimate_summary(result: dict[str, Any]) -> str:
    """One line: the suite, its images and the whole benchmark's estimated time."""
    return (
        f"{result['suite']}: {result['images']} images, about {duration(result['seconds'])} "
        "on the worker (a probe on the first images, extrapolated)"
    )
