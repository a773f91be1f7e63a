"""Dabkowski & Gal's saliency metric (NeurIPS 2017; evaluation.md §6.2 and §10.4).

For each image: B = the box of the thresholded map (mean threshold + largest connected
component, :func:`saliency_box`), a = area(B) / area(image), p = softmax probability of the
target class on the crop resized back to the input size with bicubic interpolation (as in
``zphang/saliency_investigation``). **SM = log(max(a, 0.05)) - log(p)**; lower is better.
"""

import math

import torch
import torch.nn.functional as F

from genlens.core.models import Classifier
from genlens.evaluation.metrics.localization import saliency_box

AREA_FLOOR = 0.05


@torch.no_grad()
def saliency_metric(
    classifier: Classifier, images: torch.Tensor, maps: torch.Tensor, target: torch.Tensor
) -> torch.Tensor:
    """SM per image (B,) for images (B, C, H, W) in [0, 1], maps (B, H, W), target (B,)."""
    height, width = images.shape[2:]
    crops, areas = [], []
    for image, saliency in zip(images, maps, strict=True):
        x0, y0, x1, y1 = saliency_box(saliency)
        crop = image[:, y0 : y1 + 1, x0 : x1 + 1].unsqueeze(0)
        crops.append(F.interpolate(crop, size=(height, width), mode="bicubic", align_corners=False))
        areas.append((x1 - x0 + 1) * (y1 - y0 + 1) / (height * width))
    probabilities = classifier(torch.cat(crops).clamp(0, 1)).softmax(dim=1)
    p = probabilities.gather(1, target.to(probabilities.device).view(-1, 1))[:, 0].cpu()
    area_term = torch.tensor([math.log(max(area, AREA_FLOOR)) for area in areas])
    return area_term - torch.log(p)
