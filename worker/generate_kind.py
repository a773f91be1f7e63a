"""The ``generate`` job kind: the feature-conditioned generator's editor as a queued job.

A job re-renders one image with edited classifier features: PCA traversals (each component at
training quantiles, one at a time) or, with ``target_image``, the features of another image
("render A with B's features"). Outputs: the labelled grid (``real | edits | reconstruction``)
and the classifier's top class per column. Models are loaded once per worker process.
"""

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import torch

from genlens.core import defaults
from genlens.core.data import to_pil
from genlens.core.errors import ParameterError
from genlens.core.generative.conditional.api import (
    ConditionalGAN,
    edit,
    grid_image,
    is_world_reference,
    load_conditional,
    render_with,
    resolve_reference,
)
from genlens.core.generative.conditional.editor import check_traversal
from genlens.core.zoo import zoo_of_kind
from genlens.worker.builtin_kinds import png
from genlens.worker.context import JobContext, SubmitContext
from genlens.worker.kinds import JobKind, check_keys

FIELDS = {"model", "image", "traverse", "quantiles", "target_image"}


def _reference(value: Any, context: SubmitContext, name: str) -> str:
    """World images (``fmnist:test:12``, ``faces:photo:astronaut``) stay references; anything
    else is checked and stored."""
    if is_world_reference(value):
        resolve_reference(value)  # index and world are checked now, not in the worker
        return value
    return context.image(value, name)


def validate_generate(spec: Mapping[str, Any], context: SubmitContext) -> dict[str, Any]:
    """Parameters of a ``generate`` job: ``model`` (a shipped conditional generator),
    ``image`` (sample:NAME, file, bytes, artifact, ``WORLD:SPLIT:INDEX`` or
    ``faces:photo:NAME``), ``traverse`` (1-based principal components, default [1, 2, 3]),
    ``quantiles`` (percent, default [10, 50, 90]) and optional ``target_image`` whose
    features replace the image's own."""
    check_keys("generate", spec, FIELDS)
    shipped = [model.name for model in zoo_of_kind("conditional")]
    model = spec.get("model", shipped[0] if shipped else None)
    if model not in shipped:
        raise ParameterError(
            f"unknown conditional model {model!r}; shipped: {', '.join(shipped) or 'none'}"
        )
    if "image" not in spec:
        raise ParameterError("generate job: 'image' is required")
    traverse, quantiles = check_traversal(
        spec.get("traverse", list(defaults.TRAVERSE)),
        spec.get("quantiles", list(defaults.QUANTILES)),
    )
    target = spec.get("target_image")
    return {
        "model": model,
        "image": _reference(spec["image"], context, "image"),
        "traverse": traverse,
        "quantiles": quantiles,
        "target_image": None if target is None else _reference(target, context, "target_image"),
    }


@lru_cache(maxsize=4)
def _model(name: str, device: str) -> ConditionalGAN:
    return load_conditional(name, device=device)


def _prepared(context: JobContext, model: ConditionalGAN, reference: str) -> torch.Tensor:
    """(1, C, S, S) in [0, 1]: the referenced image at the model's size and channels."""
    mode = "L" if model.channels == 1 else "RGB"
    if is_world_reference(reference):
        image = resolve_reference(reference).convert(mode)
    else:
        image = context.image(reference, mode=mode)
    return model.prepare([image])


def run_generate(context: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    """Render the edits; artifacts: the labelled grid (PNG) and each output column (PNG)."""
    model = _model(params["model"], context.settings.device)
    images = _prepared(context, model, params["image"])
    if params["target_image"] is None:
        if max(params["traverse"]) > model.components:
            raise ParameterError(
                f"{model.name} has {model.components} components; got traverse {params['traverse']}"
            )
        result = edit(model, images, params["traverse"], params["quantiles"], context.progress)
    else:
        targets = _prepared(context, model, params["target_image"])
        result = render_with(model, images, targets, context.progress)
    context.save("grid", "grid.png", png(grid_image(result)), "image/png")
    for column, label in enumerate(result.labels):
        image = to_pil(result.outputs[0, column].cpu())
        context.save("output", f"{column:02d}-{label}.png", png(image), "image/png")
    names = result.class_names
    top = result.probabilities[0].max(dim=1)
    return {
        "model": model.name,
        "columns": [
            {"label": label, "class": names[int(index)], "probability": float(value)}
            for label, value, index in zip(result.labels, top.values, top.indices, strict=True)
        ],
        "input_class": names[int(result.input_probabilities[0].argmax())],
    }


GENERATE_KIND = JobKind(
    "generate",
    "gpu",
    validate_generate,
    run_generate,
    "conditional generator: PCA traversals or another image's features",
)
