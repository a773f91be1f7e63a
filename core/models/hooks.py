"""Capture activations and gradients at named layers, with hooks that never leak.

Example::

    with capture(net, ["blocks.6", "conv_head"], gradients=True) as cap:
        net(x).sum().backward()
    cap.activations["conv_head"]   # (B, C, h, w)
    cap.gradients["conv_head"]     # same shape
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import torch
from torch import nn

from genlens.core.errors import ParameterError


@dataclass
class Capture:
    """Tensors recorded during one ``with capture(...)`` block, keyed by layer name.

    ``activations`` hold the layer outputs of the last forward pass (still in the autograd graph,
    so objectives can be built on them); ``gradients`` hold d(loss)/d(output) after backward.
    """

    activations: dict[str, torch.Tensor] = field(default_factory=dict)
    gradients: dict[str, torch.Tensor] = field(default_factory=dict)


def resolve_layers(module: nn.Module, names: Sequence[str]) -> dict[str, nn.Module]:
    """Map layer names (as in ``named_modules``) to sub-modules; unknown names raise."""
    available = dict(module.named_modules())
    missing = [name for name in names if name not in available or name == ""]
    if missing:
        sample = ", ".join(list(available)[1:8])
        raise ParameterError(f"unknown layer(s) {missing}; layers look like: {sample}, ...")
    return {name: available[name] for name in names}


@contextmanager
def capture(module: nn.Module, names: Sequence[str], gradients: bool = False) -> Iterator[Capture]:
    """Record the outputs (and optionally output gradients) of the named sub-modules.

    All hooks are removed when the block exits, also when it exits with an exception.
    """
    layers = resolve_layers(module, names)
    record = Capture()
    handles: list[torch.utils.hooks.RemovableHandle] = []

    def make_hook(name: str):
        def hook(_module: nn.Module, _inputs: tuple, output: torch.Tensor) -> None:
            record.activations[name] = output
            if gradients and output.requires_grad:
                output.register_hook(lambda grad: record.gradients.__setitem__(name, grad))

        return hook

    try:
        for name, layer in layers.items():
            handles.append(layer.register_forward_hook(make_hook(name)))
        yield record
    finally:
        for handle in handles:
            handle.remove()


def hook_count(module: nn.Module) -> int:
    """Number of forward/backward hooks registered anywhere in ``module`` (0 when clean)."""
    return sum(
        len(m._forward_hooks) + len(m._forward_pre_hooks) + len(m._backward_hooks)
        for m in module.modules()
    )
