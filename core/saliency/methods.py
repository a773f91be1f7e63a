"""Saliency methods: one :class:`Method` per name, registered in :mod:`genlens.catalog`.

Each method declares its parameters (defaults and ranges), how its map is binarised into the
salient region used for the counterfactuals, and which counterfactual view it returns.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import partial

import torch

from genlens.core.errors import ParameterError
from genlens.core.models import Classifier
from genlens.core.params import Param
from genlens.core.registries import METHODS
from genlens.core.saliency import baselines
from genlens.core.saliency.bbmp import BBMP_PARAMS, bbmp
from genlens.core.saliency.fido import FIDO_FAST_PARAMS, FIDO_PARAMS, fido
from genlens.core.saliency.noise import SampleNoise
from genlens.core.saliency.problem import Problem
from genlens.core.saliency.rise import RISE_PARAMS, rise


def sampled_region(maps: torch.Tensor, noise: SampleNoise) -> torch.Tensor:
    """FIDO: one hard Bernoulli draw of the mask distribution, ``u < map + 0.5`` per pixel.

    FIDO's mask is a distribution over binary masks (keep probability for SSR, drop
    probability for SDR); a draw is exactly what the optimiser scores at each step (tau -> 0).
    Thresholding at 0.5 instead can keep far less than the optimiser relied on: with the
    local-mean in-filler FIDO-SSR keeps the class partly through sparse low-probability pixels.
    """
    return noise.rand(*maps.shape[1:]) < maps + 0.5


def positive_region(maps: torch.Tensor, noise: SampleNoise) -> torch.Tensor:
    """BBMP: the salient region is ``map > 0`` (kept/deleted mask value above 0.5)."""
    return maps > 0


def above_mean_region(maps: torch.Tensor, noise: SampleNoise) -> torch.Tensor:
    """Attribution methods: pixels at or above the per-image mean of the map (the casme /
    saliency_investigation binarisation rule, evaluation.md §6.3)."""
    return maps >= maps.mean(dim=(1, 2), keepdim=True)


@dataclass(frozen=True)
class Method:
    """A saliency method.

    Attributes:
        name: registry name.
        run: ``run(problem, params) -> maps`` (B, H, W), higher = more salient.
        params: declared parameters (defaults and ranges).
        salient: ``salient(maps, noise)`` binarises maps (B, H, W) into the salient region
            (B, H, W) bool; ``noise`` gives seeded per-image draws (B images x 1 sample).
        view: which counterfactual :func:`explain` returns: ``"kept"`` (salient region kept,
            the rest in-filled; SSR) or ``"removed"`` (salient region in-filled; SDR).
        check: optional ``check(classifier, params)`` run before any compute; may fill in
            derived defaults (e.g. the Grad-CAM layer).
        uses_infiller: the in-filler shapes the map itself (mask optimisers), not only the
            counterfactual views; benchmarks then label rows ``method@infiller``.
        fp32: always run in fp32, also on a bf16 classifier. Pixel-gradient attributions need
            it: with bf16 input gradients, integrated gradients on EfficientNet-Lite0 reach
            Spearman 0.76 against fp32 (its own 16- vs 32-step change: 0.88).
    """

    name: str
    run: Callable[[Problem, dict], torch.Tensor]
    params: Mapping[str, Param]
    salient: Callable[[torch.Tensor, SampleNoise], torch.Tensor] = above_mean_region
    view: str = "removed"
    check: Callable[[Classifier, dict], None] | None = field(default=None)
    uses_infiller: bool = False
    fp32: bool = False


FIDO_SSR = Method(
    "fido-ssr",
    partial(fido, objective="ssr"),
    FIDO_PARAMS,
    sampled_region,
    "kept",
    uses_infiller=True,
)
FIDO_SSR_FAST = replace(FIDO_SSR, name="fido-ssr-fast", params=FIDO_FAST_PARAMS)
"""FIDO-SSR with the fast preset's defaults (the demo's method; see FIDO_FAST_PARAMS)."""
FIDO_SDR = Method(
    "fido-sdr", partial(fido, objective="sdr"), FIDO_PARAMS, sampled_region, uses_infiller=True
)
BBMP_SSR = Method(
    "bbmp-ssr",
    partial(bbmp, objective="ssr"),
    BBMP_PARAMS,
    positive_region,
    "kept",
    uses_infiller=True,
)
BBMP_SDR = Method(
    "bbmp-sdr", partial(bbmp, objective="sdr"), BBMP_PARAMS, positive_region, uses_infiller=True
)
GRADIENT = Method("gradient", baselines.gradient, {}, fp32=True)
INPUT_X_GRADIENT = Method("input-x-gradient", baselines.input_x_gradient, {}, fp32=True)
INTEGRATED_GRADIENTS = Method(
    "integrated-gradients", baselines.integrated_gradients, baselines.IG_PARAMS, fp32=True
)
SMOOTHGRAD = Method("smoothgrad", baselines.smoothgrad, baselines.SMOOTHGRAD_PARAMS, fp32=True)
GRAD_CAM = Method(
    "grad-cam", baselines.grad_cam, baselines.GRADCAM_PARAMS, check=baselines.check_gradcam
)
OCCLUSION = Method("occlusion", baselines.occlusion, baselines.OCCLUSION_PARAMS)
RISE = Method("rise", rise, RISE_PARAMS)


def method_names() -> list[str]:
    """Names accepted by :func:`get_method`, in registration order (the catalog's first)."""
    return METHODS.names(sort=False)


def get_method(name: str) -> Method:
    """The method ``name``; unknown names raise :class:`ParameterError` listing valid ones."""
    return METHODS.get(name)


def register_method(method: Method) -> None:
    """Add a saliency method under ``method.name`` (names are unique); it is then usable by
    :func:`genlens.core.saliency.explain`, the CLI, the worker and the benchmark runner."""
    if not isinstance(method, Method) or not method.name or not callable(method.run):
        raise ParameterError("register_method needs a Method with a name and a callable run")
    if method.name in METHODS:
        raise ParameterError(f"saliency method {method.name!r} is already registered")
    METHODS.register(method.name, method)
