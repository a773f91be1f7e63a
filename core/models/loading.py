"""``load_classifier``: one function for built-in names, weight files and TorchScript."""

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import timm
import torch
import torchvision
from timm.models import get_pretrained_cfg_value
from torch import nn

from genlens.core.device import resolve_device
from genlens.core.errors import ModelLoadError
from genlens.core.models.classifier import Classifier
from genlens.core.models.model_folder import WEIGHT_FILES, is_model_folder, read_model_folder
from genlens.core.models.preprocessing import Preprocessing
from genlens.core.models.registry import classifier_entry, is_registered
from genlens.core.models.weights import is_torchscript, load_state_dict, load_torchscript

IMAGENET_PREPROCESSING = Preprocessing((224, 224), (0.485, 0.456, 0.406), (0.229, 0.224, 0.225))


def load_classifier(
    name_or_path: str | Path,
    *,
    arch: str | None = None,
    num_classes: int | None = None,
    labels: Sequence[str] | None = None,
    preprocessing: Preprocessing | None = None,
    model_args: dict[str, Any] | None = None,
    trust_code: bool = False,
    device: str | torch.device | None = "auto",
) -> Classifier:
    """Load a classifier by registered name, or from a weights file.

    Args:
        name_or_path: a registered name (see ``genlens models``), a model folder in the timm /
            Hugging Face layout (``config.json`` + ``model.safetensors``, see
            :mod:`~genlens.core.models.model_folder`; the other arguments override its
            config), a path to ``.safetensors`` / ``.pt`` / ``.pth`` weights (needs ``arch``),
            or a TorchScript archive (needs ``trust_code=True``).
        arch: timm or torchvision architecture name for a weights file, e.g. ``"resnet18"``.
        num_classes: output classes; inferred from the last 2-D weight of the file when omitted.
        labels: class names; ``"class 0"``, ``"class 1"``, ... when omitted.
        preprocessing: input contract; ImageNet mean/std at 224 with crop 0.875 when omitted.
        model_args: further keyword arguments of the architecture's builder, e.g.
            ``{"img_size": 64, "patch_size": 8}`` for a timm ViT.
        trust_code: allow TorchScript archives, which contain executable code.
        device: ``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda"``...

    Returns:
        A frozen :class:`Classifier` in eval mode on ``device``.

    Raises:
        ModelLoadError: unknown name, missing/unsafe/corrupt file, or weights that do not fit.
    """
    target_device = resolve_device(device)
    name = str(name_or_path)
    if is_registered(name):
        return classifier_entry(name).factory().to(target_device)
    path = Path(name_or_path)
    if not path.exists():
        raise ModelLoadError(
            f"{name!r} is neither a registered model nor an existing file (see `genlens models`)"
        )
    if path.is_dir():
        if not is_model_folder(path):
            raise ModelLoadError(f"{path}: a model folder needs a config.json (timm / hub layout)")
        folder = read_model_folder(path)
        return load_classifier(
            folder.weights,
            arch=arch or folder.architecture,
            num_classes=num_classes or folder.num_classes,
            labels=labels if labels is not None else folder.labels,
            preprocessing=preprocessing or folder.preprocessing,
            model_args={**folder.model_args, **(model_args or {})},
            device=target_device,
        )
    preprocessing = preprocessing or IMAGENET_PREPROCESSING
    if arch is None:
        if not is_torchscript(path):
            raise ModelLoadError(
                f"{path.name}: give the architecture (arch=..., CLI --arch) for a weights file"
            )
        net = load_torchscript(path, trust_code)
        num_classes = num_classes or len(labels or []) or _probe_classes(net, preprocessing)
    else:
        state_dict = load_state_dict(path)
        num_classes = num_classes or _infer_num_classes(state_dict, path, arch)
        net = build_architecture(arch, num_classes, preprocessing.channels, model_args, path)
        _load_strict(net, state_dict, path, arch)
    labels = list(labels) if labels is not None else [f"class {i}" for i in range(num_classes)]
    if len(labels) != num_classes:
        raise ModelLoadError(f"{len(labels)} labels given for a model with {num_classes} classes")
    in_folder = path.name in WEIGHT_FILES and is_model_folder(path.parent)
    name = path.parent.name if in_folder else path.name
    return Classifier(name, net, preprocessing, labels).to(target_device)


def build_architecture(
    arch: str,
    num_classes: int,
    in_chans: int = 3,
    model_args: dict[str, Any] | None = None,
    source: Path | None = None,
) -> nn.Module:
    """An untrained timm or torchvision network called ``arch``; ``model_args`` are further
    keyword arguments of its builder (a model folder's, e.g. ``img_size``); ``source`` names
    the file or folder in errors."""
    model_args = model_args or {}
    where = f"{source.name}: " if source else ""
    try:
        if arch in timm.list_models():
            return timm.create_model(
                arch, pretrained=False, num_classes=num_classes, in_chans=in_chans, **model_args
            )
        if arch in torchvision.models.list_models():
            return torchvision.models.get_model(
                arch, weights=None, num_classes=num_classes, **model_args
            )
    except (TypeError, ValueError, AssertionError) as exc:
        raise ModelLoadError(f"{where}cannot build {arch} with {model_args}: {exc}") from None
    raise ModelLoadError(
        f"{where}unknown architecture {arch!r}: not a timm or torchvision model name"
    )


def _infer_num_classes(state_dict: dict[str, torch.Tensor], path: Path, arch: str) -> int:
    """Rows of the classifier weight: timm's ``pretrained_cfg["classifier"]`` layer for a timm
    architecture (safetensors files sort their keys, so Swin's ``head.fc`` is not the last
    matrix), else the last 2-D tensor (torchvision's ``fc`` / ``classifier.N``)."""
    head = get_pretrained_cfg_value(arch, "classifier") if arch in timm.list_models() else None
    weight = state_dict.get(f"{head}.weight") if isinstance(head, str) else None
    if weight is not None and weight.ndim == 2:
        return int(weight.shape[0])
    matrices = [tensor for tensor in state_dict.values() if tensor.ndim == 2]
    if not matrices:
        raise ModelLoadError(f"{path.name}: cannot infer the number of classes; pass num_classes")
    return int(matrices[-1].shape[0])


def _probe_classes(net: nn.Module, preprocessing: Preprocessing) -> int:
    with torch.no_grad():
        out = net(torch.zeros(1, preprocessing.channels, *preprocessing.input_size))
    return int(out.shape[-1])


def _load_strict(
    net: nn.Module, state_dict: dict[str, torch.Tensor], path: Path, arch: str
) -> None:
    expected = net.state_dict()
    missing = [key for key in expected if key not in state_dict]
    unexpected = [key for key in state_dict if key not in expected]
    wrong = [
        key
        for key in expected
        if key in state_dict and tuple(state_dict[key].shape) != tuple(expected[key].shape)
    ]
    problems = [
        f"{len(keys)} {what} (e.g. {', '.join(keys[:3])})"
        for what, keys in (
            ("missing keys", missing),
            ("unexpected keys", unexpected),
            ("tensors of another shape", wrong),
        )
        if keys
    ]
    if problems:
        raise ModelLoadError(f"{path.name} does not fit {arch}: {'; '.join(problems)}")
    net.load_state_dict(state_dict, strict=True)
