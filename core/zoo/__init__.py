"""Trained models shipped with genlens, one folder each: ``model.safetensors`` + ``card.json``.

The card says what a model is (``kind``: classifier | infiller | prior | conditional), which
``world`` it belongs to (``fmnist`` 32x32, ``blockfashion`` 64x64, ``faces`` 64x64 RGB), its
metrics, the command that reproduces it, its seed and wall time. :func:`zoo_models` lists them.

Names everywhere:

* classifiers: ``load_classifier("fmnist-cnn")`` (registered by ``core.models`` at import).
* in-fillers (after :func:`register_zoo`): ``learned-<world>`` (e.g. ``learned-fmnist``), and
  ``learned``, which picks the in-filler of the classifier's world: the world in the card of a
  zoo classifier, otherwise the world whose image size and channels match the classifier's
  input (a 32x32 grayscale classifier gets ``learned-fmnist``).
* generator priors (after :func:`register_zoo`): ``<world>-deepsim`` (e.g. ``fmnist-deepsim``)
  in the DGN-AM prior registry.
* conditional generators (kind ``conditional``, feature editor): ``fmnist-conditional`` and
  ``faces-conditional``, loaded by name with
  ``core.generative.conditional.load_conditional(name)``.

:func:`register_zoo` is idempotent; ``demo.cli`` calls it, other entry points (worker, notebooks)
call it once at start-up.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

ZOO_DIR = Path(__file__).parent


@dataclass(frozen=True)
class ZooModel:
    """One shipped model: its folder name, kind, world and card."""

    name: str
    kind: str
    world: str
    folder: Path
    card: dict[str, Any]

    @property
    def description(self) -> str:
        metrics = ", ".join(
            f"{key} {value:.3f}"
            for key, value in self.card.get("metrics", {}).items()
            if isinstance(value, float)
        )
        return f"genlens {self.kind} for the {self.world} world ({metrics})"


@cache
def zoo_models() -> tuple[ZooModel, ...]:
    """Every shipped model, sorted by name."""
    models = []
    for card_path in sorted(ZOO_DIR.glob("*/card.json")):
        card = json.loads(card_path.read_text())
        folder = card_path.parent
        models.append(ZooModel(folder.name, card["kind"], card["world"], folder, card))
    return tuple(models)


def zoo_model(name: str) -> ZooModel:
    """The shipped model called ``name``."""
    from core.errors import ModelLoadError

    for model in zoo_models():
        if model.name == name:
            return model
    known = ", ".join(model.name for model in zoo_models())
    raise ModelLoadError(f"no shipped model {name!r}; shipped: {known}")


def zoo_of_kind(kind: str) -> list[ZooModel]:
    """Shipped models of one kind (``classifier``, ``infiller`` or ``prior``)."""
    return [model for model in zoo_models() if model.kind == kind]


def register_zoo_classifiers(register: Callable[[str, str, Callable[[], Any]], None]) -> None:
    """Register every shipped classifier with ``register(name, description, factory)``."""
    for model in zoo_of_kind("classifier"):
        register(model.name, model.description, _classifier_factory(model.folder, model.name))


def _classifier_factory(folder: Path, name: str) -> Callable[[], Any]:
    def factory() -> Any:
        from core.generative.loading import trained_classifier

        return trained_classifier(folder, name)

    return factory


_REGISTERED = False


def register_zoo() -> None:
    """Plug the shipped in-fillers and priors into the saliency and DGN-AM registries."""
    global _REGISTERED
    if _REGISTERED:
        return
    from core.zoo.plugins import register_infillers, register_priors

    register_infillers()
    register_priors()
    _REGISTERED = True


__all__ = [
    "ZOO_DIR",
    "ZooModel",
    "register_zoo",
    "register_zoo_classifiers",
    "zoo_model",
    "zoo_models",
    "zoo_of_kind",
]
