"""Image parameterizations: learnable tensors that decode to images (B, C, H, W) in [0, 1].

* **pixel**: one free value per pixel and channel.
* **fourier**: a 2-D real spectrum per channel scaled by 1/frequency^decay (Lucid's Fourier
  basis), which whitens the gradient so low frequencies are not drowned out by high ones.

For 3-channel images the channels are decorrelated with the ImageNet colour-correlation square
root (the matrix Lucid published): the parameters live in a decorrelated colour space and are
mapped to RGB before the sigmoid squashes them into [0, 1]. 1-channel images skip that step.

Every batch element is initialized from its own seed, so element ``i`` of a batched run starts
exactly where a single run with ``seeds[i]`` starts.
"""

from collections.abc import Sequence

import torch
from torch import nn

from genlens.core.errors import ParameterError

# Square root of the ImageNet RGB colour correlation (Olah et al., Lucid), rows = RGB outputs.
_COLOR_CORRELATION_SQRT = torch.tensor(
    [[0.26, 0.09, 0.02], [0.27, 0.00, -0.05], [0.27, -0.09, 0.03]]
)
_COLOR_MATRIX = _COLOR_CORRELATION_SQRT / _COLOR_CORRELATION_SQRT.norm(dim=0).max()

METHODS = ("pixel", "fourier")


def seeded_normal(shape: Sequence[int], seeds: Sequence[int], std: float) -> torch.Tensor:
    """Normal noise (len(seeds), *shape) where element ``i`` depends only on ``seeds[i]``."""
    draws = [
        torch.randn(tuple(shape), generator=torch.Generator().manual_seed(int(seed))) * std
        for seed in seeds
    ]
    return torch.stack(draws)


class ImageParameterization(nn.Module):
    """Base class: ``forward()`` returns images (B, C, H, W) in [0, 1]."""

    def __init__(self, channels: int, decorrelate: bool):
        super().__init__()
        if channels not in (1, 3):
            raise ParameterError(f"images must have 1 or 3 channels, got {channels}")
        self.channels = channels
        self.decorrelate = decorrelate and channels == 3
        self.register_buffer("color", _COLOR_MATRIX.clone())

    def raw(self) -> torch.Tensor:
        """Unbounded images (B, C, H, W) in the decorrelated colour space."""
        raise NotImplementedError

    def forward(self) -> torch.Tensor:
        image = self.raw()
        if self.decorrelate:
            image = torch.einsum("oc,bchw->bohw", self.color, image)
        return torch.sigmoid(image)


class PixelImage(ImageParameterization):
    """One learnable logit per pixel and channel; ``std`` is the initial noise level."""

    def __init__(
        self,
        size: tuple[int, int],
        channels: int,
        seeds: Sequence[int],
        std: float = 0.01,
        decorrelate: bool = True,
    ):
        super().__init__(channels, decorrelate)
        self.pixels = nn.Parameter(seeded_normal((channels, *size), seeds, std))

    def raw(self) -> torch.Tensor:
        return self.pixels


def fourier_scale(size: tuple[int, int], decay_power: float) -> torch.Tensor:
    """1 / max(|f|, 1/max(H, W))^decay_power for the rfft2 grid, shape (H, W // 2 + 1)."""
    height, width = size
    fy = torch.fft.fftfreq(height)[:, None]
    fx = torch.fft.rfftfreq(width)[None, :]
    frequency = (fx.square() + fy.square()).sqrt()
    return frequency.clamp_min(1.0 / max(height, width)).pow(-decay_power)


class FourierImage(ImageParameterization):
    """A learnable spectrum (B, C, H, W//2+1, 2) decoded with an orthonormal inverse rfft2.

    The spectrum is scaled by :func:`fourier_scale` and the decoded image divided by 4, as in
    Lucid, so Adam at lr 0.05 changes all frequencies at a similar perceptual rate.
    """

    def __init__(
        self,
        size: tuple[int, int],
        channels: int,
        seeds: Sequence[int],
        std: float = 0.01,
        decay_power: float = 1.0,
        decorrelate: bool = True,
    ):
        super().__init__(channels, decorrelate)
        self.size = size
        spectrum_shape = (channels, size[0], size[1] // 2 + 1, 2)
        self.spectrum = nn.Parameter(seeded_normal(spectrum_shape, seeds, std))
        self.register_buffer("scale", fourier_scale(size, decay_power))

    def raw(self) -> torch.Tensor:
        spectrum = torch.view_as_complex(self.spectrum) * self.scale
        return torch.fft.irfft2(spectrum, s=self.size, norm="ortho") / 4.0


def make_image(
    method: str, size: tuple[int, int], channels: int, seeds: Sequence[int], **options: float
) -> ImageParameterization:
    """``"pixel"`` or ``"fourier"`` parameterization of len(seeds) images of ``size`` (H, W)."""
    if method not in METHODS:
        raise ParameterError(
            f"unknown parameterization {method!r}; choose from {', '.join(METHODS)}"
        )
    if len(size) != 2 or min(size) < 8:
        raise ParameterError(f"image size must be (H, W) with both >= 8, got {tuple(size)}")
    if not seeds:
        raise ParameterError("at least one seed (one image) is needed")
    cls = PixelImage if method == "pixel" else FourierImage
    return cls(tuple(size), channels, list(seeds), **options)
