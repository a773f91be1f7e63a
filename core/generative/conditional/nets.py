"""StarGAN networks conditioned on a classifier's feature vector (algorithms.md §1.3-§1.5).

* :class:`ConditionalGenerator` ``G(x, c)``: image-to-image StarGAN generator; images in and out
  are in **[0, 1]** (mapped to [-1, 1] inside, tanh output mapped back).
* :class:`FeatureCritic` ``D(x) -> (critic map, features[, outputs])``: WGAN-GP PatchGAN critic
  without normalisation, with an auxiliary head regressing the condition features and an
  optional linear head from those features to the classifier's outputs.
* :class:`ConditionalModel`: the shipped bundle, generator plus the feature editor's buffers
  (standardisation, PCA basis and component quantiles), so one ``model.safetensors`` holds all.

Condition injection (:class:`Injection`), chosen with a real enum (fixes the original's
``type=bool`` argparse bug, where ``--depth_concat False`` meant True):

* ``tiled`` (StarGAN's depth concat): c (B, c_dim) is tiled to (B, c_dim, H, W) and concatenated
  with the image; the first conv sees ``channels + c_dim`` channels. Because the map is
  spatially constant, the following InstanceNorm cancels it except near the zero-padded border.
* ``flat``: c is zero-padded to ``side**2`` values with ``side = ceil(sqrt(c_dim))``, reshaped to
  a (side, side) patch and tiled periodically over H x W (cropped at the right/bottom edge):
  one extra channel whose spatial pattern survives InstanceNorm. For c_dim = 64 and 112x112 this
  is exactly the original's 8x8 patch tiled 14x14 times; any c_dim and image size work.

Output (:class:`Output`), how the last conv's map r (B, channels, S, S) becomes the image:

* ``direct`` (StarGAN): ``out = (tanh(r) + 1) / 2``, the image is redrawn from scratch.
* ``residual``: ``out = clamp(x + tanh(r) / 2, 0, 1)`` in [0, 1] units: G predicts a bounded
  change (at most 0.5 per pixel) added to its input, so a zero map returns the input exactly
  and the input's identity is the default. The last conv starts at zero weights, so an
  untrained residual generator is the identity.

Deviation from StarGAN: InstanceNorm keeps no running statistics (``track_running_stats=False``),
so train and eval mode compute the same function.
"""

import math
from enum import StrEnum

import torch
from torch import nn


class Injection(StrEnum):
    """How the condition vector enters the generator."""

    tiled = "tiled"
    flat = "flat"


class Output(StrEnum):
    """How the generator's last map becomes the output image."""

    direct = "direct"
    residual = "residual"


def flat_condition_map(condition: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """(B, c_dim) -> (B, 1, height, width): the code as a square patch tiled over the image."""
    count, dim = condition.shape
    side = math.ceil(math.sqrt(dim))
    padded = nn.functional.pad(condition, (0, side * side - dim))
    patch = padded.view(count, 1, side, side)
    tiled = patch.repeat(1, 1, math.ceil(height / side), math.ceil(width / side))
    return tiled[:, :, :height, :width]


def inject(images: torch.Tensor, condition: torch.Tensor, injection: Injection) -> torch.Tensor:
    """Concatenate images (B, C, H, W) with the condition's map: C + c_dim or C + 1 channels."""
    count, _, height, width = images.shape
    if injection == Injection.tiled:
        extra = condition.view(count, -1, 1, 1).expand(-1, -1, height, width)
    else:
        extra = flat_condition_map(condition, height, width)
    return torch.cat([images, extra.to(images.dtype)], dim=1)


def _norm_relu(channels: int) -> list[nn.Module]:
    return [nn.InstanceNorm2d(channels, affine=True), nn.ReLU(inplace=True)]


class ResidualBlock(nn.Module):
    """StarGAN residual block: x + IN(conv3x3(ReLU(IN(conv3x3(x))))), no activation after."""

    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, channels, 3, 1, 1, bias=False),
            *_norm_relu(channels),
            nn.Conv2d(channels, channels, 3, 1, 1, bias=False),
            nn.InstanceNorm2d(channels, affine=True),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class ConditionalGenerator(nn.Module):
    """StarGAN G(x, c) (algorithms.md §1.4) with configurable width, depth and injection.

    Layers: 7x7 conv (input channels from :func:`inject`) -> ``downsamplings`` stride-2 4x4
    convs doubling the width -> ``repeat_num`` residual blocks -> as many 4x4 transposed convs
    -> 7x7 conv + tanh, turned into the image as ``output`` says (:class:`Output`).
    ``image_size`` must be divisible by ``2**downsamplings``.

    ``forward(images, condition)``: images (B, channels, S, S) in [0, 1], condition (B, c_dim)
    (genlens feeds standardised features); returns (B, channels, S, S) in [0, 1].
    """

    def __init__(
        self,
        c_dim: int,
        channels: int = 1,
        image_size: int = 32,
        conv_dim: int = 64,
        repeat_num: int = 6,
        injection: str = "tiled",
        downsamplings: int = 2,
        output: str = "direct",
    ):
        super().__init__()
        self.injection = Injection(injection)
        self.output = Output(output)
        if image_size % (2**downsamplings):
            raise ValueError(f"image_size {image_size} is not divisible by 2**{downsamplings}")
        extra = c_dim if self.injection == Injection.tiled else 1
        layers: list[nn.Module] = [
            nn.Conv2d(channels + extra, conv_dim, 7, 1, 3, bias=False),
            *_norm_relu(conv_dim),
        ]
        width = conv_dim
        for _ in range(downsamplings):
            layers += [nn.Conv2d(width, 2 * width, 4, 2, 1, bias=False), *_norm_relu(2 * width)]
            width *= 2
        layers += [ResidualBlock(width) for _ in range(repeat_num)]
        for _ in range(downsamplings):
            layers += [
                nn.ConvTranspose2d(width, width // 2, 4, 2, 1, bias=False),
                *_norm_relu(width // 2),
            ]
            width //= 2
        layers += [nn.Conv2d(width, channels, 7, 1, 3, bias=False), nn.Tanh()]
        if self.output == Output.residual:
            nn.init.zeros_(layers[-2].weight)
        self.main = nn.Sequential(*layers)
        self.c_dim = c_dim

    def forward(self, images: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        inputs = inject(images * 2.0 - 1.0, condition, self.injection)
        change = self.main(inputs)
        if self.output == Output.residual:
            return (images + change / 2.0).clamp(0.0, 1.0)
        return (change + 1.0) / 2.0


class FeatureCritic(nn.Module):
    """WGAN-GP PatchGAN critic with a feature-regression head (algorithms.md §1.5).

    ``repeat_num`` 4x4 stride-2 convs (LeakyReLU 0.01, no normalisation, width doubling from
    ``conv_dim`` up to ``max_dim``) take (B, channels, S, S) in [0, 1] to S / 2**repeat_num.
    Heads: ``source`` 3x3 conv -> critic map (B, 1, s, s); ``features`` conv with kernel s ->
    (B, c_dim); ``outputs`` (when ``num_outputs`` > 0) Linear(c_dim, num_outputs) on the
    predicted features -> the classifier's logits (B, num_outputs).
    """

    def __init__(
        self,
        c_dim: int,
        channels: int = 1,
        image_size: int = 32,
        conv_dim: int = 64,
        repeat_num: int = 4,
        max_dim: int = 512,
        num_outputs: int = 0,
    ):
        super().__init__()
        layers: list[nn.Module] = []
        width, current = channels, conv_dim
        for _ in range(repeat_num):
            layers += [nn.Conv2d(width, current, 4, 2, 1), nn.LeakyReLU(0.01)]
            width, current = current, min(2 * current, max_dim)
        self.main = nn.Sequential(*layers)
        kernel = image_size // 2**repeat_num
        if kernel < 1:
            raise ValueError(f"image_size {image_size} too small for {repeat_num} downsamplings")
        self.source = nn.Conv2d(width, 1, 3, 1, 1, bias=False)
        self.features = nn.Conv2d(width, c_dim, kernel, bias=False)
        self.outputs = nn.Linear(c_dim, num_outputs) if num_outputs else None

    def forward(
        self, images: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        hidden = self.main(images * 2.0 - 1.0)
        features = self.features(hidden).flatten(1)
        outputs = self.outputs(features) if self.outputs is not None else None
        return self.source(hidden), features, outputs


class ConditionalModel(nn.Module):
    """The shipped conditional generator: ``G`` plus the feature editor's statistics.

    Buffers (c_dim = feature dimension, k = ``components``):
        feature_mean, feature_std (c_dim,): standardisation of raw classifier features
            (G is conditioned on ``(features - mean) / std``).
        components (k, c_dim): orthonormal PCA directions in standardised space (rows).
        explained (k,): variance of the standardised training features along each direction.
        score_quantiles (k, 101): percentiles 0, 1, ..., 100 of each component's training score.
    """

    def __init__(
        self,
        c_dim: int,
        channels: int = 1,
        image_size: int = 32,
        conv_dim: int = 64,
        repeat_num: int = 6,
        injection: str = "tiled",
        downsamplings: int = 2,
        components: int = 3,
        output: str = "direct",
    ):
        super().__init__()
        self.generator = ConditionalGenerator(
            c_dim, channels, image_size, conv_dim, repeat_num, injection, downsamplings, output
        )
        self.register_buffer("feature_mean", torch.zeros(c_dim))
        self.register_buffer("feature_std", torch.ones(c_dim))
        self.register_buffer("components", torch.zeros(components, c_dim))
        self.register_buffer("explained", torch.zeros(components))
        self.register_buffer("score_quantiles", torch.zeros(components, 101))

    @property
    def c_dim(self) -> int:
        return int(self.feature_mean.numel())

    def standardise(self, features: torch.Tensor) -> torch.Tensor:
        """Raw features (B, c_dim) -> z-scores (B, c_dim)."""
        return (features - self.feature_mean) / self.feature_std

    def unstandardise(self, scores: torch.Tensor) -> torch.Tensor:
        """z-scores (B, c_dim) -> raw features (B, c_dim)."""
        return scores * self.feature_std + self.feature_mean

    def forward(self, images: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
        """Render images (B, C, S, S) in [0, 1] with raw classifier features (B, c_dim)."""
        return self.generator(images, self.standardise(features))
