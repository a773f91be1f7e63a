"""Reference maps every leaderboard shows, so a method's score means something.

* ``random``: i.i.d. uniform noise per pixel (seeded per image) — the floor.
* ``centre``: an isotropic Gaussian at the image centre, sigma = a quarter of the shorter side —
  the photographer's-bias baseline.
* ``sobel``: gradient magnitude of the grey image (Sobel 3x3) — an edge detector, which
  Adebayo et al. show many attribution maps resemble.

They ignore the classifier (by design) and are registered as saliency methods
(:mod:`genlens.catalog`), so the CLI, the worker and the benchmark runner use them like any other
method.
"""

import torch
import torch.nn.functional as F

from genlens.core.saliency.methods import Method
from genlens.core.saliency.problem import Problem


def random_map(problem: Problem, params: dict) -> torch.Tensor:
    """Uniform noise (B, H, W); image b uses a generator seeded ``seed + b``."""
    height, width = problem.size
    maps = [
        torch.rand(height, width, generator=torch.Generator().manual_seed(problem.seed + index))
        for index in range(problem.batch)
    ]
    problem.progress(1, 1)
    return torch.stack(maps)


def centre_map(problem: Problem, params: dict) -> torch.Tensor:
    """exp(-d^2 / (2 sigma^2)) around the centre, sigma = min(H, W) / 4, for every image."""
    height, width = problem.size
    ys = torch.arange(height, dtype=torch.float32) - (height - 1) / 2
    xs = torch.arange(width, dtype=torch.float32) - (width - 1) / 2
    sigma = min(height, width) / 4
    gaussian = torch.exp(-(ys[:, None] ** 2 + xs[None, :] ** 2) / (2 * sigma**2))
    problem.progress(1, 1)
    return gaussian.expand(problem.batch, -1, -1).clone()


def sobel_map(problem: Problem, params: dict) -> torch.Tensor:
    """Sobel gradient magnitude of the channel-mean image (B, H, W), replicate padding."""
    grey = problem.images.mean(dim=1, keepdim=True).cpu()
    kernel_x = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])
    kernels = torch.stack([kernel_x, kernel_x.T]).unsqueeze(1)
    gradients = F.conv2d(F.pad(grey, (1, 1, 1, 1), mode="replicate"), kernels)
    problem.progress(1, 1)
    return gradients.pow(2).sum(dim=1).sqrt()


RANDOM = Method("random", random_map, {})
CENTRE = Method("centre", centre_map, {})
SOBEL = Method("sobel", sobel_map, {})
