"""Rebuild trained genlens models from their folder: ``model.safetensors`` + ``card.json``.

The card's ``arch`` entry names a registered architecture and its constructor arguments, so
loading never runs code from the folder and always loads strictly.
"""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import timm
from torch import nn

from genlens.core.device import resolve_device
from genlens.core.errors import ModelLoadError
from genlens.core.generative.conditional.nets import ConditionalModel
from genlens.core.generative.nets import Discriminator, InfillNet, SmallCNN
from genlens.core.generative.prior import PriorNet
from genlens.core.models import Classifier, Preprocessing, load_classifier
from genlens.core.models.weights import load_state_dict


def timm_network(model: str, **kwargs: Any) -> nn.Module:
    """An untrained timm network ``model`` built with ``kwargs`` (e.g. ``img_size``, ``depth``)."""
    if model not in timm.list_models():
        raise ModelLoadError(f"unknown timm architecture {model!r}")
    try:
        return timm.create_model(model, pretrained=False, **kwargs)
    except (TypeError, ValueError, AssertionError) as exc:
        raise ModelLoadError(f"cannot build {model} with {kwargs}: {exc}") from None


ARCHITECTURES: dict[str, Callable[..., nn.Module]] = {
    "small_cnn": SmallCNN,
    "timm": timm_network,
    "infill_net": InfillNet,
    "prior_net": PriorNet,
    "discriminator": Discriminator,
    "conditional_model": ConditionalModel,
}


def architecture(name: str, **kwargs: Any) -> dict[str, Any]:
    """The card's ``arch`` entry for ``ARCHITECTURES[name](**kwargs)``."""
    return {"type": name, **kwargs}


def build(arch: dict[str, Any]) -> nn.Module:
    """An untrained network from a card's ``arch`` entry (lists become tuples)."""
    settings = {key: tuple(v) if isinstance(v, list) else v for key, v in arch.items()}
    kind = settings.pop("type", None)
    if kind not in ARCHITECTURES:
        raise ModelLoadError(f"unknown architecture {kind!r} in model card")
    return ARCHITECTURES[kind](**settings)


def read_card(folder: str | Path) -> dict[str, Any]:
    """The parsed ``card.json`` of a trained-model folder."""
    path = Path(folder) / "card.json"
    if not path.is_file():
        raise ModelLoadError(f"{folder}: no card.json (not a trained genlens model folder)")
    return json.loads(path.read_text())


def load_trained(folder: str | Path) -> tuple[nn.Module, dict[str, Any]]:
    """``(network in eval mode, card)`` from a folder; weights must fit exactly."""
    card = read_card(folder)
    network = build(card["arch"])
    try:
        network.load_state_dict(load_state_dict(Path(folder) / "model.safetensors"), strict=True)
    except RuntimeError as exc:
        raise ModelLoadError(f"{folder}: weights do not fit the card's architecture") from exc
    return network.eval(), card


def trained_classifier(folder: str | Path, name: str | None = None) -> Classifier:
    """A :class:`Classifier` from a folder written by ``genlens train classifier``."""
    network, card = load_trained(folder)
    if card.get("kind") != "classifier":
        raise ModelLoadError(f"{folder} holds a {card.get('kind')!r}, not a classifier")
    spec = card["preprocessing"]
    preprocessing = Preprocessing(
        tuple(spec["input_size"]),
        tuple(spec["mean"]),
        tuple(spec["std"]),
        spec["crop_pct"],
        spec["interpolation"],
    )
    return Classifier(
        name or card.get("name", Path(folder).name), network, preprocessing, card["labels"]
    )


def resolve_classifier(name_or_folder: str | Path, device: str = "auto") -> Classifier:
    """A trained-model folder (with ``card.json``) or any name/path ``load_classifier`` takes."""
    folder = Path(name_or_folder)
    if (folder / "card.json").is_file():
        return trained_classifier(folder).to(resolve_device(device))
    return load_classifier(str(name_or_folder), device=device)
