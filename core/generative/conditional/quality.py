"""Image-quality measures of generated images: SSIM and the Frechet distance of features.

* :func:`ssim`: structural similarity (Wang et al. 2004) with an 11x11 Gaussian window
  (sigma 1.5), constants ``C1 = (0.01 L)^2`` and ``C2 = (0.03 L)^2`` for data range L = 1,
  population (1/N) local statistics, computed over the 'valid' window positions and averaged
  over positions and channels. This is ``skimage.metrics.structural_similarity(...,
  gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=1)``.
* :func:`frechet_distance`: ``|mu_a - mu_b|^2 + tr(S_a) + tr(S_b) - 2 tr((S_a S_b)^(1/2))``
  between Gaussians fitted to two feature sets (the FID formula, here in whichever feature space
  the caller picks), computed in float64 through symmetric eigendecompositions.
"""

import torch
import torch.nn.functional as F

WINDOW = 11
SIGMA = 1.5
C1 = 0.01**2
C2 = 0.03**2


def _gaussian_window(channels: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """Separable normalised Gaussian (channels, 1, WINDOW, WINDOW) for a depthwise conv."""
    offsets = torch.arange(WINDOW, dtype=dtype, device=device) - (WINDOW - 1) / 2
    line = torch.exp(-(offsets**2) / (2 * SIGMA**2))
    line = line / line.sum()
    return (line[:, None] * line[None, :]).expand(channels, 1, WINDOW, WINDOW).contiguous()


def ssim(images: torch.Tensor, references: torch.Tensor) -> torch.Tensor:
    """SSIM of each pair of images (B, C, H, W) in [0, 1] (H, W >= 11) -> (B,) in [-1, 1]."""
    if images.shape != references.shape or images.ndim != 4:
        raise ValueError(f"ssim needs two (B, C, H, W) of one shape, got {images.shape}")
    x, y = images.double(), references.double()
    window = _gaussian_window(x.shape[1], x.dtype, x.device)

    def local(values: torch.Tensor) -> torch.Tensor:
        return F.conv2d(values, window, groups=x.shape[1])

    mean_x, mean_y = local(x), local(y)
    var_x = local(x * x) - mean_x**2
    var_y = local(y * y) - mean_y**2
    covariance = local(x * y) - mean_x * mean_y
    numerator = (2 * mean_x * mean_y + C1) * (2 * covariance + C2)
    denominator = (mean_x**2 + mean_y**2 + C1) * (var_x + var_y + C2)
    return (numerator / denominator).flatten(1).mean(1).to(images.dtype)


def _sqrt_psd(matrix: torch.Tensor) -> torch.Tensor:
    """Square root of a symmetric positive semi-definite matrix (eigenvalues floored at 0)."""
    values, vectors = torch.linalg.eigh(matrix)
    return (vectors * values.clamp_min(0).sqrt()) @ vectors.T


def frechet_distance(features_a: torch.Tensor, features_b: torch.Tensor) -> float:
    """Frechet distance between Gaussians fitted to (N_a, D) and (N_b, D) feature sets (N >= 2).

    Covariances use the unbiased (N - 1) estimator, as FID does. ``tr((S_a S_b)^(1/2))`` is
    the trace of ``(S_a^(1/2) S_b S_a^(1/2))^(1/2)``, which is symmetric, so both roots are
    eigendecompositions.
    """
    a, b = features_a.double(), features_b.double()
    mean_a, mean_b = a.mean(0), b.mean(0)
    cov_a, cov_b = torch.cov(a.T).reshape(a.shape[1], -1), torch.cov(b.T).reshape(b.shape[1], -1)
    root_a = _sqrt_psd(cov_a)
    cross = _sqrt_psd(root_a @ cov_b @ root_a)
    distance = (mean_a - mean_b).pow(2).sum() + cov_a.trace() + cov_b.trace() - 2 * cross.trace()
    return float(distance.clamp_min(0))
