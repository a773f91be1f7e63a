"""In-fillers: replace the unobserved pixels of an image batch.

Every in-filler takes a batch of images (N, C, H, W) in [0, 1], a hard mask ``observed``
(N, 1, H, W) with **1 = observed, 0 = to fill**, and a :class:`SampleNoise` for any randomness,
and returns a fill (N, C, H, W) in [0, 1] defined at every pixel. Callers composite
``z * x + (1 - z) * fill``; the fill is computed without gradients.

Registry names (:mod:`genlens.catalog`): ``mean``, ``blur``, ``random``, ``local-mean``,
``telea``, the shipped learned in-fillers ``learned-<world>`` and ``learned`` (the one of the
classifier's world), and ``oracle-blocks``, the exact in-filler of that world
(:mod:`genlens.core.saliency.oracle_infill`); anywhere a name is taken, an :class:`Infiller`
object is taken too.
"""

import math
from collections.abc import Callable
from functools import partial

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from genlens.core import defaults
from genlens.core.errors import ParameterError
from genlens.core.models import Classifier, ExecutionPolicy
from genlens.core.registries import INFILLERS
from genlens.core.saliency.noise import SampleNoise

Fill = Callable[[torch.Tensor, SampleNoise], torch.Tensor]


class Infiller:
    """Base class: subclasses implement :meth:`fill`; :meth:`bind` may precompute per batch.

    ``mask_free`` is true when the fill depends on the images alone (not on the mask or the
    noise), so callers may compute it once per image.
    """

    name = "infiller"
    mask_free = False

    def fill(self, images: Tensor, observed: Tensor, noise: SampleNoise) -> Tensor:
        """Fill (N, C, H, W) in [0, 1] for images (N, C, H, W) and mask (N, 1, H, W)."""
        raise NotImplementedError

    def bind(self, images: torch.Tensor) -> Fill:
        """A function ``(observed, noise) -> fill`` for this fixed image batch."""
        return partial(self.fill, images)


class MeanInfiller(Infiller):
    """The classifier's normalisation mean colour (zero in normalised space)."""

    name = "mean"
    mask_free = True

    def __init__(self, colour: torch.Tensor):
        self.colour = colour.view(1, -1, 1, 1)

    def fill(self, images: Tensor, observed: Tensor, noise: SampleNoise) -> Tensor:
        return self.colour.to(images).expand_as(images)


class BlurInfiller(Infiller):
    """Gaussian blur of the image (default sigma 10 px), computed once per bound batch.

    The kernel is truncated at 4 sigma (OpenCV's rule for float images, 81 taps at sigma 10),
    clipped to the image size, with reflect-101 borders (OpenCV's default).
    """

    name = "blur"
    mask_free = True

    def __init__(self, sigma: float = 10.0):
        self.sigma = sigma

    def fill(self, images: Tensor, observed: Tensor, noise: SampleNoise) -> Tensor:
        return gaussian_blur(images, self.sigma)

    def bind(self, images: torch.Tensor) -> Fill:
        blurred = gaussian_blur(images, self.sigma)
        return lambda observed, noise: blurred


class RandomColourInfiller(Infiller):
    """Per sample one uniform random colour plus N(0, std^2) pixel noise, clamped to [0, 1].

    Re-drawn on every call (Dabkowski & Gal style), from the per-image generators.
    """

    name = "random"

    def __init__(self, std: float = 0.2):
        self.std = std

    def fill(self, images: Tensor, observed: Tensor, noise: SampleNoise) -> Tensor:
        _, channels, height, width = images.shape
        colour = noise.rand(channels, 1, 1)
        return (colour + self.std * noise.randn(channels, height, width)).clamp_(0, 1).to(images)


class LocalMeanInfiller(Infiller):
    """Mean of the observed pixels in a ``window`` x ``window`` neighbourhood (default 15).

    ``box(x * m) / box(m)`` with a separable box filter and zero padding; pixels without any
    observed neighbour get the classifier's mean colour.
    """

    name = "local-mean"

    def __init__(self, colour: torch.Tensor, window: int = 15):
        self.colour = colour.view(1, -1, 1, 1)
        self.window = window

    def fill(self, images: Tensor, observed: Tensor, noise: SampleNoise) -> Tensor:
        channels = images.shape[1]
        observed = observed.to(images.dtype)
        sums = box_sum(torch.cat([images * observed, observed], dim=1), self.window)
        counts = sums[:, channels:]
        mean = sums[:, :channels] / counts.clamp_min(0.5)
        return torch.where(counts > 0.5, mean, self.colour.to(images))


class TeleaInfiller(Infiller):
    """OpenCV's Telea inpainting (radius 3 px) on 8-bit copies, one sample at a time on CPU."""

    name = "telea"

    def __init__(self, radius: float = 3.0):
        self.radius = radius

    def fill(self, images: Tensor, observed: Tensor, noise: SampleNoise) -> Tensor:
        pixels = images.detach().clamp(0, 1).mul(255).round().byte().permute(0, 2, 3, 1)
        pixels = pixels.cpu().numpy()
        holes = (observed[:, 0] < 0.5).byte().mul(255).cpu().numpy()
        filled = [
            cv2.inpaint(np.ascontiguousarray(image), hole, self.radius, cv2.INPAINT_TELEA)
            for image, hole in zip(pixels, holes, strict=True)
        ]
        stacked = np.stack([out.reshape(pixels.shape[1:]) for out in filled])
        return torch.from_numpy(stacked).permute(0, 3, 1, 2).to(images) / 255.0


class LearnedInfiller(Infiller):
    """Adapter for a trained in-painting network.

    ``model(masked, observed)`` receives the images with unobserved pixels set to 0 (N, C, H, W)
    and the mask (N, 1, H, W), and returns the fill (N, C, H, W) in [0, 1]. It runs in eval mode
    without gradients on the images' device, at ``precision`` (the classifier's, so a bf16
    policy runs the in-filler in bf16 too: 3.7x faster for the BlockFashion in-filler on these
    CPUs, fills within 0.006 of fp32).
    """

    name = "learned"

    def __init__(self, model: nn.Module, precision: str = defaults.PRECISION):
        self.model = model.eval()
        self.policy = ExecutionPolicy(precision, channels_last=False)

    def fill(self, images: Tensor, observed: Tensor, noise: SampleNoise) -> Tensor:
        observed = observed.to(images.dtype)
        with self.policy.autocast(images.device):
            fill = self.model(images * observed, observed)
        return fill.to(images).clamp(0, 1)


def gaussian_blur(images: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur of (N, C, H, W) images, 4-sigma kernel, reflect-101 borders."""
    _, channels, height, width = images.shape
    radius = min(math.ceil(4 * sigma), height - 1, width - 1)
    offsets = torch.arange(-radius, radius + 1, dtype=images.dtype, device=images.device)
    kernel = torch.exp(-0.5 * (offsets / sigma) ** 2)
    kernel = kernel / kernel.sum()
    padded = F.pad(images, (radius, radius, radius, radius), mode="reflect")
    rows = F.conv2d(padded, kernel.view(1, 1, 1, -1).expand(channels, 1, 1, -1), groups=channels)
    return F.conv2d(rows, kernel.view(1, 1, -1, 1).expand(channels, 1, -1, 1), groups=channels)


def box_sum(images: torch.Tensor, window: int) -> torch.Tensor:
    """Sum over a ``window`` x ``window`` neighbourhood (odd window, zero padding), same size.

    Separable running sums (cumulative sum, then the difference ``window`` apart) along each
    axis: O(1) per pixel whatever the window, several times faster than average pooling.
    Sums of 0/1 values below 2**24 are exact; others carry float32 cumulative round-off
    (about 1e-5 of a row's total at 224 pixels).
    """
    half = window // 2
    padded = F.pad(images, (half + 1, half, half + 1, half))
    rows = padded.cumsum(dim=-1)
    rows = rows[..., window:] - rows[..., :-window]
    columns = rows.cumsum(dim=-2)
    return columns[..., window:, :] - columns[..., :-window, :]


InfillerFactory = Callable[[Classifier], Infiller]


def _mean_colour(classifier: Classifier) -> torch.Tensor:
    return torch.tensor(classifier.preprocessing.mean, device=classifier.device)


def mean_infiller(classifier: Classifier) -> Infiller:
    """``mean``: the classifier's normalisation mean colour everywhere."""
    return MeanInfiller(_mean_colour(classifier))


def blur_infiller(classifier: Classifier) -> Infiller:
    """``blur``: a Gaussian blur of the image."""
    return BlurInfiller()


def random_infiller(classifier: Classifier) -> Infiller:
    """``random``: uniform random colours per pixel."""
    return RandomColourInfiller()


def local_mean_infiller(classifier: Classifier) -> Infiller:
    """``local-mean``: the mean of the observed pixels around each unobserved one."""
    return LocalMeanInfiller(_mean_colour(classifier))


def telea_infiller(classifier: Classifier) -> Infiller:
    """``telea``: OpenCV's fast-marching in-painting."""
    return TeleaInfiller()


def register_infiller(name: str, factory: InfillerFactory) -> None:
    """Register ``factory(classifier) -> Infiller`` under ``name``; re-registering replaces it.

    The shipped learned in-fillers are registered this way by :mod:`genlens.catalog`
    (``learned-<world>`` and ``learned``).
    """
    if not name or not callable(factory):
        raise ParameterError("register_infiller needs a non-empty name and a callable factory")
    INFILLERS.register(name, factory)


def infiller_names() -> list[str]:
    """Names accepted by :func:`make_infiller`."""
    return INFILLERS.names()


def check_infiller(infill: str | Infiller) -> None:
    """Raise :class:`ParameterError` unless ``infill`` is an Infiller or a registered name."""
    if isinstance(infill, Infiller) or (isinstance(infill, str) and infill in INFILLERS):
        return
    raise ParameterError(
        f"unknown in-filler {infill!r}; choose from {', '.join(infiller_names())} "
        "or pass an Infiller"
    )


def make_infiller(infill: str | Infiller, classifier: Classifier) -> Infiller:
    """The in-filler ``infill`` for ``classifier``: a registered name (built for the classifier's
    mean colour and device) or an :class:`Infiller` object, returned as it is."""
    check_infiller(infill)
    if isinstance(infill, Infiller):
        return infill
    return INFILLERS.get(infill)(classifier)
