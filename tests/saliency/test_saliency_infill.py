"""In-fillers: numerics against direct computations, and the registry."""

from collections.abc import Iterator

import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from genlens.core.errors import ParameterError
from genlens.core.registries import INFILLERS
from genlens.core.saliency import (
    LearnedInfiller,
    explain,
    infiller_names,
    make_infiller,
    register_infiller,
)
from genlens.core.saliency.infill import box_sum
from genlens.core.saliency.noise import SampleNoise

MEAN_COLOUR = torch.tensor([0.5, 0.5, 0.5])


def noise(images: int = 1, samples: int = 1) -> SampleNoise:
    return SampleNoise(images, samples, seed=0, device=torch.device("cpu"))


def direct_local_mean(image: torch.Tensor, observed: torch.Tensor, window: int) -> torch.Tensor:
    """Per pixel, the mean of the observed pixels in the window clipped to the image."""
    _, height, width = image.shape
    half = window // 2
    out = torch.empty_like(image)
    for row in range(height):
        for col in range(width):
            rows = slice(max(0, row - half), row + half + 1)
            cols = slice(max(0, col - half), col + half + 1)
            weights = observed[rows, cols]
            count = weights.sum()
            if count > 0:
                out[:, row, col] = (image[:, rows, cols] * weights).sum(dim=(1, 2)) / count
            else:
                out[:, row, col] = MEAN_COLOUR
    return out


def test_local_mean_uses_observed_neighbours_only(patch_classifier):
    generator = torch.Generator().manual_seed(1)
    image = torch.rand(1, 3, 40, 40, generator=generator)
    observed = (torch.rand(1, 1, 40, 40, generator=generator) > 0.3).float()
    observed[..., 10:32, 8:30] = 0  # a 22 x 22 hole: its centre has no observed neighbour
    fill = make_infiller("local-mean", patch_classifier).fill(image, observed, noise())
    expected = direct_local_mean(image[0], observed[0, 0], window=15)
    torch.testing.assert_close(fill[0], expected, atol=1e-5, rtol=1e-5)
    assert torch.equal(fill[0, :, 21, 19], MEAN_COLOUR)  # no observed pixel within 7 px
    # changing the hidden pixels does not change the fill anywhere
    changed = torch.where(observed.bool(), image, torch.rand(image.shape, generator=generator))
    refilled = make_infiller("local-mean", patch_classifier).fill(changed, observed, noise())
    torch.testing.assert_close(refilled, fill)


def test_box_sum_matches_a_float64_convolution_at_224():
    """The running-sum box filter against a ones-kernel convolution in float64: the counts
    of a binary mask are exact, the sums of values within float32 round-off."""
    generator = torch.Generator().manual_seed(3)
    observed = (torch.rand(2, 1, 224, 224, generator=generator) > 0.4).float()
    values = torch.rand(2, 3, 224, 224, generator=generator) * observed
    stacked = torch.cat([values, observed], dim=1)
    ones = torch.ones(4, 1, 15, 15, dtype=torch.float64)
    expected = F.conv2d(stacked.double(), ones, padding=7, groups=4)
    sums = box_sum(stacked, 15)
    assert torch.equal(sums[:, 3:].double(), expected[:, 3:])
    torch.testing.assert_close(sums.double(), expected, atol=1e-4, rtol=1e-6)


def test_blur_matches_opencv_gaussian_blur(patch_classifier):
    image = torch.rand(1, 3, 96, 96, generator=torch.Generator().manual_seed(2))
    fill = make_infiller("blur", patch_classifier).fill(image, torch.zeros(1, 1, 96, 96), noise())
    array = image[0].permute(1, 2, 0).numpy()
    expected = cv2.GaussianBlur(array, (0, 0), sigmaX=10, borderType=cv2.BORDER_REFLECT_101)
    np.testing.assert_allclose(fill[0].permute(1, 2, 0).numpy(), expected, atol=1e-4)


def test_mean_fill_is_the_classifier_mean(patch_classifier):
    image = torch.rand(2, 3, 8, 8)
    fill = make_infiller("mean", patch_classifier).fill(image, torch.zeros(2, 1, 8, 8), noise(2))
    assert torch.equal(fill, torch.full_like(image, 0.5))


def test_random_colour_fill_per_sample(patch_classifier):
    image = torch.zeros(1, 3, 64, 64)
    fill = make_infiller("random", patch_classifier).fill(
        image.expand(4, -1, -1, -1), torch.zeros(4, 1, 64, 64), noise(1, 4)
    )
    assert fill.shape == (4, 3, 64, 64) and fill.min() >= 0 and fill.max() <= 1
    colours = fill.mean(dim=(2, 3))
    assert colours.std(dim=0).min() > 0.05  # a different colour per sample
    assert 0.1 < (fill - fill.mean(dim=(2, 3), keepdim=True)).std() < 0.25  # noise std 0.2


def test_telea_fills_holes_and_keeps_observed_pixels(patch_classifier):
    image = torch.full((2, 3, 32, 32), 0.4)
    image[1] = 0.8
    observed = torch.ones(2, 1, 32, 32)
    observed[..., 10:20, 10:20] = 0
    fill = make_infiller("telea", patch_classifier).fill(image, observed, noise(2))
    torch.testing.assert_close(fill, image, atol=3 / 255, rtol=0)  # 8-bit Telea round-off


@pytest.fixture
def restore_registry() -> Iterator[None]:
    """Start without the catalog's ``learned`` in-filler and put it back afterwards."""
    shipped = INFILLERS.remove("learned")
    yield
    INFILLERS.register("learned", shipped)


class HalfGrey(nn.Module):
    """A stand-in 'trained' in-painter: fills with grey 0.25."""

    def forward(self, masked: torch.Tensor, observed: torch.Tensor) -> torch.Tensor:
        return torch.full_like(masked, 0.25)


def test_learned_infiller_plugs_into_explain(restore_registry, patch_classifier, patch_images):
    with pytest.raises(ParameterError, match="unknown in-filler 'learned'"):
        explain(patch_classifier, patch_images[:1], infill="learned", steps=1)
    register_infiller("learned", lambda classifier: LearnedInfiller(HalfGrey()))
    assert "learned" in infiller_names()
    result = explain(
        patch_classifier, patch_images[:1], method="fido-sdr", infill="learned", steps=2
    )
    expected = torch.where(result.salient[0], torch.tensor(0.25), patch_images[0])
    torch.testing.assert_close(result.counterfactuals[0], expected)


class ConvInpainter(nn.Module):
    """A small convolutional in-painter that records the dtype its convolution computes in."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.conv = nn.Conv2d(2, 1, 3, padding=1)
        self.dtypes: list[torch.dtype] = []

    def forward(self, masked: torch.Tensor, observed: torch.Tensor) -> torch.Tensor:
        out = self.conv(torch.cat([masked, observed], dim=1))
        self.dtypes.append(out.dtype)
        return out.sigmoid()


def test_learned_infiller_runs_at_the_precision_it_is_given():
    images = torch.rand(4, 1, 8, 8)
    observed = (torch.rand(4, 1, 8, 8) > 0.5).float()
    noise = SampleNoise(4, 1, 0, images.device)
    net = ConvInpainter()
    fills = {p: LearnedInfiller(net, p).fill(images, observed, noise) for p in ("fp32", "bf16")}
    assert net.dtypes == [torch.float32, torch.bfloat16]
    assert all(fill.dtype == torch.float32 for fill in fills.values())
    torch.testing.assert_close(fills["bf16"], fills["fp32"], atol=0.02, rtol=0)


def test_register_infiller_rejects_bad_arguments():
    with pytest.raises(ParameterError):
        register_infiller("", lambda classifier: None)
    with pytest.raises(ParameterError):
        register_infiller("x", "not callable")
