"""Trained models shipped with genlens, one folder each: ``model.safetensors`` + ``card.json``.

The card says what a model is (``kind``: classifier | infiller | prior | conditional), which
``world`` it belongs to (``fmnist`` 32x32, ``blockfashion`` 64x64, ``oracle-blocks`` 32x32,
``faces`` 64x64 RGB), its metrics, the command that reproduces it, its seed and wall time.
:func:`zoo_models` lists them. This package only reads cards (no torch): :mod:`genlens.catalog`
registers the models by name.

Names everywhere:

* classifiers: ``load_classifier("fmnist-cnn")``.
* in-fillers: ``learned-<world>`` (e.g. ``learned-fmnist``), and ``learned``, which picks the
  in-filler of the classifier's world: the world in the card of a zoo classifier, otherwise the
  world whose image size and channels match the classifier's input (a 32x32 grayscale
  classifier gets ``learned-fmnist``); see :mod:`genlens.core.generative.shipped`.
* generator priors: ``<world>-deepsim`` (e.g. ``fmnist-deepsim``) in the DGN-AM prior registry.
* conditional generators (kind ``conditional``, feature editor): ``fmnist-conditional`` and
  ``faces-conditional``, loaded by name with
  ``genlens.core.generative.conditional.api.load_conditional(name)``.
"""

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from genlens.core.errors import ModelLoadError

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
    for model in zoo_models():
        if model.name == name:
            return model
    known = ", ".join(model.name for model in zoo_models())
    raise ModelLoadError(f"no shipped model {name!r}; shipped: {known}")


def zoo_of_kind(kind: str) -> list[ZooModel]:
    """Shipped models of one kind (``classifier``, ``infiller`` or ``prior``)."""
    return [model for model in zoo_models() if model.kind == kind]


__all__ = ["ZOO_DIR", "ZooModel", "zoo_model", "zoo_models", "zoo_of_kind"]
