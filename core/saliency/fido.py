"""FIDO (Chang et al., ICLR 2019): a Bernoulli dropout field optimised through Concrete samples.

Spec: algorithms.md §3.2-3.7. Per image, theta (1, h, w) on a coarse grid is the logit of the
**drop** (in-fill) probability, init 0. Each step draws S relaxed-Bernoulli masks (noise shared
by the channels), keeps ``z = 1 - d``, in-fills with the hard mask ``round(z)`` outside the
graph and scores ``z * x + (1 - z) * fill`` by the target's log-odds.

* SSR: minimise ``-mean_s score + rw * (reg * c * sum(1 - P) + smooth * L2smooth(P))``
* SDR: minimise ``+mean_s score + rw * (reg * c * sum(P) + smooth * L2smooth(P))``

with P the bilinearly upsampled drop probability and ``rw = min(step / rw_max, 1)``.

Two defaults depart from the original code, each a parameter (docs/fido-evidence.md has the
measurements on the BlockFashion validation split that chose them):

* ``noise="grid"``: one Concrete draw per grid cell, the relaxed mask then upsampled, so the
  hard masks the in-filler sees are blobs of cells (the original, ``"pixel"``, draws per input
  pixel: speckled masks whose in-fill the classifier reads as texture);
* ``reg_norm="area"``: ``c = 224 * 224 / (H * W)``, so ``reg`` weighs a share of the image the
  same at every input size (the original, ``"pixels"``, ``c = 1``, makes 1e-3 12x weaker at
  64 x 64 than at 224 x 224). At 224 x 224 both are the same.

Read-out (register row 24): we upsample the **probabilities**, exactly as in training, so the
map is the optimised quantity itself (the original upsampled logits at read-out, a slightly
sharper map). SSR map = keep probability - 0.5, SDR map = drop probability - 0.5; both in
[-0.5, 0.5], higher = more salient. Counterfactuals use one seeded Bernoulli draw of the
final mask distribution (see :func:`genlens.core.saliency.methods.sampled_region`).
"""

import torch

from genlens.core.params import Param, with_defaults
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
    "noise": Param(
        "grid",
        choices=("grid", "pixel"),
        doc="Concrete noise per mask-grid cell, upsampled (default) or per input pixel (paper)",
    ),
    "reg_norm": Param(
        "area",
        choices=("area", "pixels"),
        doc="L1 sum scaled to a 224 x 224 image's (default) or over the input pixels (paper)",
    ),
}

FIDO_FAST_PARAMS: dict[str, Param] = with_defaults(FIDO_PARAMS, steps=80, samples=4, grid_stride=8)
"""The ``fido-ssr-fast`` preset (the demo's default): 80 steps of 4 samples on a stride-8 grid
(28 x 28 at 224 x 224), about 14 s per photo on 2 CPU cores instead of 72 s. Chosen on the
validation photos (``imagenet-photos-val``) by ``bench/fido_preset.py`` as the candidate within
20 s per image with the highest insertion - deletion (``bench/results/fido-preset.json``)."""

REFERENCE_PIXELS = 224 * 224
"""``reg_norm="area"`` scales the L1 sum by REFERENCE_PIXELS / (H * W): ``reg`` then weighs a
share of the image the same at every input size as the paper's 1e-3 does at 224 x 224."""


def relaxed_keep(drop: torch.Tensor, noise: SampleNoise, samples: int, tau: float) -> torch.Tensor:
    """Concrete keep masks ``z = 1 - d`` (B*S, 1, h, w) for drop probabilities (B, 1, h, w).

    ``d = sigmoid((logit(P) + logit(u)) / tau)`` with fresh uniform noise u per element and
    sample (shared by the channels); eps = float32 machine epsilon keeps the logs finite.
    """
    drop_logit = (drop + EPS).log() - (1 - drop + EPS).log()
    uniform_logit = torch.logit(noise.rand(1, *drop.shape[-2:]), eps=EPS)
    return 1 - torch.sigmoid((drop_logit.repeat_interleave(samples, dim=0) + uniform_logit) / tau)


def keep_masks(grid: torch.Tensor, task: MaskObjective, params: dict) -> torch.Tensor:
    """Relaxed keep masks (B*S, 1, H, W) for grid drop probabilities (B, 1, h, w).

    ``noise="pixel"``: the probabilities are upsampled and the noise drawn per input pixel
    (the paper; hard masks are speckled). ``noise="grid"``: one noise value per grid cell,
    the relaxed mask upsampled (hard masks are blobs of cells, like the in-filler's grid masks).
    """
    size = task.problem.size
    if params["noise"] == "grid":
        return upsample(relaxed_keep(grid, task.noise, task.samples, params["tau"]), size)
    return relaxed_keep(upsample(grid, size), task.noise, task.samples, params["tau"])


def fido(problem: Problem, params: dict, objective: str) -> torch.Tensor:
    """Optimise FIDO masks for a batch; returns maps (B, H, W) in [-0.5, 0.5], higher = salient.

    ``objective`` is ``"ssr"`` or ``"sdr"``. All B images x S samples go through the classifier
    in one forward pass per step, shape (B*S, C, H, W).
    """
    size = problem.size
    task = MaskObjective(problem, params, objective, init=params["init"])
    theta = task.parameter
    scale = REFERENCE_PIXELS / (size[0] * size[1]) if params["reg_norm"] == "area" else 1.0

    def loss(step: int) -> torch.Tensor:
        grid = theta.sigmoid()
        drop = upsample(grid, size)
        keep = keep_masks(grid, task, params)
        area = (1 - drop if objective == "ssr" else drop).sum(dim=(1, 2, 3)) * scale
        return task.loss(step, keep, keep.detach().round(), area, drop)

    task.optimise(loss)
    with torch.no_grad():
        drop = upsample(theta.sigmoid(), size)[:, 0]
    return (0.5 - drop) if objective == "ssr" else (drop - 0.5)
