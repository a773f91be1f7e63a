"""RISE (Petsiuk et al., BMVC 2018), batched over masks and images.

N random binary grids (s x s cells, each kept with probability p) are upsampled bilinearly to
(s+1) cells and randomly shifted by up to one cell, then cropped to H x W. The map is
``sum_i p_target(x * M_i) * M_i / (N * p)``: the expected target probability when a pixel is
kept. Masks are shared by the images of a batch and drawn from a generator seeded ``seed``.
"""

import math

import torch
import torch.nn.functional as F

from genlens.core.params import Param
from genlens.core.saliency.problem import Problem
from genlens.core.saliency.score import target_probability

RISE_PARAMS = {
    "samples": Param(4000, low=1, high=1_000_000, doc="number of random masks N"),
    "cells": Param(7, low=1, high=256, doc="grid cells per side s"),
    "keep": Param(0.5, positive=True, high=1.0, doc="probability p that a cell is kept"),
    "batch": Param(64, low=1, high=4096, doc="masked images per forward pass"),
}


def rise_masks(
    count: int, size: tuple[int, int], cells: int, keep: float, generator: torch.Generator
) -> torch.Tensor:
    """``count`` smooth RISE masks (count, H, W) in [0, 1] on the generator's device."""
    device = generator.device
    height, width = size
    cell_h, cell_w = math.ceil(height / cells), math.ceil(width / cells)
    grid = (torch.rand(count, 1, cells, cells, generator=generator, device=device) < keep).float()
    big = F.interpolate(
        grid,
        size=((cells + 1) * cell_h, (cells + 1) * cell_w),
        mode="bilinear",
        align_corners=False,
    )[:, 0]
    dy = torch.randint(0, cell_h, (count,), generator=generator, device=device)
    dx = torch.randint(0, cell_w, (count,), generator=generator, device=device)
    rows = (dy[:, None] + torch.arange(height, device=device))[:, :, None]
    cols = (dx[:, None] + torch.arange(width, device=device))[:, None, :]
    return big[torch.arange(count, device=device)[:, None, None], rows, cols]


@torch.no_grad()
def rise(problem: Problem, params: dict) -> torch.Tensor:
    """RISE maps (B, H, W), the expected target probability given each pixel is kept."""
    images, batch = problem.images, problem.batch
    total = params["samples"]
    per_chunk = max(1, params["batch"] // batch)
    generator = torch.Generator(device=images.device).manual_seed(problem.seed)
    maps = torch.zeros(batch, *problem.size, device=images.device)
    for start in range(0, total, per_chunk):
        count = min(per_chunk, total - start)
        masks = rise_masks(count, problem.size, params["cells"], params["keep"], generator)
        masked = (images[:, None] * masks[None, :, None]).flatten(0, 1)
        logits = problem.classifier(masked)
        probs = target_probability(logits, problem.target.repeat_interleave(count))
        probs = probs.view(batch, count)
        maps += torch.einsum("bn,nhw->bhw", probs, masks)
        problem.progress(start + count, total)
    return maps / (total * params["keep"])
