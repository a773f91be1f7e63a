"""BBMP: FIDO's re-implementation of Fong & Vedaldi's meaningful perturbation (spec §3.8).

A deterministic keep mask M (1, h, w) per image on the coarse grid, initialised to 1 and
clamped to [0, 1] before every forward pass (projected gradient descent). The in-filler sees
the observed mask ``1[Up(M) >= 1]`` (with a 1e-6 tolerance for bilinear round-off) and the
classifier sees ``Up(M) * x + (1 - Up(M)) * fill``.

* SSR: minimise ``-score + rw * (reg * sum(Up(M)) + smooth * L2smooth(Up(M)))``
* SDR: minimise ``+score + rw * (reg * sum(1 - Up(M)) + smooth * L2smooth(Up(M)))``

``rw_max`` defaults to 1 (regulariser off at step 0, on afterwards). Maps: SSR ``Up(M) - 0.5``,
SDR ``0.5 - Up(M)``; higher = more salient, ``map > 0`` is the salient region.
"""

import torch

from genlens.core.params import Param
from genlens.core.saliency.optimise import MASK_PARAMS, MaskObjective, upsample
from genlens.core.saliency.problem import Problem

OBSERVED_TOLERANCE = 1e-6

BBMP_PARAMS: dict[str, Param] = {
    **MASK_PARAMS,
    "rw_max": Param(1.0, low=0.0, doc="steps over which the regulariser ramps up to full weight"),
    "samples": Param(1, low=1, high=1024, doc="in-fill draws per step (only random in-fills vary)"),
    "reg": Param(5e-3, low=0.0, doc="L1 weight on the kept (SSR) / deleted (SDR) mask area"),
}


def bbmp(problem: Problem, params: dict, objective: str) -> torch.Tensor:
    """Optimise BBMP masks for a batch; returns maps (B, H, W) in [-0.5, 0.5], higher = salient."""
    size = problem.size
    task = MaskObjective(problem, params, objective, init=1.0)
    mask = task.parameter

    def loss(step: int) -> torch.Tensor:
        with torch.no_grad():
            mask.clamp_(0, 1)
        keep = upsample(mask, size)
        kept = keep.repeat_interleave(task.samples, dim=0)
        observed = (kept.detach() >= 1 - OBSERVED_TOLERANCE).to(kept.dtype)
        area = (keep if objective == "ssr" else 1 - keep).sum(dim=(1, 2, 3))
        return task.loss(step, kept, observed, area, keep)

    task.optimise(loss)
    with torch.no_grad():
        keep = upsample(mask.clamp(0, 1), size)[:, 0]
    return (keep - 0.5) if objective == "ssr" else (0.5 - keep)
