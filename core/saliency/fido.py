"""FIDO (Chang et al., ICLR 2019): a Bernoulli dropout field optimised through Concrete samples.

Spec: algorithms.md §3.2-3.7. Per image, theta (1, h, w) on a coarse grid is the logit of the
**drop** (in-fill) probability, init 0. Each step draws S relaxed-Bernoulli masks at full
resolution (noise per pixel, shared by the channels), keeps ``z = 1 - d``, in-fills with the hard
mask ``round(z)`` outside the graph and scores ``z * x + (1 - z) * fill`` by the target's log-odds.

* SSR: minimise ``-mean_s score + rw * (reg * sum(1 - P) + smooth * L2smooth(P))``
* SDR: minimise ``+mean_s score + rw * (reg * sum(P) + smooth * L2smooth(P))``

with P the bilinearly upsampled drop probability and ``rw = min(step / rw_max, 1)``.

Read-out (register row 24): we upsample the **probabilities**, exactly as in training, so the
map is the optimised quantity itself (the original upsampled logits at read-out, a slightly
sharper map). SSR map = keep probability - 0.5, SDR map = drop probability - 0.5; both in
[-0.5, 0.5], higher = more salient. Counterfactuals use one seeded Bernoulli draw of the
final mask distribution (see :func:`genlens.core.saliency.methods.sampled_region`).
"""

import torch

from genlens.core.params import Param
from genlens.core.saliency.noise import SampleNoise
from genlens.core.saliency.optimise import MASK_PARAMS, MaskObjective, upsample
from genlens.core.saliency.problem import Problem

EPS = torch.finfo(torch.float32).eps

FIDO_PARAMS: dict[str, Param] = {
    **MASK_PARAMS,
    "samples": Param(8, low=1, high=1024, doc="Concrete samples per image and step"),
    "reg": Param(1e-3, low=0.0, doc="L1 weight on the keep (SSR) / drop (SDR) probability sum"),
    "tau": Param(0.1, positive=True, high=100.0, doc="Concrete temperature"),
    "init": Param(0.0, low=-20.0, high=20.0, doc="initial drop logit (0 = p 0.5)"),
}


def relaxed_keep(drop: torch.Tensor, noise: SampleNoise, samples: int, tau: float) -> torch.Tensor:
    """Concrete keep masks ``z = 1 - d`` (B*S, 1, H, W) for drop probabilities (B, 1, H, W).

    ``d = sigmoid((logit(P) + logit(u)) / tau)`` with fresh uniform noise u per pixel and sample
    (shared by the channels); eps = float32 machine epsilon keeps the logs finite.
    """
    drop_logit = (drop + EPS).log() - (1 - drop + EPS).log()
    uniform_logit = torch.logit(noise.rand(1, *drop.shape[-2:]), eps=EPS)
    return 1 - torch.sigmoid((drop_logit.repeat_interleave(samples, dim=0) + uniform_logit) / tau)


def fido(problem: Problem, params: dict, objective: str) -> torch.Tensor:
    """Optimise FIDO masks for a batch; returns maps (B, H, W) in [-0.5, 0.5], higher = salient.

    ``objective`` is ``"ssr"`` or ``"sdr"``. All B images x S samples go through the classifier
    in one forward pass per step, shape (B*S, C, H, W).
    """
    size = problem.size
    task = MaskObjective(problem, params, objective, init=params["init"])
    theta = task.parameter

    def loss(step: int) -> torch.Tensor:
        drop = upsample(theta.sigmoid(), size)
        keep = relaxed_keep(drop, task.noise, task.samples, params["tau"])
        area = (1 - drop if objective == "ssr" else drop).sum(dim=(1, 2, 3))
        return task.loss(step, keep, keep.detach().round(), area, drop)

    task.optimise(loss)
    with torch.no_grad():
        drop = upsample(theta.sigmoid(), size)[:, 0]
    return (0.5 - drop) if objective == "ssr" else (drop - 0.5)
