"""The entry point :func:`explain`: validate, run a registered method, build counterfactuals."""

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from genlens.core import defaults
from genlens.core.errors import ParameterError
from genlens.core.models import Classifier, borrow
from genlens.core.params import check_seed, resolve_params
from genlens.core.progress import ProgressCallback, no_progress
from genlens.core.saliency.infill import Infiller, check_infiller, make_infiller
from genlens.core.saliency.methods import Method, get_method
from genlens.core.saliency.noise import SampleNoise
from genlens.core.saliency.problem import Problem
from genlens.core.saliency.result import SaliencyResult
from genlens.core.saliency.score import target_probability

Target = int | Sequence[int] | torch.Tensor | None


@dataclass(frozen=True)
class ExplainRequest:
    """Checked explanation parameters (the one declaration the library, the CLI, the explain
    job and the front ends validate through).

    Attributes:
        method: a registered saliency method name.
        infill: a registered in-filler name or an :class:`Infiller` object.
        seed: in ``[0, 2**62)``; image ``b`` uses ``seed + b``.
        params: every parameter of the method, defaults filled in (its declared ``params``).
    """

    method: str
    infill: str | Infiller
    seed: int
    params: dict[str, Any]

    @property
    def chosen(self) -> Method:
        return get_method(self.method)


def check_explain(
    method: str = defaults.EXPLAIN_METHOD,
    infill: str | Infiller = defaults.INFILL,
    seed: int = 0,
    steps: int | None = None,
    samples: int | None = None,
    **method_params: Any,
) -> ExplainRequest:
    """Validate explanation parameters without a model or any compute.

    ``steps`` and ``samples`` are shortcuts for the method parameters of those names
    (``None`` = the method's default); other method parameters come as keywords.

    Raises:
        ParameterError: unknown method or in-filler, bad seed, unknown or out-of-range
            method parameters.
    """
    if not isinstance(method, str):
        raise ParameterError(f"method must be a saliency method name, got {method!r}")
    chosen = get_method(method)
    check_infiller(infill)
    given = dict(method_params)
    given.update(
        {key: value for key, value in (("steps", steps), ("samples", samples)) if value is not None}
    )
    params = resolve_params(method, chosen.params, given)
    return ExplainRequest(method, infill, check_seed(seed), params)


def explain(
    classifier: Classifier | nn.Module,
    images: torch.Tensor,
    target: Target = None,
    method: str = defaults.EXPLAIN_METHOD,
    infill: str | Infiller = defaults.INFILL,
    steps: int | None = None,
    samples: int | None = None,
    seed: int = 0,
    progress: ProgressCallback | None = None,
    **method_params: Any,
) -> SaliencyResult:
    """Explain why ``classifier`` assigns ``target`` to each image.

    Args:
        classifier: a :class:`~genlens.core.models.Classifier` (takes [0, 1] images), or any
            ``torch.nn.Module`` returning logits, fed ``images`` as they are (use
            ``Classifier.wrap`` for normalisation and labels); it is left as it was (mode,
            ``requires_grad``) after the call.
        images: (B, C, H, W) float in [0, 1], C and (H, W) matching the classifier's input.
        target: class per image: ``None`` (the predicted class), one int for all, or B ints.
        method: a name from :func:`genlens.core.saliency.method_names`, e.g. ``"fido-ssr"``.
        infill: a name from :func:`genlens.core.saliency.infiller_names` or an
            :class:`Infiller` object, used by FIDO/BBMP and for the counterfactual views of
            every method.
        steps, samples: shortcuts for the method parameters of those names (``None`` = default).
        seed: image ``b`` draws its randomness from a generator seeded ``seed + b``, so a batch
            gives the same maps as its images explained one by one with those seeds.
        progress: ``progress(done, total)`` after each optimisation step or chunk.
        **method_params: other method parameters (see ``get_method(name).params``).

    Raises:
        ParameterError: unknown method or in-filler, bad images or target, bad parameters;
            always before any compute.
    """
    started = time.perf_counter()
    request = check_explain(method, infill, seed, steps, samples, **method_params)
    with borrow(classifier, images if isinstance(images, torch.Tensor) else None) as borrowed:
        return _explain(borrowed, images, target, request, progress, started)


def _explain(
    classifier: Classifier,
    images: torch.Tensor,
    target: Target,
    request: ExplainRequest,
    progress: ProgressCallback | None,
    started: float,
) -> SaliencyResult:
    chosen, params = request.chosen, request.params
    method, infill, seed = request.method, request.infill, request.seed
    if chosen.check is not None:
        chosen.check(classifier, params)
    images = _check_images(classifier, images)
    target_tensor = _check_target(classifier, target, images.shape[0])

    with torch.no_grad():
        logits = classifier(images)
    if target_tensor is None:
        target_tensor = logits.argmax(dim=1)
    infiller = make_infiller(infill, classifier)
    problem = Problem(classifier, images, target_tensor, infiller, seed, progress or no_progress)
    precision = "fp32" if chosen.fp32 else classifier.policy.precision
    with classifier.running_in(precision):
        maps = chosen.run(problem, params).detach().float()
    noise = SampleNoise(problem.batch, 1, seed, images.device)
    salient = chosen.salient(maps, noise)
    kept, removed = _views(problem, salient, noise)
    with torch.no_grad():
        prob_kept = target_probability(classifier(kept), target_tensor)
        prob_removed = target_probability(classifier(removed), target_tensor)
    return SaliencyResult(
        method=method,
        maps=maps.cpu(),
        salient=salient.cpu(),
        counterfactuals=(kept if chosen.view == "kept" else removed).cpu(),
        view=chosen.view,
        target=target_tensor.cpu(),
        target_labels=[classifier.labels[index] for index in target_tensor.tolist()],
        prob_original=target_probability(logits, target_tensor).cpu(),
        prob_kept=prob_kept.cpu(),
        prob_removed=prob_removed.cpu(),
        seconds=time.perf_counter() - started,
        params={"method": method, "infill": _infill_name(infill), "seed": seed, **params},
    )


def _infill_name(infill: str | Infiller) -> str:
    return infill if isinstance(infill, str) else infill.name


def _check_images(classifier: Classifier, images: torch.Tensor) -> torch.Tensor:
    """Validate (B, C, H, W) [0, 1] finite images of the classifier's size; move to its device."""
    if not isinstance(images, torch.Tensor) or not images.is_floating_point():
        raise ParameterError("images must be a float tensor (B, C, H, W) in [0, 1]")
    classifier.check_input(images)
    expected = tuple(classifier.preprocessing.input_size)
    if tuple(images.shape[-2:]) != expected or images.shape[0] == 0:
        raise ParameterError(
            f"{classifier.name} expects images of size {expected}, got {tuple(images.shape)}; "
            "use classifier.prepare(...) to resize"
        )
    if not torch.isfinite(images).all() or images.min() < 0 or images.max() > 1:
        raise ParameterError("images must be finite and in [0, 1]")
    return images.detach().to(classifier.device, torch.float32)


def _check_target(classifier: Classifier, target: Target, batch: int) -> torch.Tensor | None:
    """Target (B,) int64 on the classifier's device, or ``None`` for the predicted class."""
    if target is None:
        return None
    values = torch.as_tensor(target)
    if values.is_floating_point() or values.is_complex() or values.dtype == torch.bool:
        raise ParameterError(f"target must be integer class indices, got {target!r}")
    values = values.long().flatten()
    if values.numel() == 1:
        values = values.expand(batch)
    if values.numel() != batch:
        raise ParameterError(f"target has {values.numel()} entries for {batch} images")
    classifier.check_target(values)
    return values.to(classifier.device).contiguous()


def _views(
    problem: Problem, salient: torch.Tensor, noise: SampleNoise
) -> tuple[torch.Tensor, torch.Tensor]:
    """In-filled (B, C, H, W) images: salient region kept (rest filled); salient region filled."""
    images = problem.images
    region = salient[:, None].to(images.dtype)
    with torch.no_grad():
        kept = _composite(problem.infiller, images, region, noise)
        removed = _composite(problem.infiller, images, 1 - region, noise)
    return kept, removed


def _composite(
    infiller: Infiller, images: torch.Tensor, observed: torch.Tensor, noise: SampleNoise
) -> torch.Tensor:
    fill = infiller.fill(images, observed, noise)
    return observed * images + (1 - observed) * fill
