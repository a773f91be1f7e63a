"""The mask distribution the learned in-filler is trained on: what FIDO hands an in-filler.

Masks are (N, 1, H, W) float with **1 = observed, 0 = to fill**. Each sample gets one of:

* ``grid``: Bernoulli keep/drop drawn on the FIDO parameter grid (H/4 x W/4) with a per-sample
  drop rate in [0.1, 0.9], nearest-upsampled to H x W (blocky holes);
* ``concrete``: FIDO's hard mask ``round(z)``: a smooth keep probability (random logits on the
  H/4 grid, bilinearly upsampled) thresholded against per-pixel uniform noise;
* ``rectangle``: one hole with sides in [3H/8, H/2] (the FIDO in-filler training "half" masks).
"""

import torch
import torch.nn.functional as F

MASK_KINDS = ("grid", "concrete", "rectangle")


def fido_masks(
    count: int, size: int, generator: torch.Generator, kinds: tuple[str, ...] = MASK_KINDS
) -> torch.Tensor:
    """``count`` masks (count, 1, size, size) of the given kinds, drawn from ``generator``.

    The kind of each sample is uniform over ``kinds``; everything is drawn on the generator's
    device, so the same generator state gives the same masks.
    """
    device = generator.device
    grid = max(size // 4, 1)

    def uniform(*shape: int) -> torch.Tensor:
        return torch.rand(shape, generator=generator, device=device)

    drop_rate = 0.1 + 0.8 * uniform(count, 1, 1, 1)
    blocks = (uniform(count, 1, grid, grid) >= drop_rate).float()
    candidates = {"grid": F.interpolate(blocks, size=(size, size), mode="nearest")}
    logits = 3.0 * torch.randn((count, 1, grid, grid), generator=generator, device=device)
    keep = F.interpolate(torch.sigmoid(logits), size=(size, size), mode="bilinear")
    candidates["concrete"] = (uniform(count, 1, size, size) < keep).float()
    low, high = 3 * size // 8, size // 2
    sides = low + (uniform(count, 2) * (high - low + 1)).long().clamp_max(high - low)
    corners = (uniform(count, 2) * (size - sides + 1)).long()
    coords = torch.arange(size, device=device)
    rows = (coords >= corners[:, :1]) & (coords < corners[:, :1] + sides[:, :1])
    cols = (coords >= corners[:, 1:]) & (coords < corners[:, 1:] + sides[:, 1:])
    hole = rows[:, :, None] & cols[:, None, :]
    candidates["rectangle"] = (~hole).float().unsqueeze(1)
    choice = (uniform(count) * len(kinds)).long().clamp_max(len(kinds) - 1)
    stacked = torch.stack([candidates[kind] for kind in kinds])
    return stacked[choice, torch.arange(count, device=device)]
