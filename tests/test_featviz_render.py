"""Pixel/Fourier activation maximization on EfficientNet-Lite0 and tiny models."""

from dataclasses import replace

import pytest
import torch
from featviz_helpers import tiny_classifier

from genlens.core.errors import ParameterError
from genlens.core.featviz import RobustTransforms, make_image, visualize
from genlens.core.featviz import objectives as obj
from genlens.core.models import Classifier, hook_count

CLASSES = [1, 954]  # goldfish, banana


@pytest.fixture(scope="module")
def lite0_128(lite0) -> Classifier:
    """EfficientNet-Lite0's ImageNet weights fed 128x128 input (a third of the 224 cost)."""
    preprocessing = replace(lite0.preprocessing, input_size=(128, 128))
    return Classifier("efficientnet_lite0@128", lite0.net, preprocessing, lite0.labels)


def test_fourier_class_logit_reaches_high_probability(lite0_128):
    result = visualize(lite0_128, obj.class_logit(CLASSES), steps=64, seed=0)
    assert result.images.shape == (2, 3, 128, 128)
    assert float(result.images.min()) >= 0 and float(result.images.max()) <= 1
    probability = lite0_128.predict(result.images)[[0, 1], CLASSES]
    noise = lite0_128.predict(
        torch.rand(2, 3, 128, 128, generator=torch.Generator().manual_seed(0))
    )
    assert bool((probability > 0.9).all()), probability
    assert bool((probability > noise[[0, 1], CLASSES] + 0.5).all())
    assert result.trace.shape == (64, 2)
    assert bool((result.trace[-8:].mean(0) > result.trace[:8].mean(0) + 10).all())
    assert result.params["seeds"] == [0, 1] and result.params["method"] == "fourier"
    assert hook_count(lite0_128) == 0


def test_batched_run_equals_separate_runs(lite0_128):
    # oneDNN picks batch-size dependent conv kernels whose float round-off Adam amplifies;
    # the reference kernels are batch-invariant, so per-element seeding gives identical results.
    with torch.backends.mkldnn.flags(enabled=False):
        batched = visualize(lite0_128, obj.class_logit([1, 207, 954]), steps=3, seed=5)
        for index, unit in enumerate([1, 207, 954]):
            single = visualize(lite0_128, obj.class_logit(unit), steps=3, seed=5 + index)
            assert torch.allclose(batched.images[index], single.images[0], atol=1e-6)
            assert torch.allclose(batched.trace[:, index], single.trace[:, 0], atol=1e-4)


@pytest.mark.parametrize("method", ["pixel", "fourier"])
@pytest.mark.parametrize("channels", [1, 3])
def test_any_channels_and_size(method, channels):
    model = tiny_classifier(channels=channels, size=32)
    result = visualize(
        model,
        obj.channel("conv2", [0, 5]) - 0.01 * obj.total_variation(),
        method=method,
        size=(20, 28),
        steps=25,
        lr=0.1,
        seed=1,
    )
    assert result.images.shape == (2, channels, 20, 28)
    assert bool((result.trace[-5:].mean(0) > result.trace[:5].mean(0)).all())
    assert hook_count(model) == 0


def test_hooks_removed_when_a_step_raises():
    model = tiny_classifier()

    def stop(done: int, total: int) -> None:
        if done == 2:
            raise RuntimeError("cancelled")

    objective = obj.channel("conv1", 0) - obj.layer_input_l1("conv2")
    with pytest.raises(RuntimeError, match="cancelled"):
        visualize(model, objective, steps=5, progress=stop)
    assert hook_count(model) == 0


def test_seeded_transforms_are_per_element():
    images = torch.rand(2, 3, 16, 16)
    transforms = RobustTransforms()

    def generators(*seeds):
        return [torch.Generator().manual_seed(s) for s in seeds]

    both = transforms(images, generators(3, 4), (24, 24))
    second = transforms(images[1:], generators(4), (24, 24))
    assert both.shape == (2, 3, 24, 24) and torch.allclose(both[1], second[0], atol=1e-6)
    identity = RobustTransforms(pad=0, jitter=0, scales=(1.0,), degrees=0)
    assert torch.allclose(identity(images, generators(0, 1), (16, 16)), images, atol=1e-5)


class _FixedShift(RobustTransforms):
    """Every image moved by whole pixels (x 3, y -2): no interpolation, so exact."""

    def draw(self, generators):
        return torch.tensor([[3.0, -2.0, 1.0, 0.0]] * len(generators))


@pytest.mark.parametrize("pad", [1, 5])
def test_uncovered_pixels_show_the_pad_value(pad):
    images = torch.rand(2, 3, 16, 12)
    canvas = torch.nn.functional.pad(images, [8] * 4, value=0.25)
    expected = canvas[:, :, 8 - 2 : 8 - 2 + 16, 8 + 3 : 8 + 3 + 12]
    shifted = _FixedShift(pad=pad, pad_value=0.25)(images, [None, None], (16, 12))
    assert torch.allclose(shifted, expected, atol=1e-6)
    border = _FixedShift(pad=0)(images, [None, None], (16, 12))
    assert torch.allclose(border[:, :, 2:, :9], images[:, :, :14, 3:], atol=1e-6)
    assert torch.equal(border[:, :, 0], border[:, :, 2]) and torch.equal(
        border[..., -1], border[..., 8]
    )


def test_parameterizations_start_grey_and_reproducible():
    first = make_image("fourier", (10, 12), 3, [7, 8])().detach()
    again = make_image("fourier", (10, 12), 3, [8])().detach()
    assert first.shape == (2, 3, 10, 12) and torch.allclose(first[1], again[0])
    assert abs(float(first.mean()) - 0.5) < 0.05
    assert make_image("pixel", (9, 9), 1, [0])().shape == (1, 1, 9, 9)


def test_bad_parameters_raise():
    model = tiny_classifier()
    with pytest.raises(ParameterError, match="steps must be >= 1"):
        visualize(model, obj.class_logit(0), steps=0)
    with pytest.raises(ParameterError, match="unknown parameterization"):
        visualize(model, obj.class_logit(0), method="cppn", steps=1)
    with pytest.raises(ParameterError, match="batch=3 but the objective targets 2"):
        visualize(model, obj.class_logit([0, 1]), batch=3, steps=1)
    with pytest.raises(ParameterError, match="out of range"):
        visualize(model, obj.class_logit(9), steps=1)
    with pytest.raises(ParameterError, match="unknown layer"):
        visualize(model, obj.channel("nope", 0), steps=1)
    with pytest.raises(ParameterError, match="1 or 3 channels"):
        make_image("pixel", (8, 8), 4, [0])
    with pytest.raises(ParameterError, match=">= 0"):
        RobustTransforms(jitter=-1)
    assert hook_count(model) == 0
