"""Registry of saliency metrics, so suites and the leaderboard name metrics instead of branching.

A metric is a callable ``metric(context) -> Tensor (B,)`` over a :class:`MetricInput`, with a
direction (``higher_is_better``) the leaderboard uses for sorting.
"""

from collections.abc import Callable
from dataclasses import dataclass

import torch

from genlens.core.models import Classifier
from genlens.evaluation.registries import METRICS


@dataclass(frozen=True)
class MetricInput:
    """Everything a metric may need for one batch.

    Attributes:
        classifier: the model whose decision is explained.
        images: (B, C, H, W) in [0, 1] at the classifier's input size.
        maps: (B, H, W) saliency, higher = more salient.
        target: (B,) explained class per image.
        masks: (B, H, W) bool ground-truth evidence masks, or None when the suite has none.
        pixel_scale: (B,) model-input pixels per pixel of the stored image, or None (the
            built-in suites, whose tolerances are stated at the model's input size).
    """

    classifier: Classifier
    images: torch.Tensor
    maps: torch.Tensor
    target: torch.Tensor
    masks: torch.Tensor | None = None
    pixel_scale: torch.Tensor | None = None

    def subset(self, keep: torch.Tensor) -> "MetricInput":
        """The images where the (B,) bool ``keep`` is true."""

        def pick(tensor: torch.Tensor | None) -> torch.Tensor | None:
            return None if tensor is None else tensor[keep.to(tensor.device)]

        return MetricInput(
            self.classifier,
            pick(self.images),
            pick(self.maps),
            pick(self.target),
            pick(self.masks),
            pick(self.pixel_scale),
        )


@dataclass(frozen=True)
class MetricSpec:
    """A registered metric: ``compute`` returns one value per image (B,); ``aggregate`` reduces."""

    name: str
    compute: Callable[[MetricInput], torch.Tensor]
    higher_is_better: bool
    needs_masks: bool
    description: str
    class_balanced: bool = False

    def aggregate(self, values: torch.Tensor, classes: torch.Tensor) -> float:
        """Mean over images, or mean of per-class means when ``class_balanced`` (pointing game)."""
        if not self.class_balanced:
            return float(values.mean())
        return float(torch.stack([values[classes == c].mean() for c in classes.unique()]).mean())


def register_metric(spec: MetricSpec) -> MetricSpec:
    """Add ``spec`` to the registry (names are unique)."""
    return METRICS.register(spec.name, spec)


def metric(name: str) -> MetricSpec:
    """The metric called ``name``; unknown names raise :class:`ParameterError`."""
    return METRICS.get(name)


def metric_names() -> list[str]:
    """Registered metric names, sorted."""
    return METRICS.names()
