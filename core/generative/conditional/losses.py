"""Losses of the feature-conditioned StarGAN (algorithms.md §1.6), with the CCC estimator fixed.

CCC (concordance correlation coefficient) per feature dimension d over the batch:
``ccc_d = 2 cov_d / (var_x,d + var_y,d + (mean_x,d - mean_y,d)^2)``. genlens uses the
**population (1/N) estimator for the variances and the covariance alike**, so identical inputs
give ccc_d = 1 exactly (the original mixed N-1 variances with an N covariance, so even a perfect
prediction scored (N-1)/N). :func:`ccc_loss` is the **mean** over dimensions of ``1 - ccc_d``
(range [0, 2]); the original summed over its 64 dims (range [0, 128]).
"""

from collections.abc import Callable
from enum import StrEnum

import torch
import torch.nn.functional as F

EPS = 1e-8


class Distance(StrEnum):
    """Distance between predicted and target feature vectors."""

    mse = "mse"
    ccc = "ccc"


def ccc_per_dim(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """CCC of each column of (N, D) tensors -> (D,); population estimators throughout."""
    mean_p, mean_t = prediction.mean(0), target.mean(0)
    centred_p, centred_t = prediction - mean_p, target - mean_t
    var_p, var_t = centred_p.pow(2).mean(0), centred_t.pow(2).mean(0)
    covariance = (centred_p * centred_t).mean(0)
    return 2.0 * covariance / (var_p + var_t + (mean_p - mean_t).pow(2) + EPS)


def ccc_loss(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean over dimensions of ``1 - ccc_d`` for (N, D) tensors; 0 when they are identical."""
    return (1.0 - ccc_per_dim(prediction, target)).mean()


DISTANCES: dict[Distance, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    Distance.mse: F.mse_loss,
    Distance.ccc: ccc_loss,
}


def feature_distance(kind: str) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """The loss ``distance(prediction, target)`` called ``kind`` (``mse`` or ``ccc``)."""
    return DISTANCES[Distance(kind)]


def gradient_penalty(
    critic: Callable[[torch.Tensor], torch.Tensor],
    real: torch.Tensor,
    fake: torch.Tensor,
    generator: torch.Generator,
) -> torch.Tensor:
    """WGAN-GP: mean over samples of (||grad_x D(x_hat)||_2 - 1)^2 on random interpolates.

    One ``alpha ~ U(0, 1)`` per sample; the norm runs over all channels and pixels.
    """
    alpha = torch.rand(len(real), 1, 1, 1, generator=generator, device=real.device)
    mixed = (alpha * real + (1.0 - alpha) * fake.detach()).requires_grad_(True)
    scores = critic(mixed)
    (gradient,) = torch.autograd.grad(scores.sum(), mixed, create_graph=True)
    return (gradient.flatten(1).norm(dim=1) - 1.0).pow(2).mean()


def total_variation(images: torch.Tensor) -> torch.Tensor:
    """Anisotropic TV of (B, C, H, W): mean |horizontal| + mean |vertical| neighbour difference."""
    horizontal = (images[..., :, 1:] - images[..., :, :-1]).abs().mean()
    vertical = (images[..., 1:, :] - images[..., :-1, :]).abs().mean()
    return horizontal + vertical
