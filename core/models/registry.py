"""Classifiers loadable by name: built-ins and models trained by genlens (see
:mod:`genlens.catalog`), plus any a plugin registers."""

from collections.abc import Callable

from genlens.core.models.classifier import Classifier
from genlens.core.registries import CLASSIFIERS, ClassifierEntry


def register_classifier(name: str, description: str, factory: Callable[[], Classifier]) -> None:
    """Make ``factory`` loadable as ``load_classifier(name)``; a name is registered once."""
    CLASSIFIERS.register(name, ClassifierEntry(name, description, factory))


def registered_classifiers() -> list[ClassifierEntry]:
    """All registered classifiers, sorted by name."""
    return [CLASSIFIERS.get(name) for name in CLASSIFIERS.names()]


def classifier_entry(name: str) -> ClassifierEntry:
    """The entry called ``name``; unknown names raise :class:`ModelLoadError` listing the known."""
    return CLASSIFIERS.get(name)


def is_registered(name: str) -> bool:
    return name in CLASSIFIERS
