"""What every saliency method receives: one validated batch on the classifier's device."""

from dataclasses import dataclass

import torch

from genlens.core.models import Classifier
from genlens.core.progress import ProgressCallback
from genlens.core.saliency.infill import Infiller


@dataclass(frozen=True)
class Problem:
    """A validated explanation request.

    Attributes:
        classifier: frozen classifier taking [0, 1] images.
        images: (B, C, H, W) float32 in [0, 1] on the classifier's device.
        target: (B,) int64 class indices on the same device.
        infiller: the in-filler used by the mask optimisers and for counterfactuals.
        seed: base seed; image ``b`` draws from a generator seeded ``seed + b``.
        progress: ``progress(done, total)`` called after every step or chunk.
    """

    classifier: Classifier
    images: torch.Tensor
    target: torch.Tensor
    infiller: Infiller
    seed: int
    progress: ProgressCallback

    @property
    def batch(self) -> int:
        return self.images.shape[0]

    @property
    def size(self) -> tuple[int, int]:
        return self.images.shape[-2], self.images.shape[-1]

    def forward_batch(self, given: int = 0) -> int:
        """Images per forward pass: ``given`` (a method's ``batch`` parameter) unless it is 0,
        else the classifier's policy for this image size."""
        return given or self.classifier.forward_batch(self.size)
