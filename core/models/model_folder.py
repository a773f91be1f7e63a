"""Local model folders in the timm / Hugging Face hub layout, read offline.

A folder holds ``config.json`` (as timm's ``save_for_hf`` writes it) and ``model.safetensors``
(or a ``pytorch_model.bin`` state dict, read without running code):

.. code-block:: json

    {"architecture": "vit_tiny_patch16_224", "num_classes": 10,
     "label_names": ["T-shirt", "..."],
     "model_args": {"img_size": [64, 64], "patch_size": 8},
     "pretrained_cfg": {"input_size": [3, 64, 64], "mean": [0.5, 0.5, 0.5],
                        "std": [0.5, 0.5, 0.5], "crop_pct": 0.9, "interpolation": "bicubic"}}

``architecture`` and ``pretrained_cfg.input_size/mean/std`` are required; ``num_classes`` is
taken from the weights when absent, ``crop_pct`` defaults to 0.875 and ``interpolation`` to
bicubic, as in timm.
"""

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from genlens.core.errors import ModelLoadError
from genlens.core.models.preprocessing import Preprocessing

CONFIG = "config.json"
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
MAX_CONFIG_BYTES = 4 * 2**20
INTERPOLATIONS = ("bicubic", "bilinear", "nearest")


@dataclass(frozen=True)
class ModelFolder:
    """What a folder's ``config.json`` says, checked.

    Attributes:
        weights: the weights file (the first of :data:`WEIGHT_FILES` present).
        architecture: timm (or torchvision) architecture name.
        num_classes: output classes, or ``None`` to infer from the weights.
        labels: ``label_names``, or ``None``.
        preprocessing: from ``pretrained_cfg`` (input size, mean, std, crop, interpolation).
        model_args: keyword arguments of the architecture's builder (e.g. ``img_size``).
    """

    weights: Path
    architecture: str
    num_classes: int | None
    labels: list[str] | None
    preprocessing: Preprocessing
    model_args: dict[str, Any] = field(default_factory=dict)


def is_model_folder(path: Path) -> bool:
    """Whether ``path`` is a folder with a ``config.json``."""
    return path.is_dir() and (path / CONFIG).is_file()


def read_model_folder(path: Path) -> ModelFolder:
    """The checked contents of a model folder; :class:`ModelLoadError` names what is wrong."""
    config_path = path / CONFIG
    if config_path.stat().st_size > MAX_CONFIG_BYTES:
        raise ModelLoadError(f"{config_path}: over {MAX_CONFIG_BYTES:,} bytes")
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelLoadError(f"{config_path}: not JSON ({exc})") from None
    if not isinstance(config, dict):
        raise ModelLoadError(f"{config_path}: a JSON object is expected")
    weights = next((path / name for name in WEIGHT_FILES if (path / name).is_file()), None)
    if weights is None:
        raise ModelLoadError(f"{path}: no weights file ({' or '.join(WEIGHT_FILES)})")
    architecture = config.get("architecture")
    if not isinstance(architecture, str) or not architecture:
        raise ModelLoadError(f'{config_path}: "architecture" (a timm model name) is required')
    num_classes = config.get("num_classes")
    if num_classes is not None and (not isinstance(num_classes, int) or num_classes < 1):
        raise ModelLoadError(f'{config_path}: "num_classes" must be a positive integer')
    labels = config.get("label_names")
    if labels is not None and not (
        isinstance(labels, list) and labels and all(isinstance(x, str) for x in labels)
    ):
        raise ModelLoadError(f'{config_path}: "label_names" must be a list of names')
    model_args = config.get("model_args", {})
    if not isinstance(model_args, dict):
        raise ModelLoadError(f'{config_path}: "model_args" must be an object')
    return ModelFolder(
        weights,
        architecture,
        num_classes,
        labels,
        _preprocessing(config.get("pretrained_cfg"), config_path),
        {k: v for k, v in model_args.items() if k not in ("num_classes", "in_chans")},
    )


def _preprocessing(cfg: Any, config_path: Path) -> Preprocessing:
    """:class:`Preprocessing` from a timm ``pretrained_cfg``."""
    if not isinstance(cfg, dict):
        raise ModelLoadError(f'{config_path}: "pretrained_cfg" (input_size, mean, std) is required')
    size, mean, std = cfg.get("input_size"), cfg.get("mean"), cfg.get("std")
    if not (_numbers(size, 3) and all(int(v) == v and v > 0 for v in size)):
        raise ModelLoadError(f'{config_path}: "pretrained_cfg.input_size" must be [C, H, W]')
    channels = int(size[0])
    if not (_numbers(mean, channels) and _numbers(std, channels) and all(s > 0 for s in std)):
        raise ModelLoadError(
            f'{config_path}: "pretrained_cfg.mean" and "std" need {channels} numbers each '
            "(std > 0), one per input channel"
        )
    crop = cfg.get("crop_pct", 0.875)
    interpolation = cfg.get("interpolation", "bicubic")
    if not (isinstance(crop, int | float) and 0 < crop <= 1):
        raise ModelLoadError(f'{config_path}: "pretrained_cfg.crop_pct" must be in (0, 1]')
    if interpolation not in INTERPOLATIONS:
        raise ModelLoadError(
            f'{config_path}: "pretrained_cfg.interpolation" must be one of '
            f"{', '.join(INTERPOLATIONS)}"
        )
    return Preprocessing(
        (int(size[1]), int(size[2])), tuple(mean), tuple(std), float(crop), interpolation
    )


def _numbers(values: Any, count: int) -> bool:
    return (
        isinstance(values, list)
        and len(values) == count
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
    )
