"""Shipped conditional generators load by name, edit images and reproduce their card metrics."""

import pytest
import torch

from genlens.core.errors import ImageError, ModelLoadError
from genlens.core.generative import get_world
from genlens.core.generative.conditional.api import (
    edit,
    grid_image,
    interpolate,
    load_conditional,
    render_with,
    resolve_reference,
)
from genlens.core.generative.conditional.metrics import conditional_metrics
from genlens.core.zoo import ZOO_DIR, zoo_of_kind

MODELS = [model.name for model in zoo_of_kind("conditional")]
SAMPLE = 200


def test_both_worlds_have_a_conditional_model():
    assert {model.world for model in zoo_of_kind("conditional")} >= {"fmnist", "faces"}


@pytest.mark.parametrize("name", MODELS)
def test_held_out_feature_ccc_matches_the_card(name):
    model = load_conditional(name, device="cpu")
    card = model.card
    eval_size = card["config"]["eval_size"]
    assert eval_size == 0 or eval_size >= SAMPLE  # 0: the whole test split
    images = get_world(card["world"]).split("test")[0][:SAMPLE].float() / 255
    metrics = conditional_metrics(model.model, model.classifier, model.layer, images)
    assert metrics["feature_ccc"] == pytest.approx(card["metrics"]["feature_ccc"], abs=0.06)
    assert metrics["feature_ccc"] > metrics["identity_ccc"] + 0.2
    assert metrics["reconstruction_l1"] == pytest.approx(
        card["metrics"]["reconstruction_l1"], abs=0.02
    )
    if "reconstruction_ssim" in card["metrics"]:
        assert metrics["reconstruction_ssim"] == pytest.approx(
            card["metrics"]["reconstruction_ssim"], abs=0.03
        )


def test_faces_model_keeps_the_face_and_moves_happy():
    """Issue 19's identity and traversal targets, on the card's held-out test faces."""
    metrics = load_conditional("faces-conditional", device="cpu").card["metrics"]
    assert metrics["reconstruction_ssim"] >= 0.75 and metrics["reconstruction_l1"] <= 0.05
    assert metrics["frechet_edit"] <= 2 * metrics["frechet_reconstruction"]
    assert metrics["traversal_happy"] >= 0.5
    assert metrics["feature_ccc"] >= 0.6  # the 0.8 target is not reached (docs/faces-generator.md)


def test_faces_feature_model_conditions_on_the_128_penultimate_features():
    model = load_conditional("faces-conditional-features", device="cpu")
    assert model.layer == "add_4" and model.model.c_dim == 128
    assert model.card["options"]["init"] == "faces-conditional"
    metrics = model.card["metrics"]
    assert metrics["reconstruction_ssim"] >= 0.75 and metrics["reconstruction_l1"] <= 0.05
    assert metrics["feature_ccc"] >= 0.2  # the 0.7 target is not reached (docs/faces-generator.md)


def test_fmnist_model_reaches_the_target_ccc():
    assert (ZOO_DIR / "fmnist-conditional" / "card.json").is_file()
    card = load_conditional("fmnist-conditional", device="cpu").card
    assert card["metrics"]["feature_ccc"] >= 0.8


def test_edit_by_reference_moves_the_traversed_component():
    model = load_conditional("fmnist-conditional", device="cpu")
    images = model.prepare([resolve_reference("fmnist:test:12")])
    result = edit(model, images, traverse=[1], quantiles=[10, 90])
    assert result.outputs.shape == (1, 3, 1, 32, 32) and result.labels[-1] == "reconstruction"
    low, high = (
        model.model.standardise(model.features(result.outputs[0, k : k + 1]))
        @ model.model.components[0]
        for k in (0, 1)
    )
    assert float(high - low) > 0


def test_render_with_and_interpolate_end_at_the_requested_features():
    model = load_conditional("fmnist-conditional", device="cpu")
    images = model.prepare([resolve_reference(f"fmnist:test:{index}") for index in (0, 1)])
    other = model.prepare([resolve_reference("fmnist:test:2")])
    rendered = render_with(model, images, torch.cat([images[:1], other]))
    assert rendered.labels == ["target 1", "target 2", "reconstruction"]
    assert torch.equal(rendered.outputs[0, 0], rendered.outputs[0, 2])  # own features twice
    own, wanted = model.features(images), model.features(other)
    path = interpolate(model, images, own, wanted[0], steps=3)
    assert torch.equal(path.outputs[:, 0], rendered.outputs[:, 2])
    assert torch.allclose(path.outputs[:, -1], rendered.outputs[:, 1], atol=1e-5)
    grid = grid_image(path)
    assert grid.mode == "L" and grid.width == 4 * (2 * 32 + 2)


def test_world_references_and_errors():
    assert resolve_reference("fmnist:test:3").size == (32, 32)
    astronaut = resolve_reference("faces:photo:astronaut")
    assert astronaut.mode == "RGB" and astronaut.width == astronaut.height == 140
    lfw = resolve_reference("faces:photo:lfw_1")
    assert lfw.size == (25, 25) and lfw.getpixel((12, 12))[0] == lfw.getpixel((12, 12))[2]
    with pytest.raises(ImageError, match="unknown face photo 'nobody'"):
        resolve_reference("faces:photo:nobody")
    with pytest.raises(ImageError, match="out of range"):
        resolve_reference("fmnist:test:99999")
    with pytest.raises(ModelLoadError, match="not a conditional"):
        load_conditional("fmnist-cnn")
