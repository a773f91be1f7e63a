"""Pictures of saliency results: heat-map overlays and image | map | counterfactual figures.

Uses matplotlib's Agg canvas directly (no pyplot, no display needed). Maps are min-max
normalised per image for display; the raw values stay in :class:`SaliencyResult`.
"""

import io

import matplotlib
import numpy as np
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from genlens.core.saliency.result import SaliencyResult

COLORMAP = "jet"


def _rgb(image: torch.Tensor) -> np.ndarray:
    """(C, H, W) [0, 1] tensor -> (H, W, 3) float array (grayscale repeated)."""
    array = image.detach().float().clamp(0, 1).cpu().numpy().transpose(1, 2, 0)
    return np.repeat(array, 3, axis=2) if array.shape[2] == 1 else array


def normalise(saliency: torch.Tensor) -> np.ndarray:
    """(H, W) map -> (H, W) float array in [0, 1] by min-max (a constant map gives zeros)."""
    array = saliency.detach().float().cpu().numpy()
    span = float(array.max() - array.min())
    return (array - array.min()) / span if span > 0 else np.zeros_like(array)


def overlay(image: torch.Tensor, saliency: torch.Tensor, alpha: float = 0.7) -> Image.Image:
    """Blend a colour-mapped (H, W) map over a (C, H, W) [0, 1] image; returns an RGB image.

    The blend weight is ``alpha * s`` with s the normalised map, so unsalient pixels show the
    photo unchanged and salient ones the colour map.
    """
    level = normalise(saliency)
    heat = matplotlib.colormaps[COLORMAP](level)[..., :3]
    weight = alpha * level[..., None]
    blended = (1 - weight) * _rgb(image) + weight * heat
    return Image.fromarray((blended.clip(0, 1) * 255).round().astype(np.uint8))


def figure(result: SaliencyResult, images: torch.Tensor, index: int) -> Image.Image:
    """Side-by-side figure for image ``index``: image | map | counterfactual, with the target
    probability on the original, with the evidence kept and with it removed."""
    label = result.target_labels[index]
    kept, removed = float(result.prob_kept[index]), float(result.prob_removed[index])
    fig = Figure(figsize=(10.5, 3.9), dpi=100)
    FigureCanvasAgg(fig)
    panels = fig.subplots(1, 3)
    panels[0].imshow(_rgb(images[index]))
    panels[0].set_title(f"{label}\np = {float(result.prob_original[index]):.3f}", fontsize=10)
    shown = panels[1].imshow(result.maps[index].numpy(), cmap=COLORMAP)
    fig.colorbar(shown, ax=panels[1], fraction=0.046, pad=0.04)
    panels[1].set_title(f"{result.method} ({result.params.get('infill')})", fontsize=10)
    panels[2].imshow(_rgb(result.counterfactuals[index]))
    panels[2].set_title(
        f"counterfactual (evidence {result.view})\nkept p = {kept:.3f}, removed p = {removed:.3f}",
        fontsize=10,
    )
    for panel in panels:
        panel.set_axis_off()
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
