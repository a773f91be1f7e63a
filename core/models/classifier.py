"""The :class:`Classifier`: a frozen network plus everything needed to feed and read it."""

import functools
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import replace

import torch
from PIL import Image
from torch import nn

from genlens.core.device import reuse_freed_memory
from genlens.core.errors import ParameterError
from genlens.core.models.execution import ExecutionPolicy
from genlens.core.models.families import family_of, spatial_activation, spatial_mean
from genlens.core.models.hooks import Capture, capture, resolve_layers
from genlens.core.models.preprocessing import Preprocessing

LOGGER = logging.getLogger("genlens")


class Classifier(nn.Module):
    """A frozen image classifier that takes **[0, 1] images** and returns logits.

    ``forward(x)`` with ``x`` of shape (B, C, H, W) in [0, 1] normalizes with the model's own
    mean/std and returns logits (B, num_classes). Parameters are frozen and the module is in
    eval mode, so input gradients are cheap (no weight gradients are ever computed).

    A classifier built by :meth:`wrap` borrows the caller's module instead: it is frozen only
    inside :meth:`frozen`, which every genlens entry point enters, and left as it was after.

    Attributes:
        name: registry name or file name the classifier was loaded from.
        net: the underlying network (expects normalized input); layer names refer to it.
        preprocessing: input size, normalization and resize/crop policy.
        labels: human-readable class names, ``labels[i]`` for logit ``i``.
    """

    def __init__(
        self,
        name: str,
        net: nn.Module,
        preprocessing: Preprocessing,
        labels: Sequence[str],
        freeze: bool = True,
    ):
        super().__init__()
        reuse_freed_memory()
        self.name = name
        self.net = net
        self.policy = ExecutionPolicy(channels_last=False)
        self.__dict__["_compiled"] = None  # not a sub-module: state_dict stays the network's
        self.compile_warmup_s: float | None = None
        if freeze:
            _freeze(net)
            self.apply_policy(ExecutionPolicy())
        self.preprocessing = preprocessing
        self.labels = list(labels)
        channels = preprocessing.channels
        self.register_buffer("mean", torch.tensor(preprocessing.mean).view(1, channels, 1, 1))
        self.register_buffer("std", torch.tensor(preprocessing.std).view(1, channels, 1, 1))
        self.training = False

    @classmethod
    def wrap(
        cls,
        module: nn.Module,
        input_size: tuple[int, int],
        mean: Sequence[float] | None = None,
        std: Sequence[float] | None = None,
        labels: Sequence[str] | None = None,
        channels: int = 3,
        name: str | None = None,
    ) -> "Classifier":
        """A classifier over the caller's ``module`` (logits from normalised input), left as it
        is: mode and ``requires_grad`` change only inside :meth:`frozen`.

        Args:
            module: takes (B, C, H, W) ``(x - mean) / std`` and returns logits (B, K).
            input_size: (H, W) the module is fed.
            mean, std: per-channel normalisation of [0, 1] input (default: none, so the module
                sees [0, 1] images, as Captum's ``forward_func`` does).
            labels: class names (default ``"class i"``, K found by one forward pass).
            channels: input channels when ``mean`` is not given.
            name: shown in results (default: the module's class name).
        """
        if not isinstance(module, nn.Module):
            raise ParameterError(f"expected a torch.nn.Module, got {type(module).__name__}")
        channels = len(mean) if mean is not None else channels
        preprocessing = Preprocessing(
            tuple(input_size),
            tuple(mean) if mean is not None else (0.0,) * channels,
            tuple(std) if std is not None else (1.0,) * channels,
            1.0,
            "bilinear",
        )
        device = next(iter(module.parameters()), torch.empty(0)).device
        if labels is None:
            with _frozen(module), torch.no_grad():
                probe = torch.zeros(1, channels, *input_size, device=device)
                labels = [f"class {i}" for i in range(module(probe).shape[-1])]
        classifier = cls(name or type(module).__name__, module, preprocessing, labels, False)
        return classifier.to(device)

    def apply_policy(self, policy: ExecutionPolicy) -> "Classifier":
        """Run with ``policy`` from now on (converts the network's memory format; compiles it
        when asked). A wrapped module keeps NCHW unless a policy says otherwise.

        With ``compile``, the first forward pass compiles the network: its seconds are kept in
        ``compile_warmup_s`` and logged (logger ``genlens``); a worker process reuses the
        compiled classifier for all its jobs, so it pays the warm-up once."""
        if not isinstance(policy, ExecutionPolicy):
            raise ParameterError(f"expected an ExecutionPolicy, got {policy!r}")
        layout = torch.channels_last if policy.channels_last else torch.contiguous_format
        self.net.to(memory_format=layout)
        self.__dict__["_compiled"] = torch.compile(self.net) if policy.compile else None
        self.compile_warmup_s = None
        self.policy = policy
        return self

    @contextmanager
    def running_in(self, precision: str) -> Iterator["Classifier"]:
        """Context: forward passes in ``precision`` (memory format and compilation unchanged);
        the policy is restored on exit."""
        saved = self.policy
        self.policy = replace(saved, precision=precision)
        try:
            yield self
        finally:
            self.policy = saved

    def frozen(self) -> AbstractContextManager["Classifier"]:
        """Context: ``net`` in eval mode without parameter gradients, restored on exit."""
        return _frozen(self.net, self)

    def train(self, mode: bool = True) -> "Classifier":
        """Always stays in eval mode: explanations must not change batch-norm statistics
        (a wrapped module is put in eval mode by :meth:`frozen`, not here)."""
        self.training = False
        return self

    @property
    def num_classes(self) -> int:
        return len(self.labels)

    @property
    def device(self) -> torch.device:
        return self.mean.device

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Logits (B, num_classes), float32, for images (B, C, H, W) in [0, 1], run with the
        classifier's :class:`ExecutionPolicy` (memory format, precision, compilation)."""
        inputs = self.policy.prepare((images - self.mean) / self.std)
        compiled = self.__dict__["_compiled"]
        started = time.perf_counter()
        with self.policy.autocast(inputs.device):
            logits = (self.net if compiled is None else compiled)(inputs)
        if compiled is not None and self.compile_warmup_s is None:
            self.compile_warmup_s = time.perf_counter() - started
            LOGGER.info("%s: torch.compile warm-up %.1f s", self.name, self.compile_warmup_s)
        return logits.float()

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

    def spatial_layer(self) -> str:
        """The default layer of Grad-CAM-like methods for this network's architecture family
        (:mod:`~genlens.core.models.families`): the last Conv2d of a CNN, the last block's
        ``norm1`` of a ViT, the last stage of Swin and ConvNeXt."""
        return family_of(self.net).default_layer(self.net)

    def spatial(self, name: str, activation: torch.Tensor) -> torch.Tensor:
        """The activation (or gradient) of layer ``name`` as (B, C, H, W): feature maps as they
        are, ViT patch tokens on their grid (class and register tokens dropped), Swin's NHWC
        permuted. :class:`ParameterError` naming a usable layer when it is not spatial."""
        return spatial_activation(self.net, name, activation)

    def channels_view(self, name: str, activation: torch.Tensor) -> torch.Tensor:
        """Layer ``name``'s activation as (B, C) (a vector layer, unchanged) or (B, C, H, W)
        (:meth:`spatial`): the shapes feature-visualization objectives and pooling read."""
        return activation if activation.ndim == 2 else self.spatial(name, activation)

    def pooled(self, name: str, activation: torch.Tensor) -> torch.Tensor:
        """Spatial mean of layer ``name``'s activation, (B, C) (:meth:`channels_view`)."""
        return spatial_mean(self.channels_view(name, activation))

    def forward_batch(self, size: tuple[int, int]) -> int:
        """Images of ``size`` (H, W) per forward pass on the heavy paths, from the policy."""
        return self.policy.forward_batch(self.device, size)

    @torch.no_grad()
    def predict(self, images: torch.Tensor) -> torch.Tensor:
        """Class probabilities (B, num_classes) for [0, 1] images, without gradients."""
        return self(images.to(self.device)).softmax(dim=1)


def _freeze(module: nn.Module) -> None:
    module.eval()
    for parameter in module.parameters():
        parameter.requires_grad_(False)


@contextmanager
def _frozen(module: nn.Module, value: object = None) -> Iterator:
    """Freeze ``module`` for the block, then restore every sub-module's mode and every
    parameter's ``requires_grad``; yields ``value``."""
    modes = [(sub, sub.training) for sub in module.modules()]
    grads = [(parameter, parameter.requires_grad) for parameter in module.parameters()]
    _freeze(module)
    try:
        yield value
    finally:
        for sub, mode in modes:
            sub.training = mode
        for parameter, requires_grad in grads:
            parameter.requires_grad_(requires_grad)


def borrow(
    model: "Classifier | nn.Module", images: torch.Tensor | None = None
) -> AbstractContextManager["Classifier"]:
    """Context yielding a frozen :class:`Classifier` for ``model``: a classifier, or a plain
    module fed ``images`` (B, C, H, W) in [0, 1] as they are (:meth:`Classifier.wrap` at their
    size). The caller's module is as it was afterwards (mode, ``requires_grad``).

    Raises:
        ParameterError: ``model`` is neither, or a plain module comes without ``images``.
    """
    if isinstance(model, Classifier):
        return model.frozen()
    if not isinstance(model, nn.Module):
        raise ParameterError(
            f"model must be a genlens Classifier or a torch.nn.Module, got {type(model).__name__}"
        )
    if images is None or not isinstance(images, torch.Tensor) or images.ndim != 4:
        raise ParameterError(
            "a plain module needs its input size: pass Classifier.wrap(module, input_size=...)"
        )
    return Classifier.wrap(model, tuple(images.shape[-2:]), channels=images.shape[1]).frozen()


def accepts_modules(function: Callable) -> Callable:
    """Decorator for entry points whose first argument is the classifier: it may also be a
    plain ``nn.Module`` (see :func:`borrow`; an images tensor passed second or as ``images=``
    gives its input size). The function runs with a frozen :class:`Classifier`."""

    @functools.wraps(function)
    def call(model: "Classifier | nn.Module", *args, **kwargs):
        images = kwargs.get("images", args[0] if args else None)
        with borrow(model, images if isinstance(images, torch.Tensor) else None) as classifier:
            return function(classifier, *args, **kwargs)

    return call
