"""The shipped models (:mod:`genlens.core.zoo`) as library objects: learned in-fillers for
FIDO/BBMP and DeePSiM generator priors for DGN-AM.

:mod:`genlens.catalog` registers these factories by name: ``learned-<world>``
(:func:`world_infiller`), ``learned`` (:func:`learned_infiller`, the in-filler of the
classifier's world) and ``<world>-deepsim`` (:func:`zoo_prior`).
"""

from functools import cache

import torch

from genlens.core.errors import ParameterError
from genlens.core.featviz.generator_prior import CodeBounds, GeneratorPrior
from genlens.core.generative.loading import load_trained, resolve_classifier
from genlens.core.generative.prior import PriorNet, penultimate_features
from genlens.core.generative.worlds import WORLDS
from genlens.core.models import Classifier
from genlens.core.saliency.infill import Infiller, LearnedInfiller
from genlens.core.zoo import ZooModel, zoo_model, zoo_of_kind


@cache
def _network(folder: str) -> torch.nn.Module:
    network = load_trained(folder)[0]
    for parameter in network.parameters():
        parameter.requires_grad_(False)
    return network


def world_of(classifier: Classifier) -> str:
    """The world of a classifier: its zoo card's, else the world matching its input shape."""
    for model in zoo_of_kind("classifier"):
        if model.name == classifier.name:
            return model.world
    spec = classifier.preprocessing
    for world in WORLDS.values():
        if spec.input_size == (world.size, world.size) and spec.channels == world.channels:
            return world.name
    raise ParameterError(
        f"no learned in-filler fits {classifier.name} (input {spec.input_size}, "
        f"{spec.channels} channel(s)); learned in-fillers exist for "
        + ", ".join(f"{w.name} ({w.size}x{w.size}, {w.channels} ch)" for w in WORLDS.values())
    )


def world_infiller(world: str, classifier: Classifier) -> Infiller:
    """The shipped learned in-filler of ``world`` on the classifier's device."""
    for model in zoo_of_kind("infiller"):
        if model.world == world:
            network = _network(str(model.folder)).to(classifier.device)
            return LearnedInfiller(network, classifier.policy.precision)
    raise ParameterError(f"no learned in-filler is shipped for the {world} world")


def learned_infiller(classifier: Classifier) -> Infiller:
    """``learned``: the shipped in-filler of the classifier's world (:func:`world_of`)."""
    return world_infiller(world_of(classifier), classifier)


class ZooPrior(GeneratorPrior):
    """A shipped DeePSiM-style prior: G(code) with code = its classifier's penultimate features.

    Codes are (code_dim,) non-negative feature vectors; :meth:`sample_codes` draws
    ``N(mean, std)`` per unit clipped to the data range ``[low, high]``; :meth:`encode` runs the
    classifier the prior was trained on (resizing images to its input). :meth:`bounds` gives the
    data bounds (``[min, mean + 3 std]`` of the training codes) for ``dgn_am(bounds=...)``.
    """

    def __init__(self, model: ZooModel, device: torch.device | str = "cpu"):
        self.name = model.name
        self.device = torch.device(device)
        self.network: PriorNet = _network(str(model.folder)).to(self.device)
        self.code_shape = (self.network.code_dim,)
        size = model.card["arch"]["size"]
        self.image_size = (size, size)
        self.channels = model.card["arch"]["channels"]
        self.classifier_name = model.card["classifier"]
        self.layer = model.card["code_layer"]

    def generate(self, codes: torch.Tensor) -> torch.Tensor:
        self.check_codes(codes)
        return self.network(codes)

    def sample_codes(self, count: int, generator: torch.Generator) -> torch.Tensor:
        noise = torch.randn((count, *self.code_shape), generator=generator).to(self.device)
        return self.network.clip(self.network.code_mean + noise * self.network.code_std)

    @property
    def has_encoder(self) -> bool:
        return True

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        classifier = _encoder(self.classifier_name, str(self.device))
        inputs = self.to_classifier(images, classifier)
        with torch.no_grad():
            return penultimate_features(classifier, inputs, self.layer)[0].to(self.device)

    def bounds(self) -> CodeBounds:
        """Per-unit bounds estimated from the training data's codes (DGN-AM's default)."""
        return CodeBounds(
            self.network.code_low.clone(), self.network.code_high.clone(), f"{self.name} data"
        )


@cache
def _encoder(name: str, device: str) -> Classifier:
    return resolve_classifier(name, device)


def zoo_prior(name: str, device: torch.device | str = "cpu") -> ZooPrior:
    """The shipped prior ``name`` (e.g. ``fmnist-deepsim``) on ``device``."""
    return ZooPrior(zoo_model(name), device)
