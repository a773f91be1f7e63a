"""RISE (Petsiuk et al., BMVC 2018), batched over masks and images.

N random binary grids (s x s cells, each kept with probability p) are upsampled bilinearly to
(s+1) cells and randomly shifted by up to one cell, then cropped to H x W. The map is
``sum_i p_target(x * M_i) * M_i / (N * p)``: the expected target probability when a pixel is
kept. Masks are shared by the images of a batch and drawn from a generator seeded ``seed``.
"""

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from genlens.core.params import BATCH_DOC, Param
from genlens.core.saliency.problem import Problem
from genlens.core.saliency.score import target_probability

RISE_PARAMS = {
    "samples": Param(4000, low=1, high=1_000_000, doc="number of random masks N"),
    "cells": Param(7, low=1, high=256, doc="grid cells per side s"),
    "keep": Param(0.5, positive=True, high=1.0, doc="probability p that a cell is kept"),
    "batch": Param(0, low=0, high=4096, doc=BATCH_DOC.format("masked images")),
}


@dataclass(frozen=True)
class RiseDraws:
    """The random part of N RISE masks: kept cells (N, 1, s, s) as 0/1 floats and the shifts
    (N,) in pixels, each below one cell of ``cell`` (h, w) pixels."""

    grid: torch.Tensor
    dy: torch.Tensor
    dx: torch.Tensor
    cell: tuple[int, int]

    @classmethod
    def draw(
        cls,
        count: int,
        size: tuple[int, int],
        cells: int,
        keep: float,
        generator: torch.Generator,
    ) -> "RiseDraws":
        """All ``count`` masks' draws at once, so a chunk size never changes the masks."""
        device = generator.device
        cell = math.ceil(size[0] / cells), math.ceil(size[1] / cells)
        uniform = torch.rand(count, 1, cells, cells, generator=generator, device=device)
        grid = (uniform < keep).float()
        dy = torch.randint(0, cell[0], (count,), generator=generator, device=device)
        dx = torch.randint(0, cell[1], (count,), generator=generator, device=device)
        return cls(grid, dy, dx, cell)

    def masks(self, rows: slice, size: tuple[int, int]) -> torch.Tensor:
        """Smooth masks (n, H, W) in [0, 1] of the draws ``rows``."""
        grid, dy, dx = self.grid[rows], self.dy[rows], self.dx[rows]
        cells, device = grid.shape[-1], grid.device
        big = F.interpolate(
            grid,
            size=((cells + 1) * self.cell[0], (cells + 1) * self.cell[1]),
            mode="bilinear",
            align_corners=False,
        )[:, 0]
        row_index = (dy[:, None] + torch.arange(size[0], device=device))[:, :, None]
        col_index = (dx[:, None] + torch.arange(size[1], device=device))[:, None, :]
        return big[torch.arange(len(grid), device=device)[:, None, None], row_index, col_index]


@torch.no_grad()
def rise(problem: Problem, params: dict) -> torch.Tensor:
    """RISE maps (B, H, W), the expected target probability given each pixel is kept."""
    images, batch = problem.images, problem.batch
    total = params["samples"]
    per_chunk = max(1, problem.forward_batch(params["batch"]) // batch)
    generator = torch.Generator(device=images.device).manual_seed(problem.seed)
    draws = RiseDraws.draw(total, problem.size, params["cells"], params["keep"], generator)
    maps = torch.zeros(batch, *problem.size, device=images.device)
    for start in range(0, total, per_chunk):
        count = min(per_chunk, total - start)
        masks = draws.masks(slice(start, start + count), problem.size)
        masked = (images[:, None] * masks[None, :, None]).flatten(0, 1)
        logits = problem.classifier(masked)
        probs = target_probability(logits, problem.target.repeat_interleave(count))
        probs = probs.view(batch, count)
        maps += torch.einsum("bn,nhw->bhw", probs, masks)
        problem.progress(start + count, total)
    return maps / (total * params["keep"])
