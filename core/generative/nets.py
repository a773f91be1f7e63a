"""Small networks genlens trains itself: a CNN classifier, a dilated in-filler, a generator prior.

All take and return images in **[0, 1]**, NCHW. Sizes are set by constructor arguments that the
model card records (``arch``), so a shipped model is rebuilt exactly from its card.
"""

import torch
from torch import nn

PENULTIMATE = "pool"
"""Layer name of :class:`SmallCNN` whose output (B, width) is the penultimate feature vector."""


def conv_bn_relu(
    inputs: int, outputs: int, kernel: int = 3, stride: int = 1, dilation: int = 1
) -> nn.Sequential:
    """Conv (same padding) -> BatchNorm -> ReLU."""
    padding = dilation * (kernel // 2)
    return nn.Sequential(
        nn.Conv2d(inputs, outputs, kernel, stride, padding, dilation, bias=False),
        nn.BatchNorm2d(outputs),
        nn.ReLU(inplace=True),
    )


GLOBAL_POOLS: dict[str, type[nn.Module]] = {
    "avg": nn.AdaptiveAvgPool2d,
    "max": nn.AdaptiveMaxPool2d,
}
"""Global pooling of :class:`SmallCNN`'s last feature map, by name."""


class SmallCNN(nn.Module):
    """A VGG-style CNN for 32x32 (``stem_stride=1``) or 64x64 (``stem_stride=2``) inputs.

    Input: normalised images (B, channels, H, W). Output: logits (B, num_classes). The layer
    ``pool`` outputs the non-negative (post-ReLU, globally ``pooling``-pooled) penultimate
    features (B, widths[-1]) that the generator prior inverts.

    The stem reduces the resolution by ``stem_stride``: with a strided convolution, or with
    ``stem_pool`` a stride-1 convolution at full resolution followed by a max-pool (keeps fine
    detail of small objects on large canvases; about 1.6x the CPU time per training step of
    the 64x64 BlockFashion classifier). Neither option adds parameters, so the weights of every
    variant have the same keys and shapes.
    """

    def __init__(
        self,
        channels: int = 1,
        num_classes: int = 10,
        widths: tuple[int, int, int] = (32, 64, 128),
        stem_stride: int = 1,
        dropout: float = 0.2,
        stem_pool: bool = False,
        pooling: str = "avg",
    ):
        super().__init__()
        first, second, third = widths
        if stem_pool and stem_stride > 1:
            self.stem = nn.Sequential(*conv_bn_relu(channels, first), nn.MaxPool2d(stem_stride))
        else:
            self.stem = conv_bn_relu(channels, first, stride=stem_stride)
        self.block1 = nn.Sequential(conv_bn_relu(first, first), nn.MaxPool2d(2))
        self.block2 = nn.Sequential(
            conv_bn_relu(first, second), conv_bn_relu(second, second), nn.MaxPool2d(2)
        )
        self.block3 = nn.Sequential(conv_bn_relu(second, third), conv_bn_relu(third, third))
        self.pool = nn.Sequential(GLOBAL_POOLS[pooling](1), nn.Flatten())
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(third, num_classes)

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """Penultimate features (B, widths[-1]), >= 0, for normalised images."""
        return self.pool(self.block3(self.block2(self.block1(self.stem(images)))))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(self.features(images)))


class InfillNet(nn.Module):
    """Encoder-decoder in-filler with dilated convolutions (FIDO §3.9 ``ImpantingModel``, small).

    ``forward(masked, observed)``: ``masked`` (B, C, H, W) in [0, 1] with unobserved pixels set
    to 0 and ``observed`` (B, 1, H, W) with 1 = observed. The network sees
    ``[masked, 1 - observed]`` and returns the fill (B, C, H, W) in [0, 1] at every pixel.
    Layers: 5x5 conv -> two stride-2 convs (H -> H/4) -> dilated 3x3 convs (dilations
    ``dilations``) -> two transposed convs back to H -> 3x3 conv + sigmoid.
    """

    def __init__(
        self,
        channels: int = 1,
        width: int = 32,
        dilations: tuple[int, ...] = (2, 4, 8),
    ):
        super().__init__()
        wide = 2 * width
        self.encoder = nn.Sequential(
            conv_bn_relu(channels + 1, width, kernel=5),
            conv_bn_relu(width, wide, stride=2),
            conv_bn_relu(wide, wide, stride=2),
            *(conv_bn_relu(wide, wide, dilation=dilation) for dilation in dilations),
            conv_bn_relu(wide, wide),
        )
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(wide, width, 4, 2, 1, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(inplace=True),
            nn.ConvTranspose2d(width, width, 4, 2, 1, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(inplace=True),
            nn.Conv2d(width, channels, 3, padding=1),
            nn.Sigmoid(),
        )

    def forward(self, masked: torch.Tensor, observed: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(torch.cat([masked, 1.0 - observed], dim=1)))


class Generator(nn.Module):
    """DeePSiM-style up-convolutional generator G(code) -> image in [0, 1].

    Fully connected layers (LeakyReLU 0.3) map the (B, code_dim) code to ``width`` x 4 x 4, then
    ``log2(size / 4)`` stride-2 4x4 up-convolutions, each followed by a 3x3 conv, halve the
    channels and double the size; a final 3x3 conv + sigmoid gives (B, channels, size, size).
    """

    def __init__(self, code_dim: int, channels: int = 1, size: int = 32, width: int = 128):
        super().__init__()
        self.width = width
        self.fc = nn.Sequential(
            nn.Linear(code_dim, 2 * code_dim),
            nn.LeakyReLU(0.3),
            nn.Linear(2 * code_dim, width * 16),
            nn.LeakyReLU(0.3),
        )
        layers: list[nn.Module] = []
        current, resolution = width, 4
        while resolution < size:
            following = max(current // 2, 16)
            layers += [
                nn.ConvTranspose2d(current, following, 4, 2, 1),
                nn.LeakyReLU(0.3),
                nn.Conv2d(following, following, 3, padding=1),
                nn.LeakyReLU(0.3),
            ]
            current, resolution = following, resolution * 2
        layers += [nn.Conv2d(current, channels, 3, padding=1), nn.Sigmoid()]
        self.up = nn.Sequential(*layers)

    def forward(self, code: torch.Tensor) -> torch.Tensor:
        return self.up(self.fc(code).view(len(code), self.width, 4, 4))


class Discriminator(nn.Module):
    """DeePSiM discriminator: image branch (strided convs) + code branch, joint logit (B,)."""

    def __init__(self, code_dim: int, channels: int = 1, width: int = 32):
        super().__init__()
        self.image = nn.Sequential(
            nn.Conv2d(channels, width, 4, 2, 1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(width, 2 * width, 4, 2, 1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(2 * width, 2 * width, 3, 2, 1),
            nn.LeakyReLU(0.2),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        self.code = nn.Sequential(nn.Linear(code_dim, 2 * width), nn.LeakyReLU(0.2))
        self.head = nn.Linear(4 * width, 1)

    def forward(self, images: torch.Tensor, code: torch.Tensor) -> torch.Tensor:
        joint = torch.cat([self.image(images * 2.0 - 1.0), self.code(code)], dim=1)
        return self.head(joint).squeeze(1)
