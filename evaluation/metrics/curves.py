"""Deletion and insertion curves (Petsiuk, Das & Saenko, "RISE", BMVC 2018, §4.1).

Protocol, as in ``eclique/RISE/evaluation.py`` (evaluation.md §6.1 and §10.1-2): pixels are
ranked by saliency in descending order (one pixel = all channels); ``pixels_per_step`` of them
change per step (224 at 224x224; by default ceil(N / 224), so every size has about 224
steps), giving K = ceil(N / pixels_per_step) steps and K + 1 scores;
the score is the softmax probability of the explained class; the area is the normalised
trapezoid AUC = (sum_k s_k - s_0/2 - s_K/2) / K in [0, 1].

* **Deletion** moves from the image to a substrate (``"mean"``: the classifier's normalisation
  mean, i.e. zero in normalised space as in RISE; ``"black"``; ``"blur"``; or any in-filler of
  :mod:`~genlens.core.saliency` — "in-filled deletion" fills the deleted pixels from the remaining
  ones at
  every step). Lower is better.
* **Insertion** moves from a blurred copy (Gaussian 11x11, sigma 5, per channel) to the image.
  Higher is better.

All states of all images are evaluated in forward passes of ``batch_size`` images (by default
the classifier's policy's forward batch).
"""

from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F

from genlens.core.errors import ParameterError
from genlens.core.models import Classifier
from genlens.core.saliency.infill import check_infiller, make_infiller
from genlens.core.saliency.noise import SampleNoise

Direction = Literal["deletion", "insertion"]


@dataclass(frozen=True)
class CurveResult:
    """Scores (B, K+1) after 0..K steps and their normalised trapezoid AUC (B,)."""

    scores: torch.Tensor
    auc: torch.Tensor


def trapezoid_auc(scores: torch.Tensor) -> torch.Tensor:
    """(sum s_k - s_0/2 - s_K/2) / K for curves (B, K+1); equals ``numpy.trapz`` on [0, 1]."""
    steps = scores.shape[1] - 1
    return (scores.sum(dim=1) - scores[:, 0] / 2 - scores[:, -1] / 2) / steps


def rise_blur(images: torch.Tensor) -> torch.Tensor:
    """RISE's insertion start: Gaussian blur, 11x11 kernel, sigma 5, per channel, zero padding."""
    coords = torch.arange(11, dtype=images.dtype, device=images.device) - 5
    kernel_1d = torch.exp(-(coords**2) / (2 * 5.0**2))
    kernel_1d = kernel_1d / kernel_1d.sum()
    kernel = (kernel_1d[:, None] * kernel_1d[None, :]).expand(images.shape[1], 1, 11, 11)
    return F.conv2d(images, kernel.contiguous(), padding=5, groups=images.shape[1])


SUBSTRATES = {"black": torch.zeros_like, "rise-blur": rise_blur}


def pixel_order(maps: torch.Tensor) -> torch.Tensor:
    """Pixel indices (B, H*W) by descending saliency; ties keep raster order (stable sort)."""
    return torch.sort(maps.flatten(1), dim=1, descending=True, stable=True).indices


def change_steps(order: torch.Tensor, pixels_per_step: int) -> torch.Tensor:
    """The step (1..K) at which each pixel changes, (B, H*W), for a pixel order (B, H*W)."""
    batch, pixels = order.shape
    rank = torch.empty_like(order)
    rank.scatter_(1, order, torch.arange(pixels, device=order.device).expand(batch, -1))
    return rank // pixels_per_step + 1


def perturbation_curve(
    classifier: Classifier,
    images: torch.Tensor,
    maps: torch.Tensor,
    target: torch.Tensor,
    direction: Direction = "deletion",
    substrate: str = "mean",
    pixels_per_step: int | None = None,
    batch_size: int | None = None,
    seed: int = 0,
) -> CurveResult:
    """Deletion or insertion curve of each image (see module docstring for the protocol).

    Args:
        images: (B, C, H, W) in [0, 1]; maps: (B, H, W); target: (B,) class indices.
        direction: ``"deletion"`` or ``"insertion"``.
        substrate: deletion only: ``black``, ``rise-blur`` or an in-filler name (``mean`` is the
            classifier's normalisation mean colour, RISE's zero in normalised space).
        pixels_per_step: pixels changed per step; default ceil(H*W / 224), i.e. RISE's 224 at
            224x224 and always about 224 steps.
        batch_size: states per forward pass, across images (speed and memory knob; results don't
            change); default :meth:`Classifier.forward_batch` of the image size.
        seed: for random in-fillers (image b uses ``seed + b``).

    Returns:
        :class:`CurveResult` with scores (B, K+1) and AUC (B,), on CPU.

    States are built one forward batch at a time, so memory stays at a few batches of images
    (an in-filler that depends on the mask fills all K+1 states of one image at once).
    """
    batch, _, height, width = images.shape
    pixels_per_step = pixels_per_step or -(-height * width // 224)
    _check(images, maps, target, direction, substrate, pixels_per_step)
    changes = change_steps(pixel_order(maps.to(images.device)), pixels_per_step)
    changes = changes.view(batch, 1, height, width)
    states = -(-height * width // pixels_per_step) + 1
    ends = _Endpoints(classifier, images, changes, states, direction, substrate, seed)
    chunk = batch_size or classifier.forward_batch((height, width))
    total = batch * states
    targets = target.to(images.device).repeat_interleave(states)
    probabilities = torch.empty(total, device=images.device)
    with torch.no_grad():
        for start in range(0, total, chunk):
            stop = min(start + chunk, total)
            logits = classifier(ends.states(start, stop))
            probs = logits.softmax(dim=1).gather(1, targets[start:stop, None])[:, 0]
            probabilities[start:stop] = probs
    scores = probabilities.view(batch, states).cpu()
    return CurveResult(scores, trapezoid_auc(scores))


class _Endpoints:
    """The states of all curves, image-major (state ``r`` = image ``r // (K+1)`` after
    ``r % (K+1)`` steps): each pixel is taken from the start image until its step, then from
    the end image (deletion: image -> fill; insertion: blurred image -> image)."""

    def __init__(self, classifier, images, changes, states, direction, substrate, seed):
        self.images, self.changes, self.count = images, changes, states
        if direction == "insertion":
            self.start, self.end = rise_blur(images), images
            return
        self.start = images
        if substrate in SUBSTRATES:
            self.end = SUBSTRATES[substrate](images)
            return
        infiller = make_infiller(substrate, classifier)
        if infiller.mask_free:
            noise = SampleNoise(len(images), 1, seed, images.device)
            self.end = infiller.fill(images, torch.ones_like(images[:, :1]), noise)
            return
        self.infiller, self.seed, self.end = infiller, seed, None
        self.filled: tuple[int, torch.Tensor] | None = None

    def states(self, start: int, stop: int) -> torch.Tensor:
        """States ``start .. stop - 1`` as one (stop - start, C, H, W) batch."""
        pieces = []
        for image in range(start // self.count, (stop - 1) // self.count + 1):
            first = max(start, image * self.count) - image * self.count
            last = min(stop, (image + 1) * self.count) - image * self.count
            steps = torch.arange(first, last, device=self.images.device).view(-1, 1, 1, 1)
            changed = self.changes[image] <= steps
            pieces.append(torch.where(changed, self._end(image, first, last), self.start[image]))
        return pieces[0] if len(pieces) == 1 else torch.cat(pieces)

    def _end(self, image: int, first: int, last: int) -> torch.Tensor:
        """End-image pixels for the states ``first .. last - 1`` of ``image``."""
        if self.end is not None:
            return self.end[image]
        if self.filled is None or self.filled[0] != image:
            steps = torch.arange(self.count, device=self.images.device).view(-1, 1, 1, 1)
            observed = (self.changes[image] > steps).to(self.images.dtype)
            noise = SampleNoise(1, self.count, self.seed + image, self.images.device)
            expanded = self.images[image : image + 1].expand(self.count, -1, -1, -1)
            self.filled = image, self.infiller.fill(expanded, observed, noise)
        return self.filled[1][first:last]


def _check(images, maps, target, direction, substrate, pixels_per_step) -> None:
    if direction not in ("deletion", "insertion"):
        raise ParameterError(f"direction must be 'deletion' or 'insertion', got {direction!r}")
    if substrate not in SUBSTRATES:
        check_infiller(substrate)
    if pixels_per_step < 1:
        raise ParameterError(f"pixels_per_step must be >= 1, got {pixels_per_step}")
    if maps.shape != (images.shape[0], *images.shape[2:]) or target.shape != (images.shape[0],):
        raise ParameterError(
            f"maps must be (B, H, W) and target (B,) for images {tuple(images.shape)}, "
            f"got {tuple(maps.shape)} and {tuple(target.shape)}"
        )
