"""Benchmark suites: a classifier, a fixed set of images (with ground truth when available),
a metric set and fixed seeds. Registered by name (built-ins: :mod:`.builtin`, listed in
:mod:`genlens.catalog`); the runner evaluates methods x suites.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from genlens.core.errors import ParameterError
from genlens.core.models import Classifier
from genlens.evaluation.registries import SUITES


@dataclass(frozen=True)
class SuiteData:
    """A suite's inputs.

    Attributes:
        images: (N, C, H, W) in [0, 1] at the classifier's input size.
        target: (N,) explained classes.
        masks: (N, H, W) bool ground-truth evidence, or None when no image has any.
        mask_present: (N,) bool, which images have ground truth (None: all, when ``masks``).
        pixel_scale: (N,) model-input pixels per pixel of the image as stored, for tolerances
            stated at the image's own scale (None: the built-in suites' fixed sizes).
    """

    images: torch.Tensor
    target: torch.Tensor
    masks: torch.Tensor | None = None
    mask_present: torch.Tensor | None = None
    pixel_scale: torch.Tensor | None = None

    def subset(self, indices: torch.Tensor) -> "SuiteData":
        """The images at ``indices`` (K,), with their ground truth."""

        def pick(tensor: torch.Tensor | None) -> torch.Tensor | None:
            return None if tensor is None else tensor[indices.to(tensor.device)]

        return SuiteData(
            pick(self.images),
            pick(self.target),
            pick(self.masks),
            pick(self.mask_present),
            pick(self.pixel_scale),
        )


@dataclass(frozen=True)
class Suite:
    """A benchmark suite.

    Attributes:
        name: registry name.
        classifier: registered classifier name ("" for folder suites: a model must be given).
        load: ``load(classifier) -> SuiteData`` (deterministic).
        metrics: metric names from :mod:`genlens.evaluation.metrics`.
        method_params: per-method overrides (e.g. fewer FIDO steps for small images).
        seed: seed of every explanation and bootstrap.
        batch_size: images per explanation call.
        description: one line for the leaderboard.
        sanity_images: the first ``sanity_images`` images also get the cascading
            model-randomisation test (0 = none); each randomised layer re-explains them.
        sanity_layers: layers randomised cumulatively, output first; empty = every top-level
            module with parameters (:func:`genlens.evaluation.metrics.parameter_layers`).
    """

    name: str
    classifier: str
    load: Callable[[Classifier], SuiteData]
    metrics: tuple[str, ...]
    description: str
    method_params: dict[str, dict] = field(default_factory=dict)
    seed: int = 0
    batch_size: int = 8
    sanity_images: int = 0
    sanity_layers: tuple[str, ...] = ()

    def check_model(self, model: object) -> None:
        """Raise :class:`ParameterError` when ``model`` is None and the suite has no classifier
        of its own (a folder suite)."""
        if model is None and not self.classifier:
            raise ParameterError(f"suite {self.name} has no classifier of its own: give a model")


def register_suite(suite: Suite) -> Suite:
    """Add ``suite`` under its name (names are unique)."""
    return SUITES.register(suite.name, suite)


def get_suite(name: str) -> Suite:
    """The suite called ``name``; unknown names raise :class:`ParameterError`."""
    return SUITES.get(name)


def suite_names() -> list[str]:
    """Registered suite names, sorted."""
    return SUITES.names()
