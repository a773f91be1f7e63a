"""A toy saliency method added as docs/extending.md describes: ``toy`` rates a pixel by its
brightness (channel mean). It ignores the classifier, so its maps are known exactly."""

import torch

from genlens.core.saliency import Method, register_method
from genlens.core.saliency.problem import Problem


def brightness(problem: Problem, params: dict) -> torch.Tensor:
    """Channel mean of each image: (B, H, W) in [0, 1], higher = brighter = more salient."""
    maps = problem.images.mean(dim=1)
    problem.progress(1, 1)
    return maps


register_method(Method("toy", brightness, {}))
