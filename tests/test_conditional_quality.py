"""SSIM and the Frechet distance against independent implementations and analytic cases."""

import numpy as np
import pytest
import torch
from scipy import linalg
from skimage.metrics import structural_similarity

from genlens.core.generative.conditional.quality import frechet_distance, ssim


def test_ssim_matches_scikit_image_per_channel_mean():
    generator = torch.Generator().manual_seed(0)
    clean = torch.rand(3, 3, 32, 40, generator=generator)
    noisy = (clean + 0.1 * torch.randn(clean.shape, generator=generator)).clamp(0, 1)
    ours = ssim(noisy, clean)
    for index in range(3):
        expected = structural_similarity(
            noisy[index].numpy(),
            clean[index].numpy(),
            channel_axis=0,
            data_range=1.0,
            gaussian_weights=True,
            sigma=1.5,
            use_sample_covariance=False,
        )
        assert float(ours[index]) == pytest.approx(expected, abs=1e-5)
    assert torch.allclose(ssim(clean, clean), torch.ones(3), atol=1e-6)


def test_ssim_rejects_mismatched_shapes():
    with pytest.raises(ValueError):
        ssim(torch.rand(1, 3, 16, 16), torch.rand(1, 3, 16, 15))


def test_frechet_distance_of_diagonal_gaussians_is_analytic():
    generator = torch.Generator().manual_seed(1)
    count = 200_000
    std_a, std_b = torch.tensor([1.0, 2.0, 0.5]), torch.tensor([3.0, 1.0, 0.5])
    shift = torch.tensor([1.0, -2.0, 0.0])
    a = torch.randn(count, 3, generator=generator, dtype=torch.float64) * std_a
    b = torch.randn(count, 3, generator=generator, dtype=torch.float64) * std_b + shift
    expected = float(shift.pow(2).sum() + (std_a - std_b).pow(2).sum())
    assert frechet_distance(a, b) == pytest.approx(expected, rel=0.02)
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)


def test_frechet_distance_matches_scipy_sqrtm():
    generator = torch.Generator().manual_seed(2)
    a = torch.randn(300, 8, generator=generator) @ torch.randn(8, 8, generator=generator)
    b = torch.randn(250, 8, generator=generator) * 2 + 0.5
    x, y = a.double().numpy(), b.double().numpy()
    cov_x, cov_y = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    root = linalg.sqrtm(cov_x @ cov_y).real
    expected = ((x.mean(0) - y.mean(0)) ** 2).sum() + np.trace(cov_x + cov_y - 2 * root)
    assert frechet_distance(a, b) == pytest.approx(expected, rel=1e-6)
