"""FIDO and BBMP on a classifier whose evidence sits in a known patch."""

import json

import pytest
import torch

from genlens.core.saliency import explain

# At 32 x 32 BBMP's L1 sum runs over 1024 pixels instead of 50 176, so its lambda (5e-3 at 224)
# is scaled up to 0.02 to keep the penalty comparable to the patch's small log-odds range; FIDO's
# default reg_norm="area" scales by 49 itself, so the same penalty is reg 0.02 / 49.
SMALL_IMAGE_PARAMS = {"steps": 100, "reg": 4e-4}
BBMP_SMALL_IMAGE_PARAMS = {"steps": 100, "reg": 0.02}


def small_image_params(method: str) -> dict:
    return BBMP_SMALL_IMAGE_PARAMS if method.startswith("bbmp") else SMALL_IMAGE_PARAMS


INSIDE_BOUND = 0.8  # fraction of the positive saliency mass inside a patch of 9.4 % of the image


def positive_mass_inside(maps: torch.Tensor, inside: torch.Tensor) -> torch.Tensor:
    """Per image: sum of max(map, 0) inside the patch / sum of max(map, 0) everywhere."""
    positive = maps.clamp_min(0)
    return (positive * inside).sum(dim=(1, 2)) / positive.sum(dim=(1, 2))


@pytest.mark.parametrize("method", ["fido-ssr", "fido-sdr", "bbmp-ssr", "bbmp-sdr"])
def test_mask_methods_find_the_patch(method, patch_classifier, patch_images, patch_mask):
    result = explain(patch_classifier, patch_images, method=method, **small_image_params(method))
    assert result.maps.shape == (3, 32, 32)
    assert result.maps.min() >= -0.5 and result.maps.max() <= 0.5
    assert (result.target == 1).all()
    fractions = positive_mass_inside(result.maps, patch_mask)
    assert (fractions >= INSIDE_BOUND).all(), fractions
    # the hard salient region overlaps the patch and in-filling it destroys most evidence
    assert ((result.salient & patch_mask).sum(dim=(1, 2)) > 0).all()
    assert (result.prob_original > 0.8).all()
    assert (result.prob_removed < 0.5 * result.prob_original).all()


def test_random_map_does_not_pass_the_bound(patch_mask):
    maps = torch.rand(3, 32, 32, generator=torch.Generator().manual_seed(0)) - 0.5
    assert (positive_mass_inside(maps, patch_mask) < 0.2).all()


def test_ssr_keeps_the_class_and_sdr_removes_it(patch_classifier, patch_images):
    ssr = explain(patch_classifier, patch_images, method="fido-ssr", **SMALL_IMAGE_PARAMS)
    sdr = explain(patch_classifier, patch_images, method="fido-sdr", **SMALL_IMAGE_PARAMS)
    assert ssr.view == "kept" and sdr.view == "removed"
    # FIDO's hard counterfactuals are Bernoulli draws of the optimised mask distribution
    assert (ssr.prob_kept > 0.5 * ssr.prob_original).all()  # a small kept region suffices
    assert (sdr.prob_removed < 0.5 * sdr.prob_original).all()  # a small removed one destroys
    assert (ssr.salient.float().mean(dim=(1, 2)) < 0.25).all()
    assert (sdr.salient.float().mean(dim=(1, 2)) < 0.25).all()


@pytest.mark.parametrize("method", ["fido-ssr", "bbmp-sdr"])
def test_seeded_runs_repeat_and_seeds_matter(method, patch_classifier, patch_images):
    params = {"method": method, "infill": "random", "steps": 15, "samples": 3}
    first = explain(patch_classifier, patch_images, seed=7, **params)
    second = explain(patch_classifier, patch_images, seed=7, **params)
    other = explain(patch_classifier, patch_images, seed=8, **params)
    assert torch.equal(first.maps, second.maps)
    assert torch.equal(first.counterfactuals, second.counterfactuals)
    assert not torch.equal(first.maps, other.maps)


@pytest.mark.parametrize(
    ("method", "infill"), [("fido-ssr", "random"), ("fido-sdr", "local-mean"), ("bbmp-ssr", "blur")]
)
def test_batch_equals_images_one_by_one(method, infill, patch_classifier, patch_images):
    params = {"method": method, "infill": infill, "steps": 25, "samples": 4}
    batched = explain(patch_classifier, patch_images, seed=3, **params)
    for index in range(3):
        single = explain(
            patch_classifier, patch_images[index : index + 1], seed=3 + index, **params
        )
        torch.testing.assert_close(single.maps[0], batched.maps[index], atol=1e-5, rtol=0)
        torch.testing.assert_close(
            single.counterfactuals[0], batched.counterfactuals[index], atol=1e-5, rtol=0
        )
        torch.testing.assert_close(single.prob_kept[0], batched.prob_kept[index])


def test_one_forward_pass_per_step_for_the_whole_batch(patch_classifier, patch_images):
    net = patch_classifier.net
    explain(patch_classifier, patch_images, method="fido-ssr", steps=10, samples=4)
    # 10 optimisation steps + clean prediction + kept and removed views = 13 forward passes
    assert net.calls == 13


def test_result_records_parameters_and_timing(patch_classifier, patch_images):
    result = explain(
        patch_classifier,
        patch_images[:1],
        method="fido-sdr",
        target=1,
        steps=3,
        seed=11,
        tau=0.2,
        smooth=0.01,
    )
    params = json.loads(json.dumps(result.params))
    assert params == {
        "method": "fido-sdr",
        "infill": "local-mean",
        "seed": 11,
        "steps": 3,
        "samples": 8,
        "lr": 0.05,
        "reg": 0.001,
        "tau": 0.2,
        "init": 0.0,
        "rw_max": 30.0,
        "smooth": 0.01,
        "grid_stride": 4,
        "noise": "grid",
        "reg_norm": "area",
    }
    assert result.seconds > 0
    assert result.target_labels == ["patch"]
    assert result.counterfactuals.shape == (1, 3, 32, 32)


def test_progress_reports_every_step(patch_classifier, patch_images):
    calls = []
    explain(
        patch_classifier,
        patch_images[:1],
        method="bbmp-ssr",
        steps=4,
        progress=lambda done, total: calls.append((done, total)),
    )
    assert calls == [(1, 4), (2, 4), (3, 4), (4, 4)]


@pytest.mark.parametrize("noise", ["pixel", "grid"])  # grid: the default
def test_noise_options_find_the_patch(noise, patch_classifier, patch_images, patch_mask):
    params = {**SMALL_IMAGE_PARAMS, "noise": noise}
    result = explain(patch_classifier, patch_images, method="fido-ssr", **params)
    assert (positive_mass_inside(result.maps, patch_mask) >= INSIDE_BOUND).all()


def test_grid_noise_draws_masks_of_whole_grid_cells():
    """Grid noise: one Concrete draw per 4x4 cell, so a hard mask is a union of cells' blobs
    (at most one component per cell); pixel noise speckles the same probabilities."""
    from scipy import ndimage

    from genlens.core.saliency.fido import relaxed_keep
    from genlens.core.saliency.noise import SampleNoise
    from genlens.core.saliency.optimise import upsample

    grid = torch.full((1, 1, 8, 8), 0.5)
    pixel = relaxed_keep(upsample(grid, (32, 32)), SampleNoise(1, 4, 0, "cpu"), 4, 0.1)
    cells = upsample(relaxed_keep(grid, SampleNoise(1, 4, 0, "cpu"), 4, 0.1), (32, 32))

    def components(masks: torch.Tensor) -> list[int]:
        return [ndimage.label(mask[0].round().numpy())[1] for mask in masks]

    assert max(components(cells)) <= 64 < min(components(pixel))


def test_area_normalised_l1_is_the_sum_scaled_to_224_pixels(patch_classifier, patch_images):
    """At 32x32, reg_norm="area" with reg r is the paper's sum with reg r * 224**2 / 32**2."""
    params = {"steps": SMALL_IMAGE_PARAMS["steps"], "method": "fido-ssr", "seed": 3}
    area = explain(patch_classifier, patch_images, reg=1e-4, **params)
    pixels = explain(patch_classifier, patch_images, reg=1e-4 * 49, reg_norm="pixels", **params)
    torch.testing.assert_close(area.maps, pixels.maps, atol=1e-5, rtol=0)


def test_string_parameters_take_only_their_choices(patch_classifier, patch_images):
    from genlens.core.errors import ParameterError

    with pytest.raises(ParameterError, match="must be one of grid, pixel"):
        explain(patch_classifier, patch_images, method="fido-ssr", noise="cells", steps=1)


def test_the_fast_preset_is_fido_ssr_with_its_declared_defaults(patch_classifier, patch_images):
    fast = explain(patch_classifier, patch_images, method="fido-ssr-fast", reg=4e-4)
    preset = {"steps": 80, "samples": 4, "grid_stride": 8, "reg": 4e-4}
    full = explain(patch_classifier, patch_images, method="fido-ssr", **preset)
    assert torch.equal(fast.maps, full.maps)
    assert {k: fast.params[k] for k in preset} == preset


def test_a_preset_default_is_checked_against_the_declaration():
    from genlens.core.errors import ParameterError
    from genlens.core.params import with_defaults
    from genlens.core.saliency.fido import FIDO_PARAMS

    with pytest.raises(ParameterError, match="steps"):
        with_defaults(FIDO_PARAMS, steps=0)
    with pytest.raises(ParameterError, match="no parameter"):
        with_defaults(FIDO_PARAMS, stride=8)
