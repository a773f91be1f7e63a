"""DGN-AM with the DCGAN face prior from gan-face-generate."""

import pytest
import torch
from featviz_helpers import tiny_classifier

from genlens.core.errors import ParameterError
from genlens.core.featviz import (
    CodeBounds,
    dgn_am,
    estimate_bounds,
    invert,
    load_prior,
    registered_priors,
    sampled_bounds,
)
from genlens.core.featviz import objectives as obj
from genlens.core.models import hook_count


@pytest.fixture(scope="module")
def prior():
    return load_prior("dcgan_faces")


def test_prior_generates_faces_in_unit_range(prior):
    assert "dcgan_faces" in registered_priors()
    codes = prior.sample_codes(2, torch.Generator().manual_seed(0))
    images = prior.generate(codes)
    assert images.shape == (2, 3, 64, 64)
    assert float(images.min()) >= 0 and float(images.max()) <= 1
    assert float(images.std()) > 0.1  # not a flat image
    gray = tiny_classifier(channels=1, size=40)
    assert prior.to_classifier(images, gray).shape == (2, 1, 40, 40)


def test_sampled_bounds_are_three_sigma(prior):
    bounds = sampled_bounds(prior, count=4000)
    assert bounds.low.shape == (100,)
    assert abs(float(bounds.high.mean()) - 3.0) < 0.15
    assert abs(float(bounds.low.mean()) + 3.0) < 0.15


def test_dgn_am_raises_class_logit_within_bounds(lite0, prior):
    bounds = CodeBounds(torch.full((100,), -1.5), torch.full((100,), 1.5), "test ±1.5")
    units = [903, 836]  # wig, sunglasses
    result = dgn_am(lite0, obj.class_logit(units), prior, steps=30, bounds=bounds, seed=0)
    codes = result.extras["codes"]
    assert codes.shape == (2, 100) and bounds.contains(codes)
    assert float(codes.abs().max()) <= 1.5 + 1e-6
    assert result.images.shape == (2, 3, 64, 64)
    start, end = result.trace[:3].mean(0), result.scores
    assert bool((end > start + 4).all()), (start, end)
    probability = lite0.predict(prior.to_classifier(result.images, lite0))[[0, 1], units]
    assert bool((probability > 0.5).all()), probability
    assert result.params["init"] == "random" and result.params["bounds"]["source"] == "test ±1.5"
    assert hook_count(lite0) == 0


def test_keep_best_and_hooks_on_error(prior):
    model = tiny_classifier(size=24)
    result = dgn_am(
        model,
        obj.channel("conv2", [1, 2]),
        prior,
        steps=12,
        lr=(2.0, 2.0),
        l2_decay=1.0,
        keep_best=True,
        seed=3,
    )
    assert bool((result.scores >= result.trace.max(0).values - 1e-5).all())

    def stop(done: int, total: int) -> None:
        raise RuntimeError("stop")

    with pytest.raises(RuntimeError, match="stop"):
        dgn_am(model, obj.channel("conv2", 0), prior, steps=5, progress=stop)
    assert hook_count(model) == 0


def test_invert_reduces_reconstruction_error(prior):
    target = prior.generate(prior.sample_codes(1, torch.Generator().manual_seed(42)))
    start = prior.sample_codes(1, torch.Generator().manual_seed(0))
    before = float((prior.generate(start) - target).square().mean())
    codes = invert(prior, target, steps=40, lr=0.1, seed=0)
    after = float((prior.generate(codes) - target).square().mean())
    assert after < 0.5 * before
    bounds = estimate_bounds(torch.randn(500, 100), multiplier=2.0)
    assert abs(float(bounds.high.mean()) - 2.0) < 0.2


def test_dgn_bad_parameters(prior):
    model = tiny_classifier()
    with pytest.raises(ParameterError, match="l2_decay"):
        dgn_am(model, obj.class_logit(0), prior, l2_decay=1.5, steps=1)
    with pytest.raises(ParameterError, match="codes must have shape"):
        dgn_am(model, obj.class_logit(0), prior, init_codes=torch.zeros(1, 7), steps=1)
    with pytest.raises(ParameterError, match="unknown generator prior"):
        load_prior("stylegan")
    with pytest.raises(ParameterError, match="at least 2 codes"):
        estimate_bounds(torch.zeros(1, 100))
