"""Model folders in the timm / Hugging Face layout, written by timm's own ``save_for_hf``: the
loaded classifier computes the saved network's logits on normalised input, its labels and
preprocessing come from ``config.json``, specs round-trip through JSON, and broken folders
give one-line errors naming the problem."""

import json
from pathlib import Path

import pytest
import timm
import torch
from safetensors.torch import save_file
from timm.models._hub import save_for_hf

from genlens.core.errors import ModelLoadError
from genlens.core.models import ModelSpec, load_classifier

LABELS = ["shirt", "bag", "boot"]


@pytest.fixture
def folder(tmp_path: Path) -> tuple[Path, torch.nn.Module]:
    torch.manual_seed(0)
    net = timm.create_model(
        "deit_tiny_distilled_patch16_224",
        pretrained=False,
        num_classes=3,
        img_size=32,
        patch_size=8,
    ).eval()
    path = tmp_path / "deit"
    save_for_hf(net, str(path), model_config={"label_names": LABELS}, safe_serialization=True)
    return path, net


def test_a_saved_folder_loads_with_its_contract(folder) -> None:
    path, net = folder
    classifier = load_classifier(path, device="cpu")
    assert classifier.name == "deit" and classifier.labels == LABELS
    cfg = json.loads((path / "config.json").read_text())["pretrained_cfg"]
    pre = classifier.preprocessing
    assert (pre.input_size, pre.crop_pct) == ((32, 32), cfg["crop_pct"])
    mean, std = (torch.tensor(cfg[key]).view(1, 3, 1, 1) for key in ("mean", "std"))
    assert pre.mean == tuple(cfg["mean"]) and pre.std == tuple(cfg["std"])
    images = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        expected = net((images - mean) / std)
        torch.testing.assert_close(classifier(images), expected, atol=1e-4, rtol=1e-4)
    spec = ModelSpec.parse(str(path))
    assert spec.model_args["patch_size"] == 8
    assert ModelSpec.from_json(json.loads(json.dumps(spec.to_json()))) == spec
    assert ModelSpec.parse(str(path), labels=["a", "b", "c"]).load("cpu").labels == ["a", "b", "c"]


def _edit(path: Path, change) -> None:
    config = json.loads((path / "config.json").read_text())
    change(config)
    (path / "config.json").write_text(json.dumps(config))


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        (lambda p: (p / "config.json").unlink(), "needs a config.json"),
        (lambda p: (p / "model.safetensors").unlink(), "no weights file"),
        (lambda p: (p / "config.json").write_text("{"), "not JSON"),
        (lambda p: _edit(p, lambda c: c.pop("architecture")), '"architecture"'),
        (lambda p: _edit(p, lambda c: c["pretrained_cfg"].update(mean=[0.5])), "3 numbers"),
        (lambda p: _edit(p, lambda c: c["model_args"].update(patch_size=4)), "does not fit"),
        (lambda p: _edit(p, lambda c: c["model_args"].update(colour="red")), "cannot build"),
    ],
    ids=["no config", "no weights", "bad json", "no arch", "bad mean", "other patch", "bad arg"],
)
def test_broken_folders_are_one_line_errors(folder, breakage, message) -> None:
    path, _ = folder
    breakage(path)
    with pytest.raises(ModelLoadError, match=message) as caught:
        ModelSpec.parse(str(path)).load("cpu")
    assert "\n" not in str(caught.value)


def test_a_swin_weights_file_infers_its_classes_from_timms_head(tmp_path: Path) -> None:
    """safetensors sorts keys, so Swin's last matrix is a block's, not ``head.fc``: the class
    count comes from timm's classifier name (it was inferred as 768 and failed to load)."""
    arch = "swin_tiny_patch4_window7_224"
    net = timm.create_model(arch, pretrained=False, num_classes=5)
    path = tmp_path / "swin.safetensors"
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, path)
    classifier = load_classifier(path, arch=arch, device="cpu")
    assert len(classifier.labels) == 5 and classifier.spatial_layer() == "layers.3"
