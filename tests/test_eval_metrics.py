"""Saliency metrics: hand-computed analytic cases and a cross-check against Quantus 0.6.

Convention alignment with Quantus (documented per test): Quantus' pixel-flipping curve holds
the scores *after* each step (no initial state), its "black" baseline is the array minimum
(we pass an explicit 0.0), its pointing game has no distance tolerance (we use tolerance 0),
and its relevance mass/rank use the maps as given when ``normalise=False, abs=False``.
"""

import math

import numpy as np
import pytest
import quantus
import torch
from torch import nn

from genlens.core.errors import ParameterError
from genlens.core.models import Classifier, Preprocessing
from genlens.core.saliency import make_infiller
from genlens.core.saliency.noise import SampleNoise
from genlens.evaluation.metrics import (
    MetricInput,
    box_iou,
    cascading_randomization,
    localization_hits,
    metric,
    perturbation_curve,
    pointing_hits,
    relevance_mass,
    relevance_rank,
    saliency_box,
    saliency_metric,
    spearman_abs,
    trapezoid_auc,
)
from genlens.evaluation.metrics.curves import change_steps, rise_blur


class LinearTwoClass(nn.Module):
    """logits = [w . x, 0]: p(class 0) = sigmoid(w . x), easy to compute by hand."""

    def __init__(self, weights: torch.Tensor):
        super().__init__()
        self.register_buffer("weights", weights)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        score = (x * self.weights).flatten(1).sum(dim=1)
        return torch.stack([score, torch.zeros_like(score)], dim=1)


def gray_classifier(net: nn.Module, size: int) -> Classifier:
    return Classifier("test", net, Preprocessing((size, size), (0.0,), (1.0,), 1.0), ["a", "b"])


def test_trapezoid_auc_by_hand():
    assert torch.allclose(trapezoid_auc(torch.tensor([[1.0, 0.5, 0.0]])), torch.tensor([0.5]))
    curve = torch.tensor([[0.9, 0.7, 0.2, 0.1, 0.0]])
    expected = np.trapezoid(curve[0].numpy(), dx=1 / 4)
    assert math.isclose(float(trapezoid_auc(curve)), expected, rel_tol=1e-6)


def test_steps_change_a_fixed_number_of_pixels():
    order = torch.randperm(50).view(1, 50)
    steps = change_steps(order, pixels_per_step=8)
    assert steps.shape == (1, 50) and steps.max() == 7  # ceil(50/8) = 7 steps
    changed = [int((steps <= k).sum()) for k in range(8)]
    assert changed == [0, 8, 16, 24, 32, 40, 48, 50]
    assert steps[0, order[0, :8]].eq(1).all()


def test_deletion_curve_against_hand_computation():
    weights = torch.tensor([[[[3.0, -1.0], [0.5, 2.0]]]])
    classifier = gray_classifier(LinearTwoClass(weights), 2)
    image = torch.tensor([[[[1.0, 1.0], [1.0, 1.0]]]])
    saliency = torch.tensor([[[0.1, 0.9], [0.4, 0.7]]])  # order: (0,1), (1,1), (1,0), (0,0)
    result = perturbation_curve(
        classifier, image, saliency, torch.tensor([0]), "deletion", "black", pixels_per_step=1
    )
    remaining_scores = [3 - 1 + 0.5 + 2, 3 + 0.5 + 2, 3 + 0.5, 3.0, 0.0]
    expected = torch.sigmoid(torch.tensor(remaining_scores))
    assert torch.allclose(result.scores[0], expected, atol=1e-6)
    assert torch.allclose(result.auc, trapezoid_auc(expected[None]), atol=1e-6)


def test_insertion_starts_blurred_and_ends_at_the_image(lite0):
    torch.manual_seed(0)
    images = torch.rand(2, 3, 224, 224)
    maps = torch.rand(2, 224, 224)
    result = perturbation_curve(
        lite0,
        images,
        maps,
        torch.tensor([1, 2]),
        "insertion",
        pixels_per_step=224 * 32,
        batch_size=5,
    )
    assert result.scores.shape == (2, 8)  # 224*224 / (224*32) = 7 steps + the start
    with torch.no_grad():
        start = lite0(rise_blur(images)).softmax(1)[[0, 1], [1, 2]]
        end = lite0(images).softmax(1)[[0, 1], [1, 2]]
    assert torch.allclose(result.scores[:, 0], start, atol=1e-5)
    assert torch.allclose(result.scores[:, -1], end, atol=1e-5)


def reference_curve(classifier, images, maps, target, direction, substrate, step, seed):
    """The protocol written out per image: all K+1 states from explicit masks, one forward."""
    scores = []
    for b, (image, saliency) in enumerate(zip(images, maps, strict=True)):
        order = torch.argsort(saliency.flatten(), descending=True, stable=True)
        count = -(-order.numel() // step)
        changed = torch.zeros(count + 1, 1, *saliency.shape)
        for k in range(1, count + 1):
            changed[k].view(-1)[order[: k * step]] = 1
        start, end = image[None], None
        if direction == "insertion":
            start, end = rise_blur(image[None]), image[None]
        else:
            noise = SampleNoise(1, count + 1, seed + b, images.device)
            expanded = image[None].expand(count + 1, -1, -1, -1)
            end = make_infiller(substrate, classifier).fill(expanded, 1 - changed, noise)
        states = changed * end + (1 - changed) * start
        with torch.no_grad():
            scores.append(classifier(states).softmax(1)[:, target[b]])
    return torch.stack(scores)


@pytest.mark.parametrize(
    ("direction", "substrate"),
    [
        ("deletion", "mean"),
        ("deletion", "local-mean"),
        ("deletion", "random"),
        ("insertion", "mean"),
    ],
)
def test_chunked_states_match_the_protocol_written_out(direction, substrate):
    torch.manual_seed(1)
    classifier = gray_classifier(LinearTwoClass(torch.randn(1, 1, 6, 6)), 6)
    images, maps = torch.rand(3, 1, 6, 6), torch.rand(3, 6, 6)
    target = torch.tensor([0, 1, 0])
    expected = reference_curve(classifier, images, maps, target, direction, substrate, 5, 9)
    for batch_size in (1, 4, 1000):
        curve = perturbation_curve(
            classifier, images, maps, target, direction, substrate, 5, batch_size, seed=9
        )
        torch.testing.assert_close(curve.scores, expected, rtol=0, atol=1e-6)


def test_in_filled_deletion_uses_the_saliency_infillers():
    classifier = gray_classifier(LinearTwoClass(torch.ones(1, 1, 8, 8)), 8)
    images = torch.full((1, 1, 8, 8), 0.5)
    maps = torch.rand(1, 8, 8)
    result = perturbation_curve(
        classifier, images, maps, torch.tensor([0]), substrate="local-mean", pixels_per_step=16
    )
    # a constant image in-filled from its own pixels stays constant until nothing is observed
    assert torch.allclose(result.scores[0, :-1], result.scores[0, 0].expand(4), atol=1e-6)
    with pytest.raises(ParameterError, match="in-filler"):
        perturbation_curve(classifier, images, maps, torch.tensor([0]), substrate="sparkles")


def test_box_iou_and_largest_component_box():
    assert math.isclose(box_iou((0, 0, 9, 9), (5, 5, 14, 14)), 25 / 175)
    assert box_iou((0, 0, 4, 4), (10, 10, 12, 12)) == 0.0
    saliency = torch.zeros(32, 32)
    saliency[2:6, 3:5] = 1.0  # 8 pixels
    saliency[10:20, 12:18] = 0.8  # 60 pixels: the largest component
    assert saliency_box(saliency) == (12, 10, 17, 19)
    gt = torch.zeros(1, 32, 32, dtype=torch.bool)
    gt[0, 10:20, 12:20] = True
    assert localization_hits(saliency[None], gt).tolist() == [1.0]  # IoU 60/80


def test_pointing_game_tolerance_is_15_pixels():
    maps = torch.zeros(2, 40, 40)
    maps[:, 10, 10] = 1.0
    masks = torch.zeros(2, 40, 40, dtype=torch.bool)
    masks[0, 10, 25] = True  # exactly 15 px away: hit
    masks[1, 10, 26] = True  # 16 px away: miss
    assert pointing_hits(maps, masks).tolist() == [1.0, 0.0]
    spec = metric("pointing-game")
    assert spec.aggregate(torch.tensor([1.0, 1.0, 0.0]), torch.tensor([0, 0, 1])) == 0.5


def test_relevance_mass_and_rank_by_hand():
    maps = torch.tensor([[[4.0, 3.0], [2.0, 1.0]]])
    masks = torch.tensor([[[True, False], [True, False]]])
    assert torch.allclose(relevance_mass(maps, masks), torch.tensor([6 / 10]))
    assert torch.allclose(relevance_rank(maps, masks), torch.tensor([0.5]))  # top-2 = 4, 3


def test_saliency_metric_by_hand(lite0):
    torch.manual_seed(0)
    images = torch.rand(1, 3, 224, 224)
    whole = torch.zeros(1, 224, 224)
    whole[0, 0, 0] = 1.0
    whole[0, 223, 223] = 1.0
    whole[0, :, :] += torch.linspace(0, 1e-3, 224)  # a connected component spans the image
    target = torch.tensor([5])
    with torch.no_grad():
        p = lite0(images).softmax(1)[0, 5]
    values = saliency_metric(lite0, images, torch.ones(1, 224, 224), target)
    assert torch.allclose(values, -torch.log(p).view(1), atol=1e-4)  # a = 1: SM = -log p
    small = torch.zeros(1, 224, 224)
    small[0, 100:105, 100:105] = 1.0  # area 25 / 50176 < 0.05 -> floored
    crop = torch.nn.functional.interpolate(
        images[:, :, 100:105, 100:105], size=(224, 224), mode="bicubic"
    )
    with torch.no_grad():
        p_crop = lite0(crop.clamp(0, 1)).softmax(1)[0, 5]
    expected = math.log(0.05) - math.log(float(p_crop))
    assert math.isclose(
        float(saliency_metric(lite0, images, small, target)), expected, rel_tol=1e-4
    )


def test_metric_registry_and_errors(lite0):
    with pytest.raises(ParameterError, match="unknown metric"):
        metric("accuracy-of-vibes")
    images = torch.rand(1, 3, 224, 224)
    with pytest.raises(ParameterError, match="maps must be"):
        metric("deletion").compute(
            MetricInput(lite0, images, torch.rand(1, 10, 10), torch.tensor([0]))
        )


# --- Cross-check against Quantus 0.6 -------------------------------------------------------


@pytest.fixture(scope="module")
def small_cnn() -> Classifier:
    torch.manual_seed(3)
    net = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(4),
        nn.Flatten(),
        nn.Linear(64, 3),
    )
    return Classifier("cnn", net, Preprocessing((12, 12), (0.0,), (1.0,), 1.0), ["a", "b", "c"])


def test_pixel_flipping_matches_quantus(small_cnn):
    torch.manual_seed(4)
    images, maps = torch.rand(4, 1, 12, 12), torch.rand(4, 12, 12)
    target = torch.tensor([0, 1, 2, 1])
    ours = perturbation_curve(
        small_cnn, images, maps, target, "deletion", "black", pixels_per_step=6
    )
    theirs = quantus.PixelFlipping(
        features_in_step=6, perturb_baseline=0.0, normalise=False, abs=False, disable_warnings=True
    )(
        model=small_cnn,
        x_batch=images.numpy(),
        y_batch=target.numpy(),
        a_batch=maps[:, None].numpy(),
        device="cpu",
        softmax=True,
        channel_first=True,
    )
    # Quantus' curve omits the initial (unperturbed) state.
    assert np.allclose(ours.scores[:, 1:].numpy(), np.asarray(theirs), atol=1e-5)


def test_localisation_metrics_match_quantus(small_cnn):
    generator = torch.Generator().manual_seed(5)
    maps = torch.rand(6, 12, 12, generator=generator)
    masks = torch.zeros(6, 12, 12, dtype=torch.bool)
    for index in range(6):
        y, x = torch.randint(0, 8, (2,), generator=generator).tolist()
        masks[index, y : y + 4, x : x + 3] = True
    images = torch.rand(6, 1, 12, 12, generator=generator)
    target = torch.zeros(6, dtype=torch.long)
    common = {
        "model": small_cnn,
        "x_batch": images.numpy(),
        "y_batch": target.numpy(),
        "a_batch": maps[:, None].numpy(),
        "s_batch": masks[:, None].numpy().astype(float),
        "device": "cpu",
    }
    options = {"normalise": False, "abs": False, "disable_warnings": True}
    mass = quantus.RelevanceMassAccuracy(**options)(**common)
    rank = quantus.RelevanceRankAccuracy(**options)(**common)
    pointing = quantus.PointingGame(**options)(**common)
    assert np.allclose(relevance_mass(maps, masks).numpy(), mass, atol=1e-6)
    assert np.allclose(relevance_rank(maps, masks).numpy(), rank, atol=1e-6)
    assert np.array_equal(
        pointing_hits(maps, masks, tolerance=0.0).numpy(), np.asarray(pointing, dtype=float)
    )


def test_cascading_randomization_separates_model_and_image_explanations(small_cnn):
    def gradient(
        classifier: Classifier, images: torch.Tensor, target: torch.Tensor
    ) -> torch.Tensor:
        images = images.clone().requires_grad_(True)
        classifier(images).gather(1, target[:, None]).sum().backward()
        return images.grad[:, 0]

    def image_itself(
        classifier: Classifier, images: torch.Tensor, target: torch.Tensor
    ) -> torch.Tensor:
        return images[:, 0]

    images, target = torch.rand(3, 1, 12, 12), torch.tensor([0, 1, 2])
    before = [p.clone() for p in small_cnn.parameters()]
    model_based = cascading_randomization(small_cnn, images, target, gradient, ["4", "0"])
    model_free = cascading_randomization(small_cnn, images, target, image_itself, ["4", "0"])
    assert model_based.correlations.shape == (2, 3)
    assert model_based.correlations[-1].mean() < 0.5
    assert torch.allclose(model_free.correlations, torch.ones(2, 3))
    assert all(torch.equal(a, b) for a, b in zip(before, small_cnn.parameters(), strict=True))


def test_spearman_abs_ranks_magnitudes_and_scores_constant_maps_zero():
    ramp = torch.arange(16.0).reshape(1, 4, 4)
    maps = torch.cat([ramp, ramp, ramp])
    other = torch.cat([-ramp, ramp.flip(-1).flip(-2), torch.full_like(ramp, -0.5)])
    # |-ramp| ranks like ramp (rho 1); the reversed ramp ranks backwards (rho -1); a constant
    # map has no ranking and counts as 0.
    assert torch.allclose(spearman_abs(maps, other), torch.tensor([1.0, -1.0, 0.0]))
