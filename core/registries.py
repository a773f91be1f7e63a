"""The registries of the library's families, as leaves: classifiers, saliency methods,
in-fillers and generator priors.

Nothing here imports torch or a model: :mod:`genlens.catalog` fills these registries with
:class:`~genlens.core.registry.Lazy` references on their first use, so listing names (help
texts, ``genlens models``) is instant and the heavy module of an entry is imported only when
the entry is used. Register through the families' functions
(:func:`~genlens.core.models.register_classifier`,
:func:`~genlens.core.saliency.register_method`, :func:`~genlens.core.saliency.register_infiller`,
:func:`~genlens.core.featviz.register_prior`), which check what they are given.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from genlens.core.errors import ModelLoadError
from genlens.core.registry import Registry


@dataclass(frozen=True)
class ClassifierEntry:
    """A named classifier: ``factory()`` builds it on CPU (weights loaded, frozen, eval)."""

    name: str
    description: str
    factory: Callable[[], Any]


CLASSIFIERS: Registry[ClassifierEntry] = Registry("model", error=ModelLoadError)
"""Classifiers loadable by name (``load_classifier(name)``)."""

METHODS: Registry[Any] = Registry("saliency method")
"""Saliency methods (:class:`genlens.core.saliency.Method`) by name."""

INFILLERS: Registry[Callable[..., Any]] = Registry("in-filler", replace=True)
"""In-filler factories ``factory(classifier) -> Infiller`` by name."""

PRIORS: Registry[Callable[..., Any]] = Registry("generator prior", replace=True)
"""Generator-prior factories ``factory(device) -> GeneratorPrior`` by name."""

FAMILIES: Registry[Any] = Registry("architecture family")
"""Architecture families (:class:`genlens.core.models.families.ArchitectureFamily`), tried in
registration order to map a network's layers to (B, C, H, W)."""
