"""Registry of classifiers loadable by name (built-ins and models trained by genlens)."""

from collections.abc import Callable
from dataclasses import dataclass

from core.errors import ModelLoadError
from core.models.classifier import Classifier


@dataclass(frozen=True)
class ClassifierEntry:
    """A named classifier: ``factory()`` builds it on CPU (weights loaded, frozen, eval)."""

    name: str
    description: str
    factory: Callable[[], Classifier]


_REGISTRY: dict[str, ClassifierEntry] = {}


def register_classifier(name: str, description: str, factory: Callable[[], Classifier]) -> None:
    """Make ``factory`` loadable as ``load_classifier(name)``; a name is registered once."""
    if name in _REGISTRY:
        raise ValueError(f"classifier {name!r} is already registered")
    _REGISTRY[name] = ClassifierEntry(name, description, factory)


def registered_classifiers() -> list[ClassifierEntry]:
    """All registered classifiers, sorted by name."""
    return sorted(_REGISTRY.values(), key=lambda entry: entry.name)


def classifier_entry(name: str) -> ClassifierEntry:
    """The entry called ``name``; unknown names raise :class:`ModelLoadError` listing the known."""
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
        raise ModelLoadError(f"unknown model {name!r}; registered models: {known}") from None


def is_registered(name: str) -> bool:
    return name in _REGISTRY
