"""Architecture families: which layers of a network are spatial, and how their activations map
to a (B, C, H, W) grid.

CNN feature maps already are one. Vision transformers emit tokens (B, N, C): class, distillation
and register tokens first (``num_prefix_tokens`` in timm), then one token per patch in row-major
order. Swin stages emit (B, H, W, C). A family knows the default layer for Grad-CAM-like methods
(the last spatial layer before pooling) and maps any layer's activation to the grid, or returns
``None`` when the activation is not spatial (a pooled vector, windowed attention tokens).

Families are tried in registration order (:data:`~genlens.core.registries.FAMILIES`); a network
that none matches is treated as a CNN.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from genlens.core.errors import ParameterError
from genlens.core.registries import FAMILIES

MAX_PREFIX_TOKENS = 8
"""Most non-patch tokens assumed when a token model does not declare ``num_prefix_tokens``."""


@dataclass(frozen=True)
class ArchitectureFamily:
    """Attributes:
    name: e.g. ``"vit"``.
    matches: ``matches(net)``: whether ``net`` belongs to the family.
    default_layer: ``default_layer(net)``: name (in ``net.named_modules()``) of the layer
        Grad-CAM uses when none is given.
    to_grid: ``to_grid(net, module, activation)``: the activation of ``module`` as
        (B, C, H, W), or ``None`` when it is not spatial.
    """

    name: str
    matches: Callable[[nn.Module], bool]
    default_layer: Callable[[nn.Module], str]
    to_grid: Callable[[nn.Module, nn.Module, torch.Tensor], torch.Tensor | None]


def register_family(family: ArchitectureFamily) -> None:
    """Add ``family``; it is tried after the ones registered before it."""
    if not isinstance(family, ArchitectureFamily):
        raise ParameterError(f"expected an ArchitectureFamily, got {family!r}")
    FAMILIES.register(family.name, family)


def family_of(net: nn.Module) -> ArchitectureFamily:
    """The first registered family that ``net`` matches, else :data:`CNN`."""
    for name in FAMILIES.names(sort=False):
        family = FAMILIES.get(name)
        if family.matches(net):
            return family
    return CNN


def token_grid(net: nn.Module, tokens: torch.Tensor) -> torch.Tensor | None:
    """Patch tokens (B, N, C) as (B, C, h, w); prefix tokens dropped.

    The grid is ``net.patch_embed.grid_size`` with ``net.num_prefix_tokens`` prefix tokens when
    they add up to N (timm ViT, DeiT, EVA); otherwise the smallest prefix of at most
    :data:`MAX_PREFIX_TOKENS` tokens that leaves a square number of patches. ``None`` when
    neither fits.
    """
    if tokens.ndim != 3:
        return None
    count = tokens.shape[1]
    grid = getattr(getattr(net, "patch_embed", None), "grid_size", None)
    prefix = getattr(net, "num_prefix_tokens", None)
    if not (grid and prefix is not None and count == prefix + grid[0] * grid[1]):
        squares = [p for p in range(min(MAX_PREFIX_TOKENS, count - 1) + 1) if _square(count - p)]
        if not squares:
            return None
        prefix = squares[0]
        grid = (math.isqrt(count - prefix),) * 2
    patches = tokens[:, prefix:]
    return patches.transpose(1, 2).reshape(tokens.shape[0], tokens.shape[2], *grid)


def _square(number: int) -> bool:
    return number > 0 and math.isqrt(number) ** 2 == number


def last_conv(net: nn.Module) -> str:
    """Name of the last ``nn.Conv2d`` (``conv_head`` in EfficientNet-Lite)."""
    names = [name for name, module in net.named_modules() if isinstance(module, nn.Conv2d)]
    if not names:
        raise ParameterError(
            f"{type(net).__name__} has no Conv2d layer and no known architecture family; "
            "pass the layer to use (layer=..., CLI --param layer=...)"
        )
    return names[-1]


def _cnn_grid(net: nn.Module, module: nn.Module, activation: torch.Tensor) -> torch.Tensor | None:
    if activation.ndim == 4:
        return activation
    return token_grid(net, activation)


def _swin_grid(net: nn.Module, module: nn.Module, activation: torch.Tensor) -> torch.Tensor | None:
    if activation.ndim == 4:
        return activation if isinstance(module, nn.Conv2d) else activation.permute(0, 3, 1, 2)
    return None


def _last(container_name: str) -> Callable[[nn.Module], str]:
    def layer(net: nn.Module) -> str:
        return f"{container_name}.{len(getattr(net, container_name)) - 1}"

    return layer


def _vit_layer(net: nn.Module) -> str:
    return f"{_last('blocks')(net)}.norm1"


def _is_vit(net: nn.Module) -> bool:
    grid = getattr(getattr(net, "patch_embed", None), "grid_size", None)
    return grid is not None and hasattr(net, "num_prefix_tokens") and hasattr(net, "blocks")


def _is_swin(net: nn.Module) -> bool:
    return str(getattr(net, "output_fmt", "")) == "NHWC" and hasattr(net, "layers")


def _is_convnext(net: nn.Module) -> bool:
    return type(net).__name__ == "ConvNeXt" and hasattr(net, "stages")


CNN = ArchitectureFamily("cnn", lambda net: True, last_conv, _cnn_grid)
"""The fallback: NCHW feature maps, Grad-CAM at the last Conv2d; 3-D tokens by inference."""

VIT = ArchitectureFamily("vit", _is_vit, _vit_layer, _cnn_grid)
"""timm VisionTransformer, DeiT (distilled), EVA: tokens after ``num_prefix_tokens``; Grad-CAM
at the last block's first norm (as pytorch-grad-cam recommends)."""

SWIN = ArchitectureFamily("swin", _is_swin, _last("layers"), _swin_grid)
"""timm SwinTransformer: NHWC stages; Grad-CAM at the last stage."""

CONVNEXT = ArchitectureFamily("convnext", _is_convnext, _last("stages"), _cnn_grid)
"""timm ConvNeXt: NCHW stages; Grad-CAM at the last stage (its last Conv2d is a depthwise
convolution inside a block, before the block's MLP and residual)."""


def spatial_mean(view: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) -> (B, C) by the mean over positions; (B, C) passes through."""
    return view if view.ndim == 2 else view.mean(dim=(2, 3))


def spatial_activation(net: nn.Module, name: str, activation: torch.Tensor) -> torch.Tensor:
    """The activation of layer ``name`` as (B, C, H, W); :class:`ParameterError` naming layers
    that can be used when it cannot be mapped to space."""
    family = family_of(net)
    module = dict(net.named_modules())[name]
    grid = family.to_grid(net, module, activation) if torch.is_tensor(activation) else None
    if grid is None:
        shape = tuple(activation.shape) if torch.is_tensor(activation) else type(activation)
        raise ParameterError(
            f"layer {name!r} of {type(net).__name__} ({family.name}) gives {shape}, which "
            f"cannot be mapped to an image grid; choose a spatial layer such as "
            f"{family.default_layer(net)!r}"
        )
    return grid
