"""Localization metrics against boxes and ground-truth masks.

* **Box from a map** (CASME / Phang et al., ``zphang/saliency_investigation``; evaluation.md
  §6.3): binarise at the map's mean, keep the largest 8-connected component, take its tight box.
* **Localization error** (WSL; Fong & Vedaldi 2017, Dabkowski & Gal 2017, FIDO): an image is
  correct when IoU(box, some GT box) >= 0.5; LE = 1 - accuracy (evaluation.md §10.5).
* **Pointing game** (Zhang et al. 2016, TorchRay variant; evaluation.md §10.3): hit when a GT
  pixel lies within ``tolerance`` (15) px of the map's arg-max; the score is the mean over
  classes of per-class hit rates (``MetricSpec.aggregate`` with ``class_balanced``).
* **Relevance mass accuracy** and **relevance rank accuracy** (Arras, Osman & Samek 2022,
  "CLEVR-XAI"; as in Quantus 0.6): mass = relevance inside the GT mask / total relevance;
  rank = fraction of the K highest-relevance pixels inside the mask, K = mask size.
"""

import numpy as np
import torch
from scipy import ndimage

Box = tuple[int, int, int, int]  # x0, y0, x1, y1 inclusive pixel coordinates


def saliency_box(saliency: torch.Tensor) -> Box:
    """Tight box (x0, y0, x1, y1) of the largest connected component of ``saliency > mean``.

    ``saliency`` is one (H, W) map. A constant map gives the whole image.
    """
    array = saliency.detach().float().cpu().numpy()
    binary = array > array.mean()
    labels, count = ndimage.label(binary, structure=np.ones((3, 3)))
    if count == 0:
        return 0, 0, array.shape[1] - 1, array.shape[0] - 1
    sizes = ndimage.sum_labels(binary, labels, index=range(1, count + 1))
    rows, cols = np.nonzero(labels == int(np.argmax(sizes)) + 1)
    return int(cols.min()), int(rows.min()), int(cols.max()), int(rows.max())


def box_iou(a: Box, b: Box) -> float:
    """Intersection over union of two inclusive pixel boxes."""
    width = min(a[2], b[2]) - max(a[0], b[0]) + 1
    height = min(a[3], b[3]) - max(a[1], b[1]) + 1
    intersection = max(0, width) * max(0, height)

    def area(box: Box) -> int:
        return (box[2] - box[0] + 1) * (box[3] - box[1] + 1)

    return intersection / (area(a) + area(b) - intersection)


def mask_box(mask: torch.Tensor) -> Box:
    """Tight box of a non-empty boolean (H, W) mask."""
    rows, cols = torch.nonzero(mask, as_tuple=True)
    return int(cols.min()), int(rows.min()), int(cols.max()), int(rows.max())


def localization_hits(
    maps: torch.Tensor, masks: torch.Tensor, threshold: float = 0.5
) -> torch.Tensor:
    """1.0 where IoU(saliency box, GT mask box) >= ``threshold``, per image (B,).

    Localization error is ``1 - hits.mean()``.
    """
    return torch.tensor(
        [
            float(box_iou(saliency_box(s), mask_box(m)) >= threshold)
            for s, m in zip(maps, masks, strict=True)
        ]
    )


def pointing_hits(
    maps: torch.Tensor, masks: torch.Tensor, tolerance: float | torch.Tensor = 15.0
) -> torch.Tensor:
    """1.0 where some GT pixel lies within ``tolerance`` px (Euclidean) of the map's arg-max (B,).

    ``tolerance``: one value or one per image (B,). Ties for the maximum take the first in
    raster order, as ``argmax`` does.
    """
    height, width = maps.shape[1:]
    peak = maps.flatten(1).argmax(dim=1)
    peak_y, peak_x = (peak // width).float(), (peak % width).float()
    ys = torch.arange(height, dtype=torch.float32).view(1, -1, 1)
    xs = torch.arange(width, dtype=torch.float32).view(1, 1, -1)
    distance2 = (ys - peak_y.cpu().view(-1, 1, 1)) ** 2 + (xs - peak_x.cpu().view(-1, 1, 1)) ** 2
    near = distance2 <= torch.as_tensor(tolerance, dtype=torch.float32).cpu().view(-1, 1, 1) ** 2
    return (near & masks.cpu().bool()).flatten(1).any(dim=1).float()


def relevance_mass(maps: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
    """Relevance inside the mask over total relevance, per image (B,) (Arras et al. 2022).

    Maps are used as given (Quantus' ``abs=False``); pass non-negative maps (e.g. ``maps.abs()``
    or the map shifted to its minimum) for the usual reading as a fraction in [0, 1].
    """
    flat, inside = maps.flatten(1).float(), masks.flatten(1).float()
    return (flat * inside).sum(dim=1) / flat.sum(dim=1)


def relevance_rank(maps: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
    """Fraction of the K most relevant pixels that lie in the mask, K = mask size (B,)."""
    flat, inside = maps.flatten(1).float(), masks.flatten(1).bool()
    result = torch.empty(flat.shape[0])
    for index, (row, mask_row) in enumerate(zip(flat, inside, strict=True)):
        k = int(mask_row.sum())
        top = torch.sort(row, descending=True, stable=True).indices[:k]
        result[index] = mask_row[top].float().mean()
    return result
