"""The built-in job kinds: ``explain`` (saliency) and ``visualize`` (feature visualization) on
the gpu queue, and ``sleep`` (a diagnostic job that waits in steps, for smoke tests and for
measuring queue overhead) on the cpu queue."""

import io
import json
import os
import time
from collections.abc import Mapping
from typing import Any

import numpy as np
from PIL import Image

from genlens.core import defaults
from genlens.core.data import to_pil
from genlens.core.errors import ParameterError
from genlens.core.featviz import LOGITS, contact_sheet
from genlens.core.featviz.run import check_visualize, run_visualization
from genlens.core.params import Param, check_precision, resolve_params
from genlens.core.saliency import check_explain, explain
from genlens.core.saliency.render import figure, overlay
from genlens.worker.context import JobContext, SubmitContext
from genlens.worker.kinds import JobKind, check_keys

SLEEP_PARAMS: dict[str, Param] = {
    "steps": Param(10, low=0, high=100_000, doc="number of steps"),
    "seconds": Param(0.1, low=0.0, high=3600.0, doc="seconds per step"),
    "tag": Param("", doc="free text, stored in the output (distinguishes otherwise equal jobs)"),
}


def validate_sleep(spec: Mapping[str, Any], context: SubmitContext) -> dict[str, Any]:
    """Parameters of a ``sleep`` job: ``steps``, ``seconds``, ``tag``."""
    return resolve_params("sleep", SLEEP_PARAMS, spec)


def run_sleep(context: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    """Sleep ``steps`` x ``seconds``, reporting progress after each step; writes a JSON file."""
    for step in range(params["steps"]):
        time.sleep(params["seconds"])
        context.progress(step + 1, params["steps"])
    payload = json.dumps({"tag": params["tag"], "steps": params["steps"]}, sort_keys=True)
    context.save("output", "sleep.json", payload.encode(), "application/json")
    return {"steps": params["steps"], "pid": os.getpid()}


EXPLAIN_FIELDS = {
    "image",
    "model",
    "method",
    "infill",
    "steps",
    "samples",
    "seed",
    "target",
    "params",
    "precision",
}


def validate_explain(spec: Mapping[str, Any], context: SubmitContext) -> dict[str, Any]:
    """Parameters of an ``explain`` job, checked before queueing.

    Fields: ``image`` (``sample:NAME``, file path, bytes or ``artifact:<sha256>``), ``model``
    (a registered name or a weights file, see :meth:`SubmitContext.model`), ``method``,
    ``infill``, ``steps``, ``samples``, ``seed``, ``target`` (class index or ``None`` =
    predicted), ``params`` (other method parameters) and ``precision`` (see
    :func:`job_precision`).
    """
    check_keys("explain", spec, EXPLAIN_FIELDS)
    model = context.model(spec.get("model", defaults.MODEL))
    request = check_explain(
        spec.get("method", defaults.EXPLAIN_METHOD),
        _job_infill(spec.get("infill", defaults.INFILL)),
        spec.get("seed", 0),
        spec.get("steps"),
        spec.get("samples"),
        **(spec.get("params") or {}),
    )
    target = spec.get("target")
    if target is not None and (
        isinstance(target, bool) or not isinstance(target, int) or target < 0
    ):
        raise ParameterError(f"target must be a class index >= 0 or null, got {target!r}")
    if "image" not in spec:
        raise ParameterError("explain job: 'image' is required")
    return {
        "image": context.image(spec["image"]),
        "model": model,
        "method": request.method,
        "infill": request.infill,
        "seed": request.seed,
        "target": target,
        "params": request.params,
        "precision": job_precision(spec),
    }


def job_precision(spec: Mapping[str, Any]) -> str | None:
    """A job's ``precision``: absent or ``None`` (the worker's ``GENLENS_PRECISION``), or one
    of :data:`~genlens.core.defaults.PRECISIONS` for this job alone."""
    chosen = spec.get("precision")
    return None if chosen is None else check_precision(chosen)


def _job_infill(infill: Any) -> str:
    """Jobs name their in-filler (an object cannot travel to a worker)."""
    if not isinstance(infill, str):
        raise ParameterError(f"infill of a job must be an in-filler name, got {infill!r}")
    return infill


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def run_explain(context: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    """Explain one image; artifacts: overlay, figure, counterfactual, the classifier's view of
    the input (``prepared``, PNG) and the raw map."""
    classifier = context.classifier(params["model"])
    image = context.image(params["image"], mode=classifier.preprocessing.pil_mode)
    batch = classifier.prepare([image])
    precision = context.precision(params.get("precision"))
    with classifier.running_in(precision):
        result = explain(
            classifier,
            batch,
            target=params["target"],
            method=params["method"],
            infill=params["infill"],
            seed=params["seed"],
            progress=context.progress,
            **params["params"],
        )
    context.save("overlay", "overlay.png", png(overlay(batch[0], result.maps[0])), "image/png")
    context.save("figure", "figure.png", png(figure(result, batch, 0)), "image/png")
    context.save(
        "counterfactual", "counterfactual.png", png(to_pil(result.counterfactuals[0])), "image/png"
    )
    context.save("prepared", "prepared.png", png(to_pil(batch[0])), "image/png")
    context.save("map", "map.npy", _npy(result.maps[0].numpy()), "application/x-npy")
    return {
        "target": int(result.target[0]),
        "label": result.target_labels[0],
        "prob_original": float(result.prob_original[0]),
        "prob_kept": float(result.prob_kept[0]),
        "prob_removed": float(result.prob_removed[0]),
        "view": result.view,
        "seconds": result.seconds,
        "precision": precision,
        "params": result.params,
    }


VISUALIZE_FIELDS = {
    "model",
    "method",
    "layer",
    "units",
    "steps",
    "seed",
    "prior",
    "images",
    "penalty_layer",
    "clusters",
    "precision",
}
MAX_IMAGES = 64


def validate_visualize(spec: Mapping[str, Any], context: SubmitContext) -> dict[str, Any]:
    """Parameters of a ``visualize`` job: ``model``, ``method`` (fourier, pixel, dgn,
    class-agnostic), ``layer`` (``logits`` or a layer name), ``units`` (class or channel
    indices, one image each; not for class-agnostic), ``steps``, ``seed``, ``prior`` (dgn: a
    registered generator prior), ``images`` (class-agnostic: the image set, default the shipped
    photos), ``penalty_layer`` and ``clusters`` (class-agnostic) and ``precision`` (see
    :func:`job_precision`). Layer names and unit ranges are checked by the worker, which has
    the model."""
    check_keys("visualize", spec, VISUALIZE_FIELDS)
    layer = spec.get("layer", LOGITS)
    if not isinstance(layer, str) or not layer:
        raise ParameterError(f"layer must be 'logits' or a layer name, got {layer!r}")
    prior = spec.get("prior", defaults.PRIOR)
    if not isinstance(prior, str):
        raise ParameterError(f"prior of a job must be a registered prior name, got {prior!r}")
    units = spec.get("units")
    request = check_visualize(
        spec.get("method", defaults.VISUALIZE_METHOD),
        None if layer == LOGITS else layer,
        units if isinstance(units, list) else (),
        spec.get("steps"),
        spec.get("seed", 0),
        prior,
        spec.get("penalty_layer"),
        spec.get("clusters", defaults.CLUSTERS),
    )
    images = spec.get("images") or []
    if not isinstance(images, list) or len(images) > MAX_IMAGES:
        raise ParameterError(f"images must be a list of at most {MAX_IMAGES} images")
    return {
        "model": context.model(spec.get("model", defaults.MODEL)),
        "method": request.method,
        "layer": layer,
        "units": list(request.units),
        "seed": request.seed,
        "prior": prior if request.method == "dgn" else None,
        "images": [context.image(image, f"images[{i}]") for i, image in enumerate(images)],
        "penalty_layer": request.penalty_layer,
        "steps": request.steps,
        "clusters": request.clusters,
        "precision": job_precision(spec),
    }


def run_visualize(context: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    """Optimize one image per unit (or facet); artifacts: a PNG per image, the contact sheet
    and the trace with activation ratios."""
    classifier = context.classifier(params["model"])
    layer = params["layer"]
    precision = context.precision(params.get("precision"))
    with classifier.running_in(precision):
        shown = run_visualization(
            classifier,
            params["method"],
            layer=None if layer == LOGITS else layer,
            units=params["units"],
            steps=params["steps"],
            seed=params["seed"],
            prior=params["prior"] or defaults.PRIOR,
            images=[context.image(reference) for reference in params["images"]],
            penalty_layer=params["penalty_layer"],
            clusters=params["clusters"],
            progress=context.progress,
        )
    result, names = shown.result, shown.names
    tags = params["units"] or range(len(names))
    for index, tag in enumerate(tags):
        context.save(
            "visualization", f"unit-{tag}.png", png(to_pil(result.images[index])), "image/png"
        )
    context.save("grid", "sheet.png", png(contact_sheet(result.images, names)), "image/png")
    trace = {**result.to_json(), "activation_ratio": shown.ratio.to_dict(), "units": names}
    context.save("trace", "result.json", json.dumps(trace).encode(), "application/json")
    return {
        "units": names,
        "scores": result.scores.tolist(),
        "activation_ratio": shown.ratio.ratio.tolist(),
        "precision": precision,
        "params": result.params,
    }


SLEEP_KIND = JobKind(
    "sleep", "cpu", validate_sleep, run_sleep, "wait in steps (diagnostics, queue overhead)"
)
EXPLAIN_KIND = JobKind(
    "explain",
    "gpu",
    validate_explain,
    run_explain,
    "saliency map + counterfactual for one image",
)
VISUALIZE_KIND = JobKind(
    "visualize",
    "gpu",
    validate_visualize,
    run_visualize,
    "feature visualization of classes or channels",
)
