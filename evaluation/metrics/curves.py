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

All states of all images are evaluated in forward passes of ``batch_size`` images.
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


def step_masks(order: torch.Tensor, height: int, width: int, pixels_per_step: int) -> torch.Tensor:
    """Masks (B, K+1, 1, H, W): 1 where a pixel has changed after k steps (k = 0..K)."""
    batch, pixels = order.shape
    steps = -(-pixels // pixels_per_step)
    rank = torch.empty_like(order)
    rank.scatter_(1, order, torch.arange(pixels, device=order.device).expand(batch, -1))
    changed_after = rank // pixels_per_step + 1  # the step at which each pixel changes
    ks = torch.arange(steps + 1, device=order.device).view(1, -1, 1)
    return (changed_after.unsqueeze(1) <= ks).float().view(batch, steps + 1, 1, height, width)


def perturbation_curve(
    classifier: Classifier,
    images: torch.Tensor,
    maps: torch.Tensor,
    target: torch.Tensor,
    direction: Direction = "deletion",
    substrate: str = "mean",
    pixels_per_step: int | None = None,
    batch_size: int = 64,
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
        batch_size: states per forward pass, across images (memory knob; results don't change).
        seed: for random in-fillers (image b uses ``seed + b``).

    Returns:
        :class:`CurveResult` with scores (B, K+1) and AUC (B,), on CPU.
    """
    batch, _, height, width = images.shape
    pixels_per_step = pixels_per_step or -(-height * width // 224)
    _check(images, maps, target, direction, substrate, pixels_per_step)
    order = pixel_order(maps.to(images.device))
    states = -(-height * width // pixels_per_step) + 1
    sequences = (
        _states(
            classifier,
            images[b : b + 1],
            step_masks(order[b : b + 1], height, width, pixels_per_step)[0],
            direction,
            substrate,
            seed + b,
        )
        for b in range(batch)
    )
    targets = target.to(images.device).repeat_interleave(states)
    probabilities = _batched_probabilities(classifier, sequences, targets, batch_size)
    scores = probabilities.view(batch, states).cpu()
    return CurveResult(scores, trapezoid_auc(scores))


def _states(
    classifier: Classifier,
    image: torch.Tensor,
    changed: torch.Tensor,
    direction: Direction,
    substrate: str,
    seed: int,
) -> torch.Tensor:
    """The K+1 images (K+1, C, H, W) of one curve; ``changed`` is (K+1, 1, H, W)."""
    if direction == "insertion":
        return changed * image + (1 - changed) * rise_blur(image)
    if substrate in SUBSTRATES:
        fill = SUBSTRATES[substrate](image)
    else:
        observed = 1 - changed
        noise = SampleNoise(1, changed.shape[0], seed, image.device)
        with torch.no_grad():
            expanded = image.expand(changed.shape[0], -1, -1, -1)
            fill = make_infiller(substrate, classifier).fill(expanded, observed, noise)
    return (1 - changed) * image + changed * fill


@torch.no_grad()
def _batched_probabilities(
    classifier: Classifier, sequences, targets: torch.Tensor, batch_size: int
) -> torch.Tensor:
    """Softmax probability of ``targets`` for all states, ``batch_size`` states per forward."""
    outputs: list[torch.Tensor] = []
    pending: list[torch.Tensor] = []
    pending_count = 0
    done = 0

    def flush(chunk: torch.Tensor) -> None:
        nonlocal done
        count = chunk.shape[0]
        probs = classifier(chunk).softmax(dim=1)
        outputs.append(probs.gather(1, targets[done : done + count, None])[:, 0])
        done += count

    for sequence in sequences:
        pending.append(sequence)
        pending_count += sequence.shape[0]
        while pending_count >= batch_size:
            stacked = torch.cat(pending)
            flush(stacked[:batch_size])
            pending = [stacked[batch_size:]]
            pending_count -= batch_size
    if pending_count:
        flush(torch.cat(pending))
    return torch.cat(outputs)


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
