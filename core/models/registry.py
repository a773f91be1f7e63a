"""Registry of classifiers loadable by name (built-ins and models trained by genlens)."""

from collections.abc import Callable
from dataclasses import dataclass

from core.errors import ModelLoadError
from core.models.classifier import Classifier
from core.registry import Registry


@dataclass(frozen=True)
class ClassifierEntry:
    """A named classifier: ``factory()`` builds it on CPU (weights loaded, frozen, eval)."""

    name: str
    description: str
    factory: Callable[[], Classifier]


CLASSIFIERS: Registry[ClassifierEntry] = Registry("model", error=ModelLoadError)


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
