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
* ``film`` (feature-wise modulation, AdaIN style): the image enters alone, and every
  InstanceNorm after the first conv (down-sampling, residual and up-sampling layers) is a
  :class:`FiLMNorm` whose scale and shift are linear in c. The condition then acts at every
  scale and cannot be cancelled by a normalisation; the modulation starts at zero, so an
  untrained ``film`` generator is the plain unconditioned network.

Output (:class:`Output`), how the last conv's map r (B, channels, S, S) becomes the image:

* ``direct`` (StarGAN): ``out = (tanh(r) + 1) / 2``, the image is redrawn from scratch.
* ``residual``: ``out = clamp(x + tanh(r) / 2, 0, 1)`` in [0, 1] units: G predicts a bounded
  change (at most 0.5 per pixel) added to its input, so a zero map returns the input exactly
  and the input's identity is the default. The last conv starts at zero weights, so an
  untrained residual generator is the identity.

Up-sampling (:class:`Upsampling`), how the decoder doubles the resolution:

* ``transposed`` (StarGAN): a 4x4 stride-2 transposed conv;
* ``resize``: nearest-neighbour x2 then a 3x3 conv, which cannot draw the checkerboard
  pattern that overlapping transposed-conv kernels leave (Odena, Dumoulin & Olah 2016,
  "Deconvolution and checkerboard artifacts"); measured on the faces it removes a 4-pixel grid
  texture the transposed variant painted over every edit.

Condition (:class:`Condition`), what G is given, in standardised units:

* ``absolute`` (StarGAN): the wanted features z_t;
* ``difference`` (STGAN's difference attribute vector, Liu et al. 2019): z_t - z_x, the
  change from the image's own features. A zero code then means "keep the image", so the
  identity is the trivial case of the code rather than one target among many, and the size of
  the residual can follow the size of the requested change. The caller supplies the image's own
  features (it has the classifier).

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
    film = "film"


class Upsampling(StrEnum):
    """How the decoder doubles the resolution."""

    transposed = "transposed"
    resize = "resize"


def upsampling_layer(kind: Upsampling, channels: int) -> nn.Module:
    """The layer of ``kind`` taking (B, channels, s, s) to (B, channels // 2, 2s, 2s)."""
    if kind == Upsampling.transposed:
        return nn.ConvTranspose2d(channels, channels // 2, 4, 2, 1, bias=False)
    return nn.Sequential(
        nn.Upsample(scale_factor=2, mode="nearest"),
        nn.Conv2d(channels, channels // 2, 3, 1, 1, bias=False),
    )


class Condition(StrEnum):
    """What the generator is conditioned on: the wanted features or their change."""

    absolute = "absolute"
    difference = "difference"


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


INPUT_CHANNELS = {
    Injection.tiled: lambda c_dim: c_dim,
    Injection.flat: lambda c_dim: 1,
    Injection.film: lambda c_dim: 0,
}
"""Extra input channels each injection concatenates to the image, as a function of c_dim."""


def inject(images: torch.Tensor, condition: torch.Tensor, injection: Injection) -> torch.Tensor:
    """Images (B, C, H, W) with the condition's map concatenated: C + c_dim (``tiled``), C + 1
    (``flat``) or C channels (``film``, whose condition enters through the norms)."""
    count, _, height, width = images.shape
    if injection == Injection.film:
        return images
    if injection == Injection.tiled:
        extra = condition.view(count, -1, 1, 1).expand(-1, -1, height, width)
    else:
        extra = flat_condition_map(condition, height, width)
    return torch.cat([images, extra.to(images.dtype)], dim=1)


class FiLMNorm(nn.Module):
    """InstanceNorm whose affine map depends on the condition: ``IN(x) (1 + g(c)) + b(c)``.

    ``g`` and ``b`` are one linear layer (c_dim -> 2 * channels), zero at initialisation.
    ``forward(x (B, channels, H, W), condition (B, c_dim))`` -> (B, channels, H, W).
    """

    def __init__(self, channels: int, c_dim: int):
        super().__init__()
        self.norm = nn.InstanceNorm2d(channels, affine=True)
        self.modulation = nn.Linear(c_dim, 2 * channels)
        nn.init.zeros_(self.modulation.weight)
        nn.init.zeros_(self.modulation.bias)

    def forward(self, x: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        scale, shift = self.modulation(condition.to(x.dtype))[:, :, None, None].chunk(2, dim=1)
        return self.norm(x) * (1.0 + scale) + shift


def run(layers: nn.Sequential, x: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
    """Apply ``layers`` in order, handing ``condition`` to the layers that take it."""
    for layer in layers:
        x = layer(x, condition) if isinstance(layer, CONDITIONED) else layer(x)
    return x


def _norm(channels: int, c_dim: int) -> nn.Module:
    """The normalisation of one layer: :class:`FiLMNorm` when ``c_dim`` > 0, else affine IN."""
    return FiLMNorm(channels, c_dim) if c_dim else nn.InstanceNorm2d(channels, affine=True)


def _norm_relu(channels: int, c_dim: int = 0) -> list[nn.Module]:
    return [_norm(channels, c_dim), nn.ReLU(inplace=True)]


class ResidualBlock(nn.Module):
    """StarGAN residual block: x + IN(conv3x3(ReLU(IN(conv3x3(x))))), no activation after.

    With ``c_dim`` > 0 both norms are :class:`FiLMNorm` modulated by the condition.
    """

    def __init__(self, channels: int, c_dim: int = 0):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, channels, 3, 1, 1, bias=False),
            *_norm_relu(channels, c_dim),
            nn.Conv2d(channels, channels, 3, 1, 1, bias=False),
            _norm(channels, c_dim),
        )

    def forward(self, x: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        return x + run(self.body, x, condition)


CONDITIONED = (FiLMNorm, ResidualBlock)
"""Layer types whose forward takes the condition as a second argument (see :func:`run`)."""


class ConditionalGenerator(nn.Module):
    """StarGAN G(x, c) (algorithms.md §1.4) with configurable width, depth and injection.

    Layers: 7x7 conv (input channels from :func:`inject`) -> ``downsamplings`` stride-2 4x4
    convs doubling the width -> ``repeat_num`` residual blocks -> as many 4x4 transposed convs
    (``upsampling``, :class:`Upsampling`) -> 7x7 conv + tanh, turned into the image as
    ``output`` says (:class:`Output`).
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
        upsampling: str = "transposed",
    ):
        super().__init__()
        self.injection = Injection(injection)
        self.output = Output(output)
        self.upsampling = Upsampling(upsampling)
        if image_size % (2**downsamplings):
            raise ValueError(f"image_size {image_size} is not divisible by 2**{downsamplings}")
        extra = INPUT_CHANNELS[self.injection](c_dim)
        modulated = c_dim if self.injection == Injection.film else 0
        layers: list[nn.Module] = [
            nn.Conv2d(channels + extra, conv_dim, 7, 1, 3, bias=False),
            *_norm_relu(conv_dim),
        ]
        width = conv_dim
        for _ in range(downsamplings):
            layers += [
                nn.Conv2d(width, 2 * width, 4, 2, 1, bias=False),
                *_norm_relu(2 * width, modulated),
            ]
            width *= 2
        layers += [ResidualBlock(width, modulated) for _ in range(repeat_num)]
        for _ in range(downsamplings):
            layers += [
                upsampling_layer(self.upsampling, width),
                *_norm_relu(width // 2, modulated),
            ]
            width //= 2
        layers += [nn.Conv2d(width, channels, 7, 1, 3, bias=False), nn.Tanh()]
        if self.output == Output.residual:
            nn.init.zeros_(layers[-2].weight)
        self.main = nn.Sequential(*layers)
        self.c_dim = c_dim

    def forward(self, images: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        inputs = inject(images * 2.0 - 1.0, condition, self.injection)
        change = run(self.main, inputs, condition)
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

    ``condition`` (:class:`Condition`) says whether G sees the wanted features or their change
    from the image's own (``difference``, which needs the own features in :meth:`forward`).
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
        upsampling: str = "transposed",
        condition: str = "absolute",
    ):
        super().__init__()
        self.condition = Condition(condition)
        self.generator = ConditionalGenerator(
            c_dim,
            channels,
            image_size,
            conv_dim,
            repeat_num,
            injection,
            downsamplings,
            output,
            upsampling,
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

    def code(self, wanted: torch.Tensor, own: torch.Tensor) -> torch.Tensor:
        """G's input from standardised wanted and own features (B, c_dim): ``wanted``
        (``absolute``) or ``wanted - own`` (``difference``)."""
        return wanted - own if self.condition == Condition.difference else wanted

    def forward(
        self, images: torch.Tensor, features: torch.Tensor, own: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Render images (B, C, S, S) in [0, 1] with raw classifier features (B, c_dim);
        ``own``: the raw features of ``images`` (B, c_dim), required by ``difference``."""
        wanted = self.standardise(features)
        if own is None:
            if self.condition == Condition.difference:
                raise ValueError(
                    "a difference-conditioned generator needs the images' own features"
                )
            return self.generator(images, wanted)
        return self.generator(images, self.code(wanted, self.standardise(own)))
