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

from genlens.core.data import to_pil
from genlens.core.errors import ModelLoadError, ParameterError
from genlens.core.featviz import LOGITS, contact_sheet, registered_priors
from genlens.core.featviz.run import DEFAULT_PRIOR, DEFAULT_STEPS, run_visualization
from genlens.core.featviz.run import METHODS as VISUALIZATION_METHODS
from genlens.core.models.registry import is_registered, registered_classifiers
from genlens.core.saliency import explain, get_method
from genlens.core.saliency.infill import check_infiller
from genlens.core.saliency.params import Param, resolve_params
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
}


def check_model(spec: Mapping[str, Any]) -> str:
    """The ``model`` field: a registered name (uploaded weights are not accepted by jobs)."""
    model = spec.get("model", "efficientnet_lite0")
    if not isinstance(model, str) or not is_registered(model):
        known = ", ".join(entry.name for entry in registered_classifiers())
        raise ModelLoadError(f"unknown model {model!r} for a job; registered models: {known}")
    return model


def check_seed(spec: Mapping[str, Any]) -> int:
    seed = spec.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**62:
        raise ParameterError(f"seed must be an integer in [0, 2**62), got {seed!r}")
    return seed


def validate_explain(spec: Mapping[str, Any], context: SubmitContext) -> dict[str, Any]:
    """Parameters of an ``explain`` job, checked without loading the model.

    Fields: ``image`` (``sample:NAME``, file path, bytes or ``artifact:<sha256>``), ``model``
    (a registered name), ``method``, ``infill``, ``steps``, ``samples``, ``seed``, ``target``
    (class index or ``None`` = predicted) and ``params`` (other method parameters).
    """
    check_keys("explain", spec, EXPLAIN_FIELDS)
    model = check_model(spec)
    method = spec.get("method", "fido-ssr")
    chosen = get_method(method)
    infill = spec.get("infill", "local-mean")
    check_infiller(infill)
    given = dict(spec.get("params") or {})
    given.update({key: spec[key] for key in ("steps", "samples") if spec.get(key) is not None})
    params = resolve_params(method, chosen.params, given)
    seed = check_seed(spec)
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
        "method": method,
        "infill": infill,
        "seed": seed,
        "target": target,
        "params": params,
    }


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
}
MAX_UNITS = 64
MAX_IMAGES = 64


def _check_units(units: Any) -> list[int]:
    if (
        not isinstance(units, list)
        or not 1 <= len(units) <= MAX_UNITS
        or any(isinstance(u, bool) or not isinstance(u, int) or u < 0 for u in units)
    ):
        raise ParameterError(
            f"units must be a list of 1 to {MAX_UNITS} indices >= 0, got {units!r}"
        )
    return units


def validate_visualize(spec: Mapping[str, Any], context: SubmitContext) -> dict[str, Any]:
    """Parameters of a ``visualize`` job: ``model``, ``method`` (fourier, pixel, dgn,
    class-agnostic), ``layer`` (``logits`` or a layer name), ``units`` (class or channel
    indices, one image each; not for class-agnostic), ``steps``, ``seed``, ``prior`` (dgn: a
    registered generator prior), ``images`` (class-agnostic: the image set, default the shipped
    photos), ``penalty_layer`` and ``clusters`` (class-agnostic). Layer names and unit ranges
    are checked by the worker, which has the model."""
    check_keys("visualize", spec, VISUALIZE_FIELDS)
    method = spec.get("method", "fourier")
    if method not in VISUALIZATION_METHODS:
        raise ParameterError(
            f"visualize method must be one of {', '.join(VISUALIZATION_METHODS)}, got {method!r}"
        )
    layer = spec.get("layer", LOGITS)
    if not isinstance(layer, str) or not layer:
        raise ParameterError(f"layer must be 'logits' or a layer name, got {layer!r}")
    params = resolve_params(
        "visualize",
        {
            "steps": Param(DEFAULT_STEPS[method], low=1, high=10_000, doc="optimization steps"),
            "clusters": Param(3, low=1, high=16, doc="class-agnostic: facets"),
        },
        {key: spec[key] for key in ("steps", "clusters") if spec.get(key) is not None},
    )
    prior = spec.get("prior", DEFAULT_PRIOR)
    if prior not in registered_priors():
        raise ParameterError(
            f"unknown prior {prior!r}; registered: {', '.join(registered_priors())}"
        )
    images = spec.get("images") or []
    if not isinstance(images, list) or len(images) > MAX_IMAGES:
        raise ParameterError(f"images must be a list of at most {MAX_IMAGES} images")
    if method == "class-agnostic" and layer == LOGITS:
        raise ParameterError("class-agnostic needs a spatial layer (e.g. bn2), not the logits")
    return {
        "model": check_model(spec),
        "method": method,
        "layer": layer,
        "units": [] if method == "class-agnostic" else _check_units(spec.get("units")),
        "seed": check_seed(spec),
        "prior": prior if method == "dgn" else None,
        "images": [context.image(image, f"images[{i}]") for i, image in enumerate(images)],
        "penalty_layer": spec.get("penalty_layer"),
        **params,
    }


def run_visualize(context: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    """Optimize one image per unit (or facet); artifacts: a PNG per image, the contact sheet
    and the trace with activation ratios."""
    classifier = context.classifier(params["model"])
    layer = params["layer"]
    shown = run_visualization(
        classifier,
        params["method"],
        layer=None if layer == LOGITS else layer,
        units=params["units"],
        steps=params["steps"],
        seed=params["seed"],
        prior=params["prior"] or DEFAULT_PRIOR,
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
