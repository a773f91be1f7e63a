"""Shipped models load strictly by name and reproduce their cards' metrics on a fixed sample."""

import pytest
import torch

from genlens.core.featviz import dgn_am, sampled_bounds
from genlens.core.featviz import objectives as obj
from genlens.core.featviz.generator_prior import load_prior
from genlens.core.generative import fido_masks, get_world, load_trained, read_card
from genlens.core.generative.loading import build
from genlens.core.models import load_classifier
from genlens.core.saliency.infill import (
    BlurInfiller,
    LearnedInfiller,
    LocalMeanInfiller,
    make_infiller,
)
from genlens.core.zoo import ZOO_DIR, zoo_of_kind

SAMPLE = 1000
CLASSIFIERS = [model.name for model in zoo_of_kind("classifier")]
INFILLERS = [model for model in zoo_of_kind("infiller")]
PRIORS = [model for model in zoo_of_kind("prior")]


def _test_sample(world: str, count: int) -> tuple[torch.Tensor, torch.Tensor]:
    images, labels = get_world(world).split("test")
    return images[:count].float() / 255.0, labels[:count]


def test_zoo_is_complete_and_small():
    kinds = {(model.kind, model.world) for model in zoo_of_kind("classifier") + INFILLERS + PRIORS}
    for world in ("fmnist", "blockfashion"):
        for kind in ("classifier", "infiller", "prior"):
            assert (kind, world) in kinds
    total = sum(path.stat().st_size for path in ZOO_DIR.glob("*/model.safetensors"))
    assert total < 40e6
    for card_path in ZOO_DIR.glob("*/card.json"):
        card = read_card(card_path.parent)
        assert card["command"].startswith("genlens train ") and card["wall_time_s"] > 0
        assert {"seed", "data_hash", "metrics", "genlens_version", "config"} <= set(card)


@pytest.mark.parametrize("folder", sorted(ZOO_DIR.glob("*/card.json")), ids=lambda p: p.parent.name)
def test_weights_load_strictly(folder):
    network, card = load_trained(folder.parent)
    assert set(network.state_dict()) == set(build(card["arch"]).state_dict())


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_classifier_reproduces_card_accuracy(name):
    classifier = load_classifier(name, device="cpu")
    card = read_card(ZOO_DIR / name)
    images, labels = _test_sample(card["world"], SAMPLE)
    with torch.no_grad():
        accuracy = float((classifier(images).argmax(1) == labels).float().mean())
    assert accuracy == pytest.approx(card["metrics"]["test_accuracy"], abs=0.03)


@pytest.mark.parametrize("model", INFILLERS, ids=lambda model: model.name)
def test_learned_infiller_beats_local_mean_and_blur(model):
    classifier = load_classifier(f"{model.world}-cnn", device="cpu")
    infiller = make_infiller("learned", classifier)
    assert isinstance(infiller, LearnedInfiller)
    assert type(make_infiller(f"learned-{model.world}", classifier)) is LearnedInfiller
    images, _ = _test_sample(model.world, 200)
    masks = fido_masks(len(images), images.shape[-1], torch.Generator().manual_seed(0))
    colour = torch.tensor(classifier.preprocessing.mean)
    errors = {}
    with torch.no_grad():
        for name, fill in {
            "learned": infiller,
            "local_mean": LocalMeanInfiller(colour),
            "blur": BlurInfiller(),
        }.items():
            hidden = 1 - masks
            errors[name] = float(((fill.fill(images, masks, None) - images).abs() * hidden).sum())
            errors[name] /= float(hidden.sum())
    assert errors["learned"] < errors["local_mean"] and errors["learned"] < errors["blur"]
    assert errors["learned"] == pytest.approx(model.card["metrics"]["learned_masked_l1"], abs=0.02)


@pytest.mark.parametrize("model", PRIORS, ids=lambda model: model.name)
def test_prior_reconstructions_keep_the_class(model):
    prior = load_prior(model.name, "cpu")
    classifier = load_classifier(model.card["classifier"], device="cpu")
    images, _ = _test_sample(model.world, 300)
    with torch.no_grad():
        codes = prior.encode(images)
        assert prior.bounds().contains(prior.network.clip(codes))
        fakes = prior.generate(codes)
        agreement = float(
            (classifier(fakes).argmax(1) == classifier(images).argmax(1)).float().mean()
        )
    assert fakes.shape == images.shape and 0 <= float(fakes.min()) <= float(fakes.max()) <= 1
    assert agreement == pytest.approx(model.card["metrics"]["top1_agreement"], abs=0.06)


@pytest.mark.parametrize("model", PRIORS, ids=lambda model: model.name)
def test_dgn_am_clips_codes_to_the_priors_data_bounds(model):
    prior = load_prior(model.name, "cpu")
    classifier = load_classifier(model.card["classifier"], device="cpu")
    # twice the default step size: at the default, whether a unit reaches the bound within 25
    # steps depends on the CPU's kernels (an AVX2 machine stopped 0.013 short)
    result = dgn_am(
        classifier, obj.class_logit([0, 7]), prior, steps=25, lr=(1.0, 0.02), l2_decay=1.0, seed=0
    )
    bounds, codes = result.extras["bounds"], result.extras["codes"]
    assert torch.equal(bounds.low, prior.network.code_low)
    assert torch.equal(bounds.high, prior.network.code_high)
    assert result.params["bounds"]["source"] == f"{model.name} data"
    assert bounds.contains(codes)
    # the clip was active, and it let units go beyond what sampled bounds would have allowed
    assert bool(torch.isclose(codes, bounds.high.expand_as(codes)).any())
    assert bool((codes > sampled_bounds(prior, count=2000).high + 1e-3).any())
