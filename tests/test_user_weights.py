"""A user's own weights file on every command: ``genlens explain --model w.safetensors --arch
resnet18 --labels labels.txt`` in a subprocess, the same file through ``genlens submit explain
--wait`` served by a real ``genlens worker`` process (the job carries the weights in the
artifact store; the worker never sees the submitter's path), and the one-line errors of bad
files, as ``genlens classify`` gives them."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import timm
import torch
import torchvision
from safetensors.torch import save_file
from servers import REPO, Deployment
from sqlalchemy import select
from timm.models._hub import save_for_hf

from genlens.core.data import resolve_image
from genlens.core.errors import ModelLoadError, ParameterError
from genlens.core.models import Classifier, ModelSpec
from genlens.core.saliency import explain
from genlens.db.models import Job

LABELS = ["cat", "dog", "bird"]


@pytest.fixture(scope="module")
def weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A seeded 3-class ResNet-18 as ``w.safetensors`` beside ``labels.txt``."""
    folder = tmp_path_factory.mktemp("weights")
    torch.manual_seed(0)
    net = torchvision.models.resnet18(num_classes=len(LABELS))
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, folder / "w.safetensors")
    (folder / "labels.txt").write_text("\n".join(LABELS) + "\n")
    return folder / "w.safetensors"


def _genlens(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "from genlens.demo.cli import main; main()", *args],
        env=env,
        cwd=REPO,
        text=True,
        capture_output=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def vit_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A seeded 3-class ViT (32 x 32 input, 8-px patches) saved by timm's own ``save_for_hf``:
    ``config.json`` with ``model_args`` and ``pretrained_cfg``, plus ``model.safetensors``."""
    folder = tmp_path_factory.mktemp("hub") / "tiny-vit"
    torch.manual_seed(0)
    net = timm.create_model(
        "vit_tiny_patch16_224", pretrained=False, num_classes=3, img_size=32, patch_size=8
    )
    save_for_hf(net, str(folder), model_config={"label_names": LABELS}, safe_serialization=True)
    return folder


def _expected_map(spec: ModelSpec) -> np.ndarray:
    """Grad-CAM of the same model through the library (an independent path to the map)."""
    classifier = spec.load("cpu")
    images = classifier.prepare([resolve_image("sample:chelsea")])
    return explain(classifier, images, method="grad-cam").maps[0].numpy()


@pytest.mark.parametrize("source", ["weights file", "model folder"])
def test_own_model_through_cli_and_a_real_worker(
    source: str, weights: Path, vit_folder: Path, tmp_path: Path
) -> None:
    if source == "model folder":
        options, spec = ["--model", str(vit_folder)], ModelSpec.parse(str(vit_folder))
    else:
        labels = str(weights.parent / "labels.txt")
        options = ["--model", str(weights), "--arch", "resnet18", "--labels", labels]
        spec = ModelSpec.parse(str(weights), arch="resnet18", labels=labels)
    cli = _genlens(
        "explain",
        "sample:chelsea",
        *options,
        "--method",
        "grad-cam",
        "--device",
        "cpu",
        "--out",
        str(tmp_path / "cli"),
    )
    assert cli.returncode == 0, cli.stderr
    expected = _expected_map(spec)
    np.testing.assert_allclose(
        np.load(tmp_path / "cli" / "chelsea_grad-cam_map.npy"), expected, atol=1e-5
    )
    assert any(label in cli.stdout for label in LABELS)

    deployment = Deployment(tmp_path / "service", None, None)
    try:
        worker = deployment.start_worker(wait=False)
        deployment.wait_ready(worker)
        queued = _genlens(
            "submit",
            "explain",
            "sample:chelsea",
            *options,
            "--method",
            "grad-cam",
            "--wait",
            env=deployment.env,
        )
        assert queued.returncode == 0, queued.stderr
        job_id = queued.stdout.splitlines()[0].strip()
        outcome = deployment.client.result(job_id)
        assert outcome.status.status == "succeeded", outcome.status.error
        (saved,) = [a.path for a in outcome.artifacts if a.role == "map"]
        np.testing.assert_allclose(np.load(saved), expected, atol=1e-5)
        with deployment.client.db.begin() as session:
            parameters = session.scalars(select(Job.parameters).where(Job.id == job_id)).one()
        model = parameters["model"]
        assert model["weights"].startswith("artifact:") and model["labels"] == LABELS
        assert str(Path(options[1]).parent) not in json.dumps(parameters)  # no path travels
        assert {a.role for a in outcome.artifacts} >= {"input", "map"}
    finally:
        deployment.close()


def test_json_card_and_bad_files_are_one_line_errors(weights: Path, tmp_path: Path) -> None:
    card = tmp_path / "card.json"
    card.write_text(
        json.dumps(
            {"weights": str(weights), "arch": "resnet18", "labels": LABELS, "input_size": 96}
        )
    )
    spec = ModelSpec.parse(str(card))
    assert (spec.arch, spec.labels, spec.input_size) == ("resnet18", tuple(LABELS), (96, 96))
    assert ModelSpec.from_json(spec.to_json()) == spec
    classifier = spec.load("cpu")
    assert classifier.preprocessing.input_size == (96, 96) and classifier.labels == LABELS

    corrupt = tmp_path / "corrupt.safetensors"
    corrupt.write_bytes(b"not a safetensors file")
    short = tmp_path / "short.txt"
    short.write_text("a\nb\n")
    cases = [
        (["--model", str(corrupt), "--arch", "resnet18"], "corrupt safetensors"),
        (["--model", str(weights), "--arch", "resnet34"], "does not fit resnet34: 96 missing"),
        (["--model", str(weights), "--arch", "resnet18", "--labels", str(short)], "2 labels"),
        (["--model", str(weights), "--arch", "resnet18", "--mean", "0.5,0.5"], "mean needs"),
        (["--model", str(weights)], "give the architecture"),
    ]
    for options, message in cases:
        for command in ("classify", "explain"):
            done = _genlens(command, "sample:chelsea", *options)
            assert done.returncode == 2, (command, options, done.stderr)
            lines = done.stderr.strip().splitlines()
            assert len(lines) == 1 and message in lines[0], (command, lines)


def test_model_spec_rejects_bad_contracts(tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match="mean and std together"):
        ModelSpec("w.safetensors", mean=(0.5, 0.5, 0.5))
    with pytest.raises(ParameterError, match="std must be > 0"):
        ModelSpec("w.safetensors", mean=(0.5,), std=(0.0,))
    with pytest.raises(ParameterError, match="input size"):
        ModelSpec("w.safetensors", input_size=(0, 3))
    bad = tmp_path / "card.json"
    bad.write_text('{"weights": "w.safetensors", "colour": "red"}')
    with pytest.raises(ModelLoadError, match="unknown field"):
        ModelSpec.parse(str(bad))
    bad.write_text("{not json")
    with pytest.raises(ModelLoadError, match="not a JSON model card"):
        ModelSpec.parse(str(bad))


def test_plain_module_is_left_as_it_was() -> None:
    torch.manual_seed(0)
    module = torchvision.models.resnet18(num_classes=4).train()
    frozen_before = [p.requires_grad for p in module.parameters()]
    images = torch.rand(2, 3, 64, 64)
    result = explain(module, images, method="integrated-gradients", steps=4)
    assert result.maps.shape == (2, 64, 64)
    assert result.target_labels[0].startswith("class ")
    assert module.training and all(m.training for m in module.modules())
    assert [p.requires_grad for p in module.parameters()] == frozen_before
    wrapped = Classifier.wrap(module, (64, 64), mean=(0.5,) * 3, std=(0.25,) * 3, labels="abcd")
    assert explain(wrapped, images, method="gradient").target_labels[0] in "abcd"
    assert module.training
    with pytest.raises(ParameterError, match="genlens Classifier or a torch"):
        explain(lambda x: x, images)
