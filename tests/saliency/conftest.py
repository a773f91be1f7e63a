"""Fixtures for the saliency tests: a hand-built patch classifier and EfficientNet-Lite0."""

import pytest
import torch
from torch import nn

from genlens.core.models import Classifier, Preprocessing

SIZE = 32
PATCH = (slice(8, 20), slice(12, 20))  # 12 x 8 = 96 of 1024 pixels (9.4 % of the image)


class PatchNet(nn.Module):
    """Logit of class 1 = 2.5 * mean(red - green) over the patch (normalised units) - 5.

    Class 0 has logit 0 and class 2 logit -1, so only the patch carries evidence for class 1.
    ``calls`` counts forward passes (to check that bad input fails before any compute).
    """

    def __init__(self):
        super().__init__()
        self.calls = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        rows, cols = PATCH
        evidence = (x[:, 0, rows, cols] - x[:, 1, rows, cols]).mean(dim=(1, 2))
        return torch.stack(
            [torch.zeros_like(evidence), 2.5 * evidence - 5, -torch.ones_like(evidence)], dim=1
        )


@pytest.fixture
def patch_classifier() -> Classifier:
    """The :class:`PatchNet` classifier on 32 x 32 RGB images (mean 0.5, std 0.25)."""
    preprocessing = Preprocessing((SIZE, SIZE), (0.5, 0.5, 0.5), (0.25, 0.25, 0.25), crop_pct=1.0)
    return Classifier("patch", PatchNet(), preprocessing, ["background", "patch", "other"])


@pytest.fixture
def patch_images() -> torch.Tensor:
    """Three (3, 32, 32) images: grey noise with a red patch of different strength."""
    generator = torch.Generator().manual_seed(0)
    images = (0.5 + 0.1 * torch.randn(3, 3, SIZE, SIZE, generator=generator)).clamp(0, 1)
    for index, red in enumerate([1.0, 0.9, 0.8]):
        images[index, :, PATCH[0], PATCH[1]] = torch.tensor([red, 0.1, 0.1]).view(3, 1, 1)
    return images


@pytest.fixture
def patch_mask() -> torch.Tensor:
    """(32, 32) bool, True inside the evidence patch."""
    mask = torch.zeros(SIZE, SIZE, dtype=torch.bool)
    mask[PATCH] = True
    return mask
