"""Run a classifier and collect what objectives need, with hooks that never outlive a run."""

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import torch
from torch import nn

from genlens.core.featviz.objectives import ObjectiveContext
from genlens.core.models import Classifier

Forward = Callable[..., ObjectiveContext]


@contextmanager
def recording(
    classifier: Classifier, output_layers: Sequence[str] = (), input_layers: Sequence[str] = ()
) -> Iterator[Forward]:
    """Yield ``forward(fed, images=None) -> ObjectiveContext``.

    ``fed`` (B, C, H, W) in [0, 1] goes through the classifier; ``images`` (default ``fed``) is
    what image penalties see, e.g. the untransformed parameterized image. Layer outputs reach
    the objectives as (B, C) or (B, C, h, w) (:meth:`~genlens.core.models.Classifier.channels_view`:
    ViT patch tokens on their grid, Swin's NHWC permuted).

    Forward hooks on ``output_layers`` and pre-hooks on ``input_layers`` exist only inside the
    block; they are removed on exit, also when the block raises.
    """
    inputs: dict[str, torch.Tensor] = {}
    handles: list[torch.utils.hooks.RemovableHandle] = []

    def make_pre_hook(name: str) -> Callable[[nn.Module, tuple], None]:
        def hook(_module: nn.Module, args: tuple) -> None:
            inputs[name] = args[0]

        return hook

    with classifier.capture(list(output_layers)) as record:
        try:
            for name in dict.fromkeys(input_layers):
                layer = classifier.layer(name)
                handles.append(layer.register_forward_pre_hook(make_pre_hook(name)))

            def forward(fed: torch.Tensor, images: torch.Tensor | None = None) -> ObjectiveContext:
                logits = classifier(fed)
                seen = fed if images is None else images
                outputs = {
                    name: classifier.channels_view(name, activation)
                    for name, activation in record.activations.items()
                }
                return ObjectiveContext(seen, logits, outputs, dict(inputs))

            yield forward
        finally:
            for handle in handles:
                handle.remove()
