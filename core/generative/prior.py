"""The DeePSiM-style generator prior: G(code) -> image, code = a classifier's penultimate features.

:class:`PriorNet` bundles the generator with the code statistics estimated from the training
data (per-unit mean, std and the realistic range ``[low, high]``), so DGN-AM can start from and
clip to realistic codes. The encoder is the classifier itself: :func:`penultimate_features`.
"""

import torch
from torch import nn

from genlens.core.generative.nets import Generator
from genlens.core.models import Classifier

BOUND_STDS = 3.0
"""Upper code bound = mean + BOUND_STDS * std per unit (DGN-AM's "3x" act_range files)."""


class PriorNet(nn.Module):
    """Generator plus code statistics.

    ``forward(code)`` maps codes (B, code_dim) to images (B, channels, size, size) in [0, 1].
    Buffers ``code_mean``, ``code_std``, ``code_low``, ``code_high`` are (code_dim,) and
    hold the statistics of the classifier's penultimate features on the training images.
    """

    def __init__(self, code_dim: int, channels: int = 1, size: int = 32, width: int = 128):
        super().__init__()
        self.generator = Generator(code_dim, channels, size, width)
        for name in ("code_mean", "code_std", "code_low", "code_high"):
            self.register_buffer(name, torch.zeros(code_dim))

    @property
    def code_dim(self) -> int:
        return int(self.code_mean.numel())

    def forward(self, code: torch.Tensor) -> torch.Tensor:
        return self.generator(code)

    def clip(self, code: torch.Tensor) -> torch.Tensor:
        """Codes clamped elementwise to ``[code_low, code_high]`` (same shape)."""
        return torch.maximum(torch.minimum(code, self.code_high), self.code_low)

    @torch.no_grad()
    def set_statistics(self, codes: torch.Tensor) -> None:
        """Estimate the buffers from codes (N, code_dim): low = min (>= 0 after ReLU)."""
        self.code_mean.copy_(codes.mean(0))
        self.code_std.copy_(codes.std(0))
        self.code_low.copy_(codes.min(0).values.clamp_max(0.0))
        self.code_high.copy_(self.code_mean + BOUND_STDS * self.code_std)


def penultimate_features(
    classifier: Classifier, images: torch.Tensor, layer: str
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(features (B, D), logits (B, K))`` of [0, 1] images at the flattened ``layer``."""
    with classifier.capture([layer]) as record:
        logits = classifier(images)
    return record.activations[layer].flatten(1), logits
