"""Benchmark suites: a classifier, a fixed set of images (with ground truth when available),
a metric set and fixed seeds. Registered by name (built-ins: :mod:`.builtin`, listed in
:mod:`genlens.catalog`); the runner evaluates methods x suites.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from genlens.core.models import Classifier
from genlens.evaluation.registries import SUITES


@dataclass(frozen=True)
class SuiteData:
    """Images (N, C, H, W) in [0, 1], explained classes (N,), GT masks (N, H, W) bool or None."""

    images: torch.Tensor
    target: torch.Tensor
    masks: torch.Tensor | None = None


@dataclass(frozen=True)
class Suite:
    """A benchmark suite.

    Attributes:
        name: registry name.
        classifier: registered classifier name.
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


def register_suite(suite: Suite) -> Suite:
    """Add ``suite`` under its name (names are unique)."""
    return SUITES.register(suite.name, suite)


def get_suite(name: str) -> Suite:
    """The suite called ``name``; unknown names raise :class:`ParameterError`."""
    return SUITES.get(name)


def suite_names() -> list[str]:
    """Registered suite names, sorted."""
    return SUITES.names()
