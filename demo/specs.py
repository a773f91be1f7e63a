"""Job specs built from form values: ``explain`` jobs (one, or a batch of images x methods) and
``benchmark`` jobs, with the parsing of the free-text fields that go into them. Nothing here
talks to the service; the front ends submit the specs with their job client."""

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from genlens.core.errors import ImageError, ParameterError
from genlens.core.saliency import get_method
from genlens.demo.choices import ESTIMATE, WORKER_PRECISION


def method_steps(method: str) -> int | None:
    """The steps ``method`` declares by default (None for methods without steps): what the
    forms' steps control shows when the method is chosen, so a preset runs as declared."""
    params = get_method(method).params
    return params["steps"].default if "steps" in params else None


def explain_spec(
    image: str | bytes,
    model: str,
    method: str,
    infill: str,
    steps: int | None = None,
    seed: int = 0,
    precision: str = WORKER_PRECISION,
) -> dict[str, Any]:
    """An ``explain`` job spec (``image``: a path, ``sample:NAME`` or bytes); ``steps`` goes
    to the methods that declare it (FIDO, BBMP, integrated gradients), the others ignore it.
    ``precision``: a value of :func:`~genlens.demo.choices.precision_choices`."""
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
    if precision != WORKER_PRECISION:
        spec["precision"] = precision
    return spec


def batch_specs(
    images: Sequence[bytes | str],
    methods: Sequence[str],
    model: str,
    infill: str,
    steps: int | None,
    seed: int = 0,
    precision: str = WORKER_PRECISION,
) -> list[dict[str, Any]]:
    """Explain specs for every image x method (images as bytes or ``sample:NAME``)."""
    if not images:
        raise ParameterError("a batch needs at least one image")
    if not methods:
        raise ParameterError("a batch needs at least one method")
    return [
        explain_spec(image, model, method, infill, steps, seed, precision)
        for image in images
        for method in methods
    ]


def benchmark_spec(
    suite: str | bytes,
    methods: Sequence[str],
    infill: str,
    model: str | dict[str, Any] | None = None,
    limit: int | None = None,
    seed: int = 0,
    suite_name: str | None = None,
    estimate: bool = False,
) -> dict[str, Any]:
    """A ``benchmark`` job spec (``estimate``: a ``benchmark-estimate`` job, its cost): every
    method on ``suite`` (a registered name, or a suite folder's zip archive named
    ``suite_name``), with ``model`` (a registered name or a weights file's
    :class:`~genlens.core.models.ModelSpec` JSON) instead of the suite's classifier and
    ``limit`` images drawn with ``seed`` when given."""
    if not methods:
        raise ParameterError("a benchmark needs at least one method")
    spec: dict[str, Any] = {
        "kind": ESTIMATE if estimate else "benchmark",
        "suite": suite,
        "methods": list(methods),
        "infill": infill,
    }
    optional = {"model": model, "limit": limit, "suite_name": suite_name}
    spec.update({key: value for key, value in optional.items() if value is not None})
    if limit is not None:
        spec["seed"] = seed
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
