"""Benchmark runner: suites x methods into rows with intervals, resumable, and the baselines."""

import json

import pytest
import torch
from torch import nn

from genlens.core.models import Classifier, Preprocessing, register_classifier
from genlens.core.saliency import explain
from genlens.evaluation.leaderboard import leaderboard_table, write_outputs
from genlens.evaluation.runner import bootstrap, load_rows, run_benchmark
from genlens.evaluation.suites import Suite, SuiteData, get_suite, register_suite

SIZE = 16


class PatchDetector(nn.Module):
    """Class 1 logit = mean brightness of a fixed 6x6 patch; class 0 = its negative."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        score = x[:, :, 2:8, 8:14].mean(dim=(1, 2, 3)) * 8 - 4
        return torch.stack([-score, score], dim=1)


def _patch_classifier() -> Classifier:
    return Classifier(
        "patch-detector",
        PatchDetector(),
        Preprocessing((SIZE, SIZE), (0.0,), (1.0,), 1.0),
        ["off", "on"],
    )


def _patch_data(classifier: Classifier, count: int = 6) -> SuiteData:
    generator = torch.Generator().manual_seed(0)
    images = torch.rand(count, 1, SIZE, SIZE, generator=generator) * 0.3
    images[:, :, 2:8, 8:14] = 1.0
    masks = torch.zeros(count, SIZE, SIZE, dtype=torch.bool)
    masks[:, 2:8, 8:14] = True
    return SuiteData(images, torch.ones(count, dtype=torch.long), masks)


def _tiny_cnn_classifier() -> Classifier:
    torch.manual_seed(0)
    net = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(4, 4, 3, padding=1),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(4 * SIZE * SIZE, 2),
    )
    return Classifier("tiny-cnn", net, Preprocessing((SIZE, SIZE), (0.0,), (1.0,), 1.0), ["a", "b"])


@pytest.fixture(scope="module", autouse=True)
def patch_suite():
    register_classifier("test-patch-detector", "test only", _patch_classifier)
    register_classifier("test-tiny-cnn", "test only", _tiny_cnn_classifier)
    register_suite(
        Suite(
            "test-sanity",
            "test-tiny-cnn",
            _patch_data,
            ("relevance-mass",),
            "test suite with the randomisation test",
            batch_size=4,
            sanity_images=4,
        )
    )
    register_suite(
        Suite(
            "test-patch",
            "test-patch-detector",
            _patch_data,
            ("pointing-game", "relevance-mass", "deletion"),
            "test suite",
            batch_size=4,
        )
    )


def test_bootstrap_interval_contains_the_mean():
    values = torch.tensor([0.0, 1.0, 1.0, 0.0, 1.0, 1.0, 1.0, 0.0])
    result = bootstrap(values, torch.zeros(8), lambda v, c: float(v.mean()), seed=0)
    assert result.value == 0.625
    assert 0.2 < result.low < result.value < result.high <= 1.0


def test_runner_rows_rank_gradient_above_random_and_resume(tmp_path):
    calls = []
    rows = run_benchmark(
        "test-patch",
        ["gradient", "random", "centre", "sobel"],
        tmp_path,
        device="cpu",
        progress=lambda done, total: calls.append((done, total)),
    )
    total = calls[0][1]
    assert calls[0] == (0, total) and calls[-1] == (total, total)  # the bar knows its length
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)
    by_method = {row.method: row for row in rows}
    assert by_method["gradient"].metrics["pointing-game"].value == 1.0
    assert (
        by_method["gradient"].metrics["relevance-mass"].value > 0.9
    )  # the model only sees the patch
    assert by_method["random"].metrics["relevance-mass"].value < 0.3  # patch = 36/256 of the image
    assert (
        by_method["gradient"].metrics["deletion"].value
        < by_method["random"].metrics["deletion"].value
    )
    stored = (tmp_path / "results.jsonl").read_text().splitlines()
    assert len(stored) == 4 and json.loads(stored[0])["inputs_hash"]
    again = run_benchmark("test-patch", ["gradient", "random"], tmp_path, device="cpu")
    assert len((tmp_path / "results.jsonl").read_text().splitlines()) == 4  # resumed, nothing rerun
    assert [row.metrics for row in again] == [
        by_method["gradient"].metrics,
        by_method["random"].metrics,
    ]
    assert len(load_rows(tmp_path / "results.jsonl")) == 4
    paths = write_outputs(rows, ("pointing-game", "relevance-mass", "deletion"), tmp_path)
    assert all(path.exists() and path.stat().st_size > 0 for path in paths)
    page = (tmp_path / "leaderboard.html").read_text()
    assert page.count("data:image/png;base64,") == 3 and "gradient" in page
    assert 'src="http' not in page  # self-contained
    assert leaderboard_table(rows, ("pointing-game",)).row_count == 4


def test_sanity_curve_separates_model_and_image_explanations_and_round_trips(tmp_path):
    rows = {
        row.method: row for row in run_benchmark("test-sanity", ["gradient", "centre"], tmp_path)
    }
    centre, gradient = rows["centre"].sanity, rows["gradient"].sanity
    assert centre.layers == gradient.layers == ["5", "2", "0"]  # parameter layers, output first
    assert all(value.value == pytest.approx(1.0) for value in centre.rho)  # map ignores the model
    assert gradient.rho[-1].value < 0.5  # a gradient depends on the weights
    assert gradient.rho[-1].low <= gradient.rho[-1].value <= gradient.rho[-1].high
    assert rows["centre"].model_hash == rows["gradient"].model_hash != ""
    assert [row.sanity for row in load_rows(tmp_path / "results.jsonl")] == [gradient, centre]
    paths = write_outputs(list(rows.values()), ("relevance-mass",), tmp_path)
    assert tmp_path / "sanity.png" in paths and (tmp_path / "sanity.png").stat().st_size > 0
    assert "sanity_rho" in (tmp_path / "leaderboard.csv").read_text().splitlines()[0]
    assert "sanity rho" in (tmp_path / "leaderboard.txt").read_text()


def test_baseline_maps():
    classifier = _patch_classifier()
    images = torch.zeros(2, 1, SIZE, SIZE)
    images[:, :, :, 8:] = 1.0  # a vertical edge between columns 7 and 8
    centre = explain(classifier, images, method="centre").maps
    assert centre[0, 7:9, 7:9].min() == centre[0].max()
    sobel = explain(classifier, images, method="sobel").maps
    assert sobel[0, :, 7:9].min() > 0 and sobel[0, :, :6].abs().max() == 0
    first = explain(classifier, images, method="random", seed=3).maps
    assert torch.equal(first, explain(classifier, images, method="random", seed=3).maps)
    assert not torch.equal(first[0], first[1])


def test_bench_cli_prints_the_leaderboard_and_writes_plots(tmp_path):
    from typer.testing import CliRunner

    from genlens.demo.cli import app

    args = [
        "bench",
        "saliency",
        "--suite",
        "test-patch",
        "--methods",
        "gradient,centre",
        "--out",
        str(tmp_path),
        "--device",
        "cpu",
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "test-patch leaderboard" in result.output
    lines = [line for line in result.output.splitlines() if "gradient" in line or "centre" in line]
    assert "gradient" in lines[0]  # ranked first on pointing game
    assert (tmp_path / "pointing-game.png").stat().st_size > 0


def test_bf16_rows_stand_beside_fp32_rows_and_resume(tmp_path):
    from genlens.core.models import ModelSpec

    fp32 = run_benchmark("test-patch", ["gradient"], tmp_path, device="cpu")
    spec = ModelSpec("test-patch-detector", precision="bf16")
    bf16 = run_benchmark("test-patch", ["gradient"], tmp_path, device="cpu", model=spec)
    assert [row.precision for row in fp32 + bf16] == ["fp32", "bf16"]
    assert [row.label for row in fp32 + bf16] == ["gradient", "gradient (bf16)"]
    assert len(load_rows(tmp_path / "results.jsonl")) == 2  # not taken for the fp32 row
    again = run_benchmark("test-patch", ["gradient"], tmp_path, device="cpu", model=spec)
    assert again == bf16 and len(load_rows(tmp_path / "results.jsonl")) == 2


def test_a_suite_whose_images_changed_is_evaluated_anew(tmp_path, monkeypatch):
    from dataclasses import replace

    from genlens.evaluation import runner

    first = run_benchmark("test-patch", ["gradient"], tmp_path, device="cpu")[0]
    grown = replace(get_suite("test-patch"), load=lambda c: _patch_data(c, count=8))
    monkeypatch.setattr(runner, "resolve_suite", lambda name: grown)
    second = run_benchmark("test-patch", ["gradient"], tmp_path, device="cpu")[0]
    assert (first.images, second.images) == (6, 8) and first.inputs_hash != second.inputs_hash
    assert len(load_rows(tmp_path / "results.jsonl")) == 2  # not the stale 6-image row


def test_bench_cli_refuses_a_precision_without_a_model(tmp_path):
    from typer.testing import CliRunner

    from genlens.demo.cli import app

    args = ["bench", "saliency", "--suite", "test-patch", "--out", str(tmp_path)]
    result = CliRunner().invoke(app, [*args, "--precision", "bf16"])
    assert result.exit_code != 0 and "give --model too" in str(result.exception)
    assert not (tmp_path / "results.jsonl").exists()


def test_rows_store_every_default_so_a_changed_default_is_a_new_row(tmp_path, monkeypatch):
    from dataclasses import replace

    from genlens.core.saliency import get_method

    first = run_benchmark("test-patch", ["occlusion"], tmp_path, device="cpu")[0]
    params = get_method("occlusion").params
    assert set(first.params) == set(params)  # written out in full, not only the suite's
    monkeypatch.setitem(params, "window", replace(params["window"], default=12))
    second = run_benchmark("test-patch", ["occlusion"], tmp_path, device="cpu")[0]
    assert (first.params["window"], second.params["window"]) == (16, 12)
    assert len(load_rows(tmp_path / "results.jsonl")) == 2  # computed anew, not resumed
