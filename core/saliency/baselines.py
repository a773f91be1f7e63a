"""Gradient and perturbation baselines through Captum (evaluation.md §1); not re-implemented.

Each function takes a :class:`Problem` and resolved params and returns maps (B, H, W), higher =
more salient. Channel reduction: gradient and SmoothGrad take the max of |grad| over channels
(Simonyan et al.); input x gradient, integrated gradients and occlusion sum the signed
attribution over channels. Integrated gradients and occlusion use the classifier's mean colour
(zero in normalised space) as the baseline.
"""

import torch
from captum.attr import (
    InputXGradient,
    IntegratedGradients,
    LayerAttribution,
    LayerGradCam,
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
    "layer": Param("", doc="layer of classifier.net; empty = the last Conv2d"),
}


def last_conv_layer(classifier: Classifier) -> str:
    """Name of the last ``nn.Conv2d`` of ``classifier.net`` (``conv_head`` in EfficientNet-Lite)."""
    modules = classifier.net.named_modules()
    names = [name for name, module in modules if isinstance(module, nn.Conv2d)]
    if not names:
        raise ParameterError(f"{classifier.name} has no Conv2d layer; pass layer=... for grad-cam")
    return names[-1]


def check_gradcam(classifier: Classifier, params: dict) -> None:
    """Resolve an empty layer name to the last conv layer; unknown names raise."""
    params["layer"] = params["layer"] or last_conv_layer(classifier)
    classifier.layer(params["layer"])


def grad_cam(problem: Problem, params: dict) -> torch.Tensor:
    """Grad-CAM (ReLU) at ``layer``, upsampled bilinearly to the input size.

    The input does not require a gradient: Captum makes the layer's output the leaf, so
    autograd records only the network after ``layer`` (the part the backward pass needs).
    """
    layer = problem.classifier.layer(params["layer"])
    cam = LayerGradCam(problem.classifier, layer).attribute(
        problem.images, target=problem.target, relu_attributions=True
    )
    upsampled = LayerAttribution.interpolate(cam, problem.size, interpolate_mode="bilinear")
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
