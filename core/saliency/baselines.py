"""Gradient and perturbation baselines (evaluation.md §1): through Captum, except Grad-CAM,
which maps token and NHWC layers to a grid (:mod:`genlens.core.models.families`).

Each function takes a :class:`Problem` and resolved params and returns maps (B, H, W), higher =
more salient. Channel reduction: gradient and SmoothGrad take the max of |grad| over channels
(Simonyan et al.); input x gradient, integrated gradients and occlusion sum the signed
attribution over channels. Integrated gradients and occlusion use the classifier's mean colour
(zero in normalised space) as the baseline.
"""

from collections.abc import Iterator
from contextlib import contextmanager

import torch
import torch.nn.functional as F
from captum.attr import (
    InputXGradient,
    IntegratedGradients,
    NoiseTunnel,
    Occlusion,
    Saliency,
)
from torch import nn

from genlens.core.errors import ParameterError
from genlens.core.models import Classifier
from genlens.core.params import BATCH_DOC, Param
from genlens.core.saliency.problem import Problem


def _mean_image(problem: Problem) -> torch.Tensor:
    colour = torch.tensor(problem.classifier.preprocessing.mean, device=problem.images.device)
    return colour.view(1, -1, 1, 1).expand_as(problem.images).contiguous()


def _inputs(problem: Problem) -> torch.Tensor:
    return problem.images.clone().requires_grad_(True)


def _done(problem: Problem, maps: torch.Tensor) -> torch.Tensor:
    problem.progress(1, 1)
    return maps.detach()


def gradient(problem: Problem, params: dict) -> torch.Tensor:
    """Vanilla gradient: max over channels of |d logit_target / d x|."""
    attribution = Saliency(problem.classifier).attribute(
        _inputs(problem), target=problem.target, abs=True
    )
    return _done(problem, attribution.amax(dim=1))


def input_x_gradient(problem: Problem, params: dict) -> torch.Tensor:
    """Input x gradient summed over channels (signed)."""
    explainer = InputXGradient(problem.classifier)
    attribution = explainer.attribute(_inputs(problem), target=problem.target)
    return _done(problem, attribution.sum(dim=1))


IG_PARAMS = {
    "steps": Param(50, low=1, high=10_000, doc="integration points (Gauss-Legendre)"),
    "batch": Param(0, low=0, high=4096, doc=BATCH_DOC.format("interpolated images")),
}


def integrated_gradients(problem: Problem, params: dict) -> torch.Tensor:
    """Integrated gradients from the mean-colour image, summed over channels."""
    attribution = IntegratedGradients(problem.classifier).attribute(
        _inputs(problem),
        baselines=_mean_image(problem),
        target=problem.target,
        n_steps=params["steps"],
        internal_batch_size=max(problem.batch, problem.forward_batch(params["batch"])),
    )
    return _done(problem, attribution.sum(dim=1))


SMOOTHGRAD_PARAMS = {
    "samples": Param(25, low=1, high=10_000, doc="noisy copies per image"),
    "stdev": Param(0.15, low=0.0, high=10.0, doc="noise std in [0, 1] pixel units"),
    "batch": Param(25, low=1, high=4096, doc="noisy copies per forward pass"),
}


def smoothgrad(problem: Problem, params: dict) -> torch.Tensor:
    """SmoothGrad (NoiseTunnel over |gradient|), max over channels; seeded with ``seed``."""
    device = problem.images.device
    devices = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(problem.seed)
        attribution = NoiseTunnel(Saliency(problem.classifier)).attribute(
            _inputs(problem),
            nt_type="smoothgrad",
            nt_samples=params["samples"],
            nt_samples_batch_size=params["batch"],
            stdevs=params["stdev"],
            target=problem.target,
            abs=True,
        )
    return _done(problem, attribution.amax(dim=1))


GRADCAM_PARAMS = {
    "layer": Param(
        "",
        doc="layer of classifier.net; empty = the architecture's default (CNN: last Conv2d, "
        "ViT: last block's norm1, Swin/ConvNeXt: last stage)",
    ),
}


def check_gradcam(classifier: Classifier, params: dict) -> None:
    """Resolve an empty layer name to the architecture's default; unknown names raise."""
    params["layer"] = params["layer"] or classifier.spatial_layer()
    classifier.layer(params["layer"])


@contextmanager
def _output_as_leaf(layer: nn.Module) -> Iterator[list[torch.Tensor]]:
    """Forward hook replacing ``layer``'s output by a detached copy that requires grad, so
    autograd records only the network after ``layer`` (the part the backward pass needs);
    yields a list holding that leaf after the forward pass."""
    leaves: list[torch.Tensor] = []

    def hook(_module: nn.Module, _inputs: tuple, output: torch.Tensor) -> torch.Tensor:
        if not torch.is_tensor(output):
            raise ParameterError(f"grad-cam needs a layer that outputs a tensor, not {output!r}")
        leaves[:] = [output.detach().requires_grad_(True)]
        return leaves[0]

    handle = layer.register_forward_hook(hook)
    try:
        yield leaves
    finally:
        handle.remove()


def grad_cam(problem: Problem, params: dict) -> torch.Tensor:
    """Grad-CAM (Selvaraju et al.) at ``layer``: ReLU of the activation channels weighted by
    their spatially averaged gradient of the target logit, upsampled bilinearly to the input.

    The activation and its gradient are mapped to (B, C, h, w) by the architecture family
    (:meth:`~genlens.core.models.Classifier.spatial`), so token layers of vision transformers
    (prefix tokens dropped) and Swin's NHWC stages work like CNN feature maps.
    """
    classifier, name = problem.classifier, params["layer"]
    with _output_as_leaf(classifier.layer(name)) as leaves:
        logits = classifier(problem.images)
    (gradient,) = torch.autograd.grad(logits.gather(1, problem.target[:, None]).sum(), leaves)
    activation = classifier.spatial(name, leaves[0].detach()).float()
    weights = classifier.spatial(name, gradient).float().mean(dim=(2, 3), keepdim=True)
    cam = (weights * activation).sum(dim=1, keepdim=True).relu()
    upsampled = F.interpolate(cam, size=problem.size, mode="bilinear", align_corners=False)
    return _done(problem, upsampled[:, 0])


OCCLUSION_PARAMS = {
    "window": Param(16, low=1, high=4096, doc="occluding square side in pixels"),
    "stride": Param(8, low=1, high=4096, doc="step between windows in pixels"),
    "batch": Param(0, low=0, high=4096, doc=BATCH_DOC.format("occluded images")),
}


def occlusion(problem: Problem, params: dict) -> torch.Tensor:
    """Occlusion with a mean-colour square, output change summed over channels."""
    channels = problem.images.shape[1]
    window, stride = params["window"], params["stride"]
    attribution = Occlusion(problem.classifier).attribute(
        problem.images,
        sliding_window_shapes=(channels, window, window),
        strides=(channels, stride, stride),
        baselines=_mean_image(problem),
        target=problem.target,
        perturbations_per_eval=max(1, problem.forward_batch(params["batch"]) // problem.batch),
    )
    return _done(problem, attribution.sum(dim=1))
