"""The result of one :func:`genlens.core.saliency.explain` call."""

from dataclasses import dataclass
from typing import Any

import torch


@dataclass
class SaliencyResult:
    """Saliency maps and counterfactuals for a batch of B images (all tensors on CPU).

    Attributes:
        method: registry name of the method, e.g. ``"fido-ssr"``.
        maps: (B, H, W) float32, higher = more salient. FIDO/BBMP maps are keep (SSR) or drop
            (SDR) probabilities minus 0.5, in [-0.5, 0.5]; baselines keep their native units.
        salient: (B, H, W) bool, the **hard** salient region the counterfactuals use. FIDO: one
            seeded Bernoulli draw of its mask distribution (``u < map + 0.5``, what the
            optimiser scores); BBMP: ``map > 0`` (mask thresholded at 0.5); baselines:
            ``map >= mean(map)``.
        counterfactuals: (B, C, H, W) in [0, 1], the in-filled image of that hard region: for
            SSR methods the salient region kept and the rest in-filled, for all others the
            salient region in-filled.
        view: ``"kept"`` or ``"removed"``, which of the two the counterfactuals show.
        target: (B,) int64 class explained.
        target_labels: class names of ``target``.
        prob_original: (B,) target probability on the original image.
        prob_kept: (B,) target probability with only the salient evidence kept (rest in-filled).
        prob_removed: (B,) target probability with the salient evidence in-filled.
        seconds: wall-clock time of the whole call.
        params: every parameter used (method, in-filler, seed and method parameters);
            JSON-serializable.
    """

    method: str
    maps: torch.Tensor
    salient: torch.Tensor
    counterfactuals: torch.Tensor
    view: str
    target: torch.Tensor
    target_labels: list[str]
    prob_original: torch.Tensor
    prob_kept: torch.Tensor
    prob_removed: torch.Tensor
    seconds: float
    params: dict[str, Any]
