"""Random transforms that make visualizations robust (Lucid's pad, jitter, scale and rotate).

All four are folded into **one affine resampling per image** (one ``grid_sample`` call for the
whole batch) that also resizes to the classifier's input size. Each batch element draws its
random numbers from its own ``torch.Generator``, so a batched run reproduces single runs.
"""

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F

from genlens.core.errors import ParameterError


@dataclass(frozen=True)
class RobustTransforms:
    """Pad, jitter, random scale and random rotation, applied per image.

    Attributes:
        pad: pixels of constant ``pad_value`` added on every side before the other steps; as the
            canvas ends in that colour, any ``pad > 0`` shows ``pad_value`` wherever a transform
            uncovers what lies outside the image (resampled without building the padded
            canvas), and ``pad = 0`` repeats the image's border instead.
        jitter: maximum translation in pixels (uniform in [-jitter, jitter], both axes).
        scales: zoom factors drawn uniformly from this list (1.0 = none).
        degrees: maximum rotation in degrees (uniform in [-degrees, degrees]).
        pad_value: grey level of the padding, in [0, 1].
    """

    pad: int = 12
    jitter: int = 8
    scales: tuple[float, ...] = tuple(round(0.9 + 0.02 * i, 2) for i in range(11))
    degrees: float = 10.0
    pad_value: float = 0.5

    def __post_init__(self) -> None:
        if self.pad < 0 or self.jitter < 0 or self.degrees < 0:
            raise ParameterError("pad, jitter and degrees must be >= 0")
        if not self.scales or min(self.scales) <= 0:
            raise ParameterError("scales must be a non-empty list of positive factors")

    def to_dict(self) -> dict:
        """JSON-serializable settings."""
        return asdict(self)

    def draw(self, generators: Sequence[torch.Generator]) -> torch.Tensor:
        """Per-image random parameters (B, 4): translation x, y (pixels), scale, angle (rad)."""
        rows = []
        for generator in generators:
            u = torch.rand(4, generator=generator, dtype=torch.float64)
            scale = self.scales[min(int(u[2] * len(self.scales)), len(self.scales) - 1)]
            rows.append(
                [
                    (2 * float(u[0]) - 1) * self.jitter,
                    (2 * float(u[1]) - 1) * self.jitter,
                    scale,
                    math.radians((2 * float(u[3]) - 1) * self.degrees),
                ]
            )
        return torch.tensor(rows, dtype=torch.float32)

    def __call__(
        self, images: torch.Tensor, generators: Sequence[torch.Generator], out_size: tuple[int, int]
    ) -> torch.Tensor:
        """Transform images (B, C, H, W) and resample them to (B, C, *out_size)."""
        if len(generators) != images.shape[0]:
            raise ParameterError(f"{len(generators)} generators for a batch of {images.shape[0]}")
        params = self.draw(generators).to(images.device)
        if not self.pad:
            return affine_resample(images, params, out_size, "border")
        shifted = affine_resample(images - self.pad_value, params, out_size, "zeros")
        return shifted + self.pad_value


def affine_resample(
    images: torch.Tensor, params: torch.Tensor, out_size: Sequence[int], padding_mode: str
) -> torch.Tensor:
    """Resample ``images`` (B, C, H, W) to ``out_size`` under per-image affine maps about the
    centre (the identity map fills the output with the whole image). ``params`` (B, 4) holds
    translation x, y in pixels, scale (> 1 zooms in) and angle (rad). Outside the image
    ``padding_mode`` applies: ``"zeros"`` or ``"border"``.
    """
    batch, channels, height, width = images.shape
    tx, ty, scale, angle = params.unbind(1)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    # pixel-space rotation and scale, in the image's normalized coordinates (axes rescaled)
    half = torch.tensor([width / 2, height / 2], device=images.device)
    rotation = torch.stack([torch.stack([cos, -sin], 1), torch.stack([sin, cos], 1)], 1)
    linear = rotation * half[None, None, :] / half[None, :, None]
    shift = torch.stack([tx, ty], 1) / half[None, :]
    theta = torch.cat([linear, shift[:, :, None]], 2)
    grid = F.affine_grid(theta, [batch, channels, *out_size], align_corners=False)
    return F.grid_sample(
        images, grid, mode="bilinear", padding_mode=padding_mode, align_corners=False
    )


def resize(images: torch.Tensor, out_size: Sequence[int]) -> torch.Tensor:
    """Bilinear resize (B, C, H, W) -> (B, C, *out_size); no-op when the size already matches."""
    if tuple(images.shape[2:]) == tuple(out_size):
        return images
    return F.interpolate(images, size=tuple(out_size), mode="bilinear", align_corners=False)
