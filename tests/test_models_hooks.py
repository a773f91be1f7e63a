"""Layer hooks: recorded activations/gradients are correct and hooks never leak."""

import pytest
import torch
from torch import nn

from genlens.core.errors import ParameterError
from genlens.core.models import Classifier, Preprocessing, capture, hook_count


def tiny_classifier() -> Classifier:
    torch.manual_seed(0)
    net = nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 8 * 8, 5)
    )
    return Classifier(
        "tiny", net, Preprocessing((8, 8), (0.5,) * 3, (0.25,) * 3, 1.0), list("abcde")
    )


def test_activations_and_gradients_match_autograd():
    classifier = tiny_classifier()
    images = torch.rand(2, 3, 8, 8, requires_grad=True)
    with classifier.capture(["0", "1"], gradients=True) as record:
        logits = classifier(images)
        logits[:, 3].sum().backward()
    conv = classifier.net[0]
    with torch.no_grad():
        expected = conv((images - 0.5) / 0.25)
    assert torch.allclose(record.activations["0"], expected, atol=1e-6)
    relu_out = torch.relu(expected).detach().requires_grad_(True)
    classifier.net[3](classifier.net[2](relu_out))[:, 3].sum().backward()
    assert torch.allclose(record.gradients["1"], relu_out.grad, atol=1e-6)
    assert hook_count(classifier) == 0


def test_hooks_removed_when_the_block_raises():
    classifier = tiny_classifier()
    with pytest.raises(RuntimeError, match="boom"), classifier.capture(["0", "3"], gradients=True):
        classifier(torch.rand(1, 3, 8, 8))
        assert hook_count(classifier) == 2
        raise RuntimeError("boom")
    assert hook_count(classifier) == 0


def test_unknown_layer_is_refused_before_any_hook():
    classifier = tiny_classifier()
    with (
        pytest.raises(ParameterError, match="unknown layer"),
        capture(classifier.net, ["0", "nope"]),
    ):
        pass
    assert hook_count(classifier) == 0


def test_layer_listing(lite0):
    names = lite0.layer_names()
    assert "conv_head" in names and "blocks.6.0" in names
    assert isinstance(lite0.layer("conv_head"), nn.Conv2d)
    with lite0.capture(["blocks.6", "conv_head"]) as record:
        lite0(torch.rand(1, 3, 224, 224))
    assert record.activations["conv_head"].shape == (1, 1280, 7, 7)
    assert hook_count(lite0) == 0
