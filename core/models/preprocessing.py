"""How a classifier wants its input: size, resize/crop policy and normalization.

genlens keeps images in **[0, 1] float, NCHW** everywhere; normalization happens inside
:class:`genlens.core.models.Classifier`, so saliency and feature-visualization code never sees
model-specific statistics.
"""

import math
from dataclasses import dataclass

import torch
from PIL import Image

from genlens.core.data.images import pil_to_tensor

_PIL_RESAMPLE = {
    "bicubic": Image.Resampling.BICUBIC,
    "bilinear": Image.Resampling.BILINEAR,
    "nearest": Image.Resampling.NEAREST,
}


@dataclass(frozen=True)
class Preprocessing:
    """Input contract of a classifier.

    Attributes:
        input_size: (H, W) in pixels the network is fed.
        mean, std: per-channel normalization applied to [0, 1] input, length = ``channels``.
        crop_pct: resize the shorter side to ``size / crop_pct`` then centre-crop to ``size``
            (timm convention); 1.0 resizes straight to ``input_size`` without cropping.
        interpolation: ``"bicubic"``, ``"bilinear"`` or ``"nearest"``.
    """

    input_size: tuple[int, int]
    mean: tuple[float, ...]
    std: tuple[float, ...]
    crop_pct: float = 0.875
    interpolation: str = "bicubic"

    @property
    def channels(self) -> int:
        """Number of input channels (1 for grayscale models, 3 for RGB)."""
        return len(self.mean)

    @property
    def pil_mode(self) -> str:
        """PIL mode images are converted to before the network sees them."""
        return "L" if self.channels == 1 else "RGB"

    def to_tensor(self, image: Image.Image) -> torch.Tensor:
        """Resize, centre-crop and convert one PIL image to a (C, H, W) float tensor in [0, 1]."""
        image = image.convert(self.pil_mode)
        height, width = self.input_size
        resample = _PIL_RESAMPLE[self.interpolation]
        if self.crop_pct >= 1.0:
            image = image.resize((width, height), resample)
        else:
            scale_h = math.floor(height / self.crop_pct)
            scale_w = math.floor(width / self.crop_pct)
            ratio = max(scale_h / image.height, scale_w / image.width)
            new_size = (
                max(width, round(image.width * ratio)),
                max(height, round(image.height * ratio)),
            )
            image = image.resize(new_size, resample)
            left = (image.width - width) // 2
            top = (image.height - height) // 2
            image = image.crop((left, top, left + width, top + height))
        return pil_to_tensor(image)

    def batch(self, images: list[Image.Image]) -> torch.Tensor:
        """Stack images into a (B, C, H, W) tensor in [0, 1]."""
        return torch.stack([self.to_tensor(image) for image in images])
