"""Pieces shared by the mask optimisers (FIDO and BBMP): grid, forward score, Adam loop."""

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F

from genlens.core.params import Param
from genlens.core.progress import ProgressCallback
from genlens.core.saliency.noise import SampleNoise
from genlens.core.saliency.problem import Problem
from genlens.core.saliency.score import log_odds

MASK_PARAMS: dict[str, Param] = {
    "steps": Param(300, low=1, high=100_000, doc="optimisation steps (one Adam step each)"),
    "lr": Param(0.05, positive=True, high=10.0, doc="Adam learning rate, decayed linearly to 0"),
    "rw_max": Param(30.0, low=0.0, doc="steps over which the regulariser ramps up to full weight"),
    "smooth": Param(0.0, low=0.0, doc="weight of the quadratic (L2) smoothness term on the mask"),
    "grid_stride": Param(4, low=1, high=64, doc="input pixels per mask-grid cell (224 -> 56)"),
}


def coarse_grid(size: tuple[int, int], stride: int) -> tuple[int, int]:
    """Parameter grid (ceil(H/stride), ceil(W/stride)), e.g. 56 x 56 for 224 x 224 and stride 4."""
    return math.ceil(size[0] / stride), math.ceil(size[1] / stride)


def upsample(grid: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Bilinear upsampling (align_corners=False) of a (B, 1, h, w) grid to (B, 1, H, W)."""
    return F.interpolate(grid, size=size, mode="bilinear", align_corners=False)


def smoothness(values: torch.Tensor) -> torch.Tensor:
    """Quadratic (L2) smoothness, per image: sum of squared differences between vertically and
    horizontally adjacent values of (B, 1, H, W). Not a total-variation (L1) term. Returns (B,)."""
    vertical = (values[:, :, 1:, :] - values[:, :, :-1, :]).pow(2).sum(dim=(1, 2, 3))
    horizontal = (values[:, :, :, 1:] - values[:, :, :, :-1]).pow(2).sum(dim=(1, 2, 3))
    return vertical + horizontal


def ramp(step: int, rw_max: float) -> float:
    """Regulariser weight min(step / rw_max, 1); 0 at step 0 (1 from the start if rw_max == 0)."""
    return 1.0 if rw_max == 0 else min(step / rw_max, 1.0)


def score_gradient(
    problem: Problem, composite: torch.Tensor, samples: int, sign: float
) -> torch.Tensor:
    """Gradient of ``sign * sum_b score_b`` with respect to ``composite``, where ``score_b`` is
    the log-odds of image b's target averaged over its samples.

    ``composite`` is (B*S, C, H, W), image-major; so is the gradient. The
    classifier runs forward + backward on chunks of its policy's forward batch
    (:meth:`~genlens.core.models.ExecutionPolicy.forward_batch`), so only one chunk's
    activations are alive at a time: each row's gradient depends on that row alone (the
    classifier is in eval mode), so the result does not depend on the chunk size.
    """
    classifier = problem.classifier
    target = problem.target.repeat_interleave(samples)
    leaf = composite.detach().requires_grad_(True)
    chunk = classifier.forward_batch(problem.size)
    for start in range(0, leaf.shape[0], chunk):
        rows = slice(start, start + chunk)
        (log_odds(classifier(leaf[rows]), target[rows]).sum() * (sign / samples)).backward()
    return leaf.grad


def run_adam(
    parameter: torch.Tensor,
    loss: Callable[[int], torch.Tensor],
    steps: int,
    lr: float,
    progress: ProgressCallback,
) -> None:
    """Minimise over ``parameter`` with Adam and a linear decay of the rate: ``loss(step)``
    returns a scalar whose gradient with respect to ``parameter`` is the loss's gradient.

    The rate at step e is ``lr * (1 - e / steps)`` (LambdaLR), as in FIDO's ``fit``. The loss is
    a sum over images, so each image's gradient is independent of the others in the batch.
    """
    optimizer = torch.optim.Adam([parameter], lr=lr)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda epoch: 1 - epoch / steps)
    for step in range(steps):
        optimizer.zero_grad(set_to_none=True)
        loss(step).backward()
        optimizer.step()
        schedule.step()
        progress(step + 1, steps)


class MaskObjective:
    """State and loss shared by FIDO and BBMP for B images x S samples.

    Holds the mask parameter (B, 1, h, w) on the coarse grid (filled with ``init``), the images
    repeated image-major to (B*S, C, H, W), the in-filler bound to them and the per-image noise.
    ``objective`` is ``"ssr"`` (maximise the score) or ``"sdr"`` (minimise it).
    """

    def __init__(self, problem: Problem, params: dict, objective: str, init: float):
        images, self.problem, self.params = problem.images, problem, params
        self.samples = params["samples"]
        self.parameter = torch.full(
            (problem.batch, 1, *coarse_grid(problem.size, params["grid_stride"])),
            float(init),
            device=images.device,
            requires_grad=True,
        )
        self.repeated = images.repeat_interleave(self.samples, dim=0)
        self.fill = problem.infiller.bind(self.repeated)
        self.noise = SampleNoise(problem.batch, self.samples, problem.seed, images.device)
        self.sign = -1.0 if objective == "ssr" else 1.0

    def loss(
        self,
        step: int,
        keep: torch.Tensor,
        observed: torch.Tensor,
        area: torch.Tensor,
        mask: torch.Tensor,
    ) -> torch.Tensor:
        """Summed loss ``sign * score + rw(step) * (reg * area + smooth * L2smooth(mask))``, as
        a surrogate with the same gradient: the classifier's part is back-propagated to the
        composite in chunks (:func:`score_gradient`), then ``composite * gradient`` carries it
        on to the mask.

        ``keep`` (B*S, 1, H, W) weighs the image against the fill, ``observed`` (B*S, 1, H, W)
        is the hard mask the in-filler sees, ``area`` (B,) the L1 term and ``mask``
        (B, 1, H, W) the field the smoothness term acts on.
        """
        with torch.no_grad():
            background = self.fill(observed, self.noise)
        composite = background + keep * (self.repeated - background)
        gradient = score_gradient(self.problem, composite, self.samples, self.sign)
        penalty = self.params["reg"] * area + self.params["smooth"] * smoothness(mask)
        return (composite * gradient).sum() + ramp(step, self.params["rw_max"]) * penalty.sum()

    def optimise(self, loss: Callable[[int], torch.Tensor]) -> None:
        """Run Adam on the mask parameter for ``params["steps"]`` steps."""
        run_adam(
            self.parameter, loss, self.params["steps"], self.params["lr"], self.problem.progress
        )
