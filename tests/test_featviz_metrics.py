"""Quality metrics, contact sheet and the ``genlens visualize`` command."""

import json

import pytest
import torch
from featviz_helpers import tiny_classifier
from typer.testing import CliRunner

from genlens.core.errors import ParameterError
from genlens.core.featviz import (
    activation_ratio,
    contact_sheet,
    transferability,
    unit_activation_ratio,
    unit_responses,
)
from genlens.demo.cli import app


def test_activation_ratio_and_percentile_numbers():
    reference = torch.tensor([[1.0, -2.0], [4.0, 0.0], [2.0, 5.0], [3.0, 1.0]])
    result = activation_ratio(torch.tensor([6.0, 1.0]), reference)
    assert result.reference_max.tolist() == [4.0, 5.0]
    assert result.ratio.tolist() == pytest.approx([1.5, 0.2])
    assert result.percentile.tolist() == pytest.approx([100.0, 50.0])
    assert set(result.to_dict()) == {"responses", "reference_max", "ratio", "percentile"}
    with pytest.raises(ParameterError, match="reference responses must be"):
        activation_ratio(torch.ones(3), reference)


def test_unit_responses_logits_and_channels():
    model = tiny_classifier(size=16)
    images = torch.rand(3, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    logits = unit_responses(model, images, None, [4, 0])
    assert torch.allclose(logits, model(images)[:, [4, 0]], atol=1e-6)
    with model.capture(["conv2"]) as record:
        model(images)
    channels = unit_responses(model, images, "conv2", [3])
    assert torch.allclose(channels[:, 0], record.activations["conv2"][:, 3].mean((1, 2)), atol=1e-6)
    ratio = unit_activation_ratio(model, images[:2], "conv2", [3, 3], images)
    assert ratio.ratio.shape == (2,) and float(ratio.ratio.max()) == pytest.approx(1.0, abs=1e-5)
    with pytest.raises(ParameterError, match="out of range"):
        unit_responses(model, images, "conv2", [99])


def test_transferability_counts_top_k_hits():
    model = tiny_classifier(size=16, classes=5)
    images = torch.rand(4, 3, 16, 16, generator=torch.Generator().manual_seed(1))
    top1 = model.predict(images).argmax(1).tolist()
    rate, hits = transferability(images, top1, [model, model], k=1)
    assert rate == 1.0 and hits.shape == (2, 4)
    wrong = [(t + 1) % 5 for t in top1]
    assert transferability(images, wrong, [model], k=1)[0] == 0.0
    assert transferability(images, wrong, [model], k=5)[0] == 1.0


def test_contact_sheet_layout():
    sheet = contact_sheet(
        torch.rand(5, 1, 10, 12),
        [f"unit {i}\nAR 1.0" for i in range(5)],
        columns=3,
        tile=40,
        caption_height=20,
        margin=2,
    )
    assert sheet.mode == "RGB" and sheet.size == (3 * 42 + 2, 2 * 62 + 2)
    with pytest.raises(ParameterError):
        contact_sheet(torch.rand(2, 3, 8, 8), ["only one"])


def test_cli_visualize_writes_sheet_and_ratios(tmp_path):
    runner = CliRunner()
    result = runner.invoke(
        app,
        [
            "visualize",
            "--unit",
            "1",
            "--unit",
            "954",
            "--steps",
            "2",
            "--device",
            "cpu",
            "--out",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "activation ratio" in result.output and "goldfish" in result.output
    assert (tmp_path / "sheet.png").exists() and (tmp_path / "unit_01.png").exists()
    summary = json.loads((tmp_path / "result.json").read_text())
    assert len(summary["activation_ratio"]["ratio"]) == 2 and len(summary["trace"]) == 2
    bad = runner.invoke(
        app, ["visualize", "--unit", "1", "--method", "magic", "--out", str(tmp_path)]
    )
    assert bad.exit_code != 0 and "method" in str(bad.exception)
