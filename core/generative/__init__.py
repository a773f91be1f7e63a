"""Generative models genlens trains itself: learned in-filler, generator prior, small CNNs.

* :class:`InfillNet` — dilated encoder-decoder in-filler, ``net(masked, observed) -> fill``.
* :class:`PriorNet` — DeePSiM-style generator ``G(code) -> image`` with code statistics.
* :class:`SmallCNN` — the classifiers of the ``fmnist`` and ``blockfashion`` worlds.
* :func:`fido_masks` — the mask distribution FIDO hands an in-filler.
* :func:`load_trained` — rebuild any of them from a ``model.safetensors`` + ``card.json`` folder.
"""

from genlens.core.generative.loading import (
    ARCHITECTURES,
    build,
    load_trained,
    read_card,
    resolve_classifier,
    trained_classifier,
)
from genlens.core.generative.masks import MASK_KINDS, fido_masks
from genlens.core.generative.nets import PENULTIMATE, Discriminator, Generator, InfillNet, SmallCNN
from genlens.core.generative.prior import PriorNet, penultimate_features
from genlens.core.generative.worlds import WORLDS, World, get_world

__all__ = [
    "ARCHITECTURES",
    "MASK_KINDS",
    "PENULTIMATE",
    "WORLDS",
    "Discriminator",
    "Generator",
    "InfillNet",
    "PriorNet",
    "SmallCNN",
    "World",
    "build",
    "fido_masks",
    "get_world",
    "load_trained",
    "penultimate_features",
    "read_card",
    "resolve_classifier",
    "trained_classifier",
]
