"""The three training tasks end to end through ``genlens train`` (tiny networks, few steps)."""

import json

import pytest
import torch
import torch.nn.functional as F
from typer.testing import CliRunner

from genlens.core.generative import (
    MASK_KINDS,
    SmallCNN,
    fido_masks,
    load_trained,
    trained_classifier,
)
from genlens.core.saliency import explain
from genlens.demo.cli import app

runner = CliRunner()
TINY = {
    "classifier": ["-o", "widths=[4,8,8]"],
    "infiller": ["-o", "width=4", "-o", "dilations=[2]"],
    "prior": ["-o", "width=16", "-o", "disc_width=4"],
}


def _train(kind: str, out, *extra: str) -> dict:
    arguments = [
        "train",
        kind,
        "--dataset",
        "fmnist",
        "--out",
        str(out),
        "--steps",
        "2",
        "--batch-size",
        "8",
        "--eval-size",
        "40",
        "--device",
        "cpu",
        "--threads",
        "1",
    ]
    tiny = [] if any("arch=" in item for item in extra) else TINY[kind]
    result = runner.invoke(app, [*arguments, *tiny, *extra])
    assert result.exit_code == 0, result.output
    return json.loads((out / "card.json").read_text())


@pytest.fixture(scope="module")
def classifier_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "cls"
    return out, _train("classifier", out, "--seed", "1")


def test_classifier_run_writes_a_loadable_model(classifier_run):
    out, card = classifier_run
    assert card["kind"] == "classifier" and card["world"] == "fmnist" and card["seed"] == 1
    assert card["command"].startswith("genlens train classifier --dataset fmnist")
    assert 0 <= card["metrics"]["test_accuracy"] <= 1
    classifier = trained_classifier(out)
    assert classifier(torch.rand(2, 1, 32, 32)).shape == (2, 10)
    assert (out / "metrics.jsonl").exists() and list((out / "samples").glob("*.png"))


def test_infiller_run_reports_baselines(tmp_path):
    card = _train("infiller", tmp_path / "inf")
    assert {"learned_masked_l1", "local_mean_masked_l1", "blur_masked_psnr"} <= set(card["metrics"])
    network, _ = load_trained(tmp_path / "inf")
    observed = torch.ones(1, 1, 32, 32)
    assert network(torch.rand(1, 1, 32, 32), observed).shape == (1, 1, 32, 32)


def test_prior_run_inverts_the_classifier(classifier_run, tmp_path):
    card = _train("prior", tmp_path / "prior", "--classifier", str(classifier_run[0]))
    assert card["classifier"] == str(classifier_run[0]) and card["code_layer"] == "pool"
    assert 0 <= card["metrics"]["top1_agreement"] <= 1
    prior, _ = load_trained(tmp_path / "prior")
    assert (prior.code_high >= prior.code_low).all() and prior.code_dim == 8
    assert prior(prior.code_mean[None]).shape == (1, 1, 32, 32)


def test_classifier_max_pooling_option(tmp_path):
    card = _train("classifier", tmp_path / "max", "-o", 'pooling="max"', "-o", "stem_pool=true")
    assert card["arch"]["pooling"] == "max" and card["arch"]["stem_pool"] is True
    network, _ = load_trained(tmp_path / "max")
    images = torch.rand(3, 1, 32, 32)
    with torch.no_grad():
        last = network.block3(network.block2(network.block1(network.stem(images))))
        assert torch.equal(network.features(images), last.amax((2, 3)))
    arguments = ["train", "classifier", "--dataset", "fmnist", "--out", str(tmp_path / "x")]
    result = runner.invoke(app, [*arguments, "--steps", "1", "-o", 'pooling="median"'])
    assert result.exit_code != 0 and "unknown pooling 'median'" in str(result.exception)


def test_stem_pool_keeps_the_weight_layout_and_convolves_at_full_resolution():
    strided = SmallCNN(widths=(4, 8, 8), stem_stride=2)
    pooled = SmallCNN(widths=(4, 8, 8), stem_stride=2, stem_pool=True).eval()
    shapes = {key: value.shape for key, value in strided.state_dict().items()}
    assert shapes == {key: value.shape for key, value in pooled.state_dict().items()}
    image = torch.rand(2, 1, 64, 64)
    conv, norm = pooled.stem[0], pooled.stem[1]
    full = F.batch_norm(
        F.conv2d(image, conv.weight, padding=1),
        norm.running_mean,
        norm.running_var,
        norm.weight,
        norm.bias,
        eps=norm.eps,
    )
    with torch.no_grad():
        assert torch.allclose(pooled.stem(image), F.max_pool2d(F.relu(full), 2), atol=1e-6)
        assert pooled(image).shape == (2, 10)


def test_prior_needs_a_classifier(tmp_path):
    result = runner.invoke(app, ["train", "prior", "--dataset", "fmnist", "--out", str(tmp_path)])
    assert result.exit_code != 0


def test_fido_masks_are_binary_seeded_and_mixed():
    masks = fido_masks(300, 32, torch.Generator().manual_seed(4))
    again = fido_masks(300, 32, torch.Generator().manual_seed(4))
    assert masks.shape == (300, 1, 32, 32) and torch.equal(masks, again)
    assert set(masks.unique().tolist()) == {0.0, 1.0}
    rectangles = fido_masks(20, 32, torch.Generator().manual_seed(0), kinds=("rectangle",))
    holes = (1 - rectangles).flatten(1).sum(1)
    assert ((holes >= 12 * 12) & (holes <= 16 * 16)).all()
    grid = fido_masks(20, 32, torch.Generator().manual_seed(0), kinds=("grid",))
    assert torch.equal(grid, grid[..., ::4, ::4].repeat_interleave(4, 2).repeat_interleave(4, 3))
    assert len(MASK_KINDS) == 3


def test_classifier_with_a_timm_vit_trains_loads_and_explains(tmp_path):
    """``-o arch=<timm name>``: the card records a timm ViT at the world's size and channels,
    the folder loads strictly, Grad-CAM takes the ViT family's default layer, and options of
    the small CNN are refused with it."""
    vit = [
        "-o",
        'arch="vit_tiny_patch16_224"',
        "-o",
        'model_args={"patch_size": 8, "embed_dim": 24, "depth": 1, "num_heads": 2}',
    ]
    card = _train("classifier", tmp_path / "vit", *vit)
    assert card["arch"]["type"] == "timm" and card["arch"]["img_size"] == 32
    classifier = trained_classifier(tmp_path / "vit")
    assert classifier.spatial_layer() == "blocks.0.norm1"
    maps = explain(classifier, torch.rand(2, 1, 32, 32), method="grad-cam").maps
    assert maps.shape == (2, 32, 32) and torch.isfinite(maps).all()
    out = str(tmp_path / "x")
    arguments = ["train", "classifier", "--dataset", "fmnist", "--out", out, "-o", "widths=[4]"]
    refused = runner.invoke(app, [*arguments, *vit])
    assert "apply to arch small_cnn only" in str(refused.exception)
