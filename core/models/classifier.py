"""The :class:`Classifier`: a frozen network plus everything needed to feed and read it."""

from collections.abc import Sequence
from contextlib import AbstractContextManager

import torch
from PIL import Image
from torch import nn

from genlens.core.errors import ParameterError
from genlens.core.models.hooks import Capture, capture, resolve_layers
from genlens.core.models.preprocessing import Preprocessing


class Classifier(nn.Module):
    """A frozen image classifier that takes **[0, 1] images** and returns logits.

    ``forward(x)`` with ``x`` of shape (B, C, H, W) in [0, 1] normalizes with the model's own
    mean/std and returns logits (B, num_classes). Parameters are frozen and the module is in
    eval mode, so input gradients are cheap (no weight gradients are ever computed).

    Attributes:
        name: registry name or file name the classifier was loaded from.
        net: the underlying network (expects normalized input); layer names refer to it.
        preprocessing: input size, normalization and resize/crop policy.
        labels: human-readable class names, ``labels[i]`` for logit ``i``.
    """

    def __init__(
        self, name: str, net: nn.Module, preprocessing: Preprocessing, labels: Sequence[str]
    ):
        super().__init__()
        self.name = name
        self.net = net.eval()
        for parameter in self.net.parameters():
            parameter.requires_grad_(False)
        self.preprocessing = preprocessing
        self.labels = list(labels)
        channels = preprocessing.channels
        self.register_buffer("mean", torch.tensor(preprocessing.mean).view(1, channels, 1, 1))
        self.register_buffer("std", torch.tensor(preprocessing.std).view(1, channels, 1, 1))
        self.eval()

    def train(self, mode: bool = True) -> "Classifier":
        """Always stays in eval mode: explanations must not change batch-norm statistics."""
        return super().train(False)

    @property
    def num_classes(self) -> int:
        return len(self.labels)

    @property
    def device(self) -> torch.device:
        return self.mean.device

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Logits (B, num_classes) for images (B, C, H, W) in [0, 1]."""
        return self.net((images - self.mean) / self.std)

    def prepare(self, images: Sequence[Image.Image]) -> torch.Tensor:
        """Resize/crop PIL images to a (B, C, H, W) [0, 1] batch on this classifier's device."""
        return self.preprocessing.batch(list(images)).to(self.device)

    def check_input(self, images: torch.Tensor) -> None:
        """Raise :class:`ParameterError` unless ``images`` is (B, C, H, W) with the right C."""
        if images.ndim != 4 or images.shape[1] != self.preprocessing.channels:
            raise ParameterError(
                f"{self.name} expects images of shape (B, {self.preprocessing.channels}, H, W), "
                f"got {tuple(images.shape)}"
            )

    def check_target(self, target: torch.Tensor) -> None:
        """Raise :class:`ParameterError` when a class index is outside [0, num_classes)."""
        if target.numel() and (int(target.min()) < 0 or int(target.max()) >= self.num_classes):
            raise ParameterError(
                f"target class out of range for {self.name}: "
                f"valid classes are 0..{self.num_classes - 1}"
            )

    def layer_names(self) -> list[str]:
        """Names of all sub-modules of ``net`` that hooks can attach to (depth-first order)."""
        return [name for name, _ in self.net.named_modules() if name]

    def layer(self, name: str) -> nn.Module:
        """The sub-module of ``net`` called ``name``."""
        return resolve_layers(self.net, [name])[name]

    def capture(
        self, layers: Sequence[str], gradients: bool = False
    ) -> AbstractContextManager[Capture]:
        """Context manager recording activations (and gradients) at ``layers`` of ``net``."""
        return capture(self.net, layers, gradients=gradients)

    @torch.no_grad()
    def predict(self, images: torch.Tensor) -> torch.Tensor:
        """Class probabilities (B, num_classes) for [0, 1] images, without gradients."""
        return self(images.to(self.device)).softmax(dim=1)
