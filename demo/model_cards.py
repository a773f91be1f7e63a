"""Model cards for the front ends: every registered classifier and every shipped model (in-fillers,
priors, generators) with the card its training run wrote."""

from dataclasses import dataclass

from genlens.core.models.registry import registered_classifiers
from genlens.core.zoo import ZooModel, zoo_models


@dataclass(frozen=True)
class ModelCard:
    """A registered classifier with its shipped card (None for built-ins without one)."""

    name: str
    description: str
    zoo: ZooModel | None


def model_cards() -> list[ModelCard]:
    """Every registered classifier, plus the shipped in-fillers and priors, with cards."""
    shipped = {model.name: model for model in zoo_models()}
    cards = [
        ModelCard(entry.name, entry.description, shipped.pop(entry.name, None))
        for entry in registered_classifiers()
    ]
    return cards + [ModelCard(model.name, model.description, model) for model in shipped.values()]
