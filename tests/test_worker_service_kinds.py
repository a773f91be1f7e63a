"""The ``benchmark`` and ``train`` job kinds, executed in-process (no Celery) on SQLite and a
real PostgreSQL: outputs, leaderboard rows stored exactly once, cancellation, bad specs."""

import io
import json
import threading
import time
import zipfile
from pathlib import Path

import pytest
import torch
from folder_suite_helpers import build_suite
from sqlalchemy import func, select

from genlens.core.errors import GenlensError
from genlens.core.generative import load_trained
from genlens.core.models import Classifier, Preprocessing, register_classifier
from genlens.db.models import BenchmarkRun, Job, MetricResult
from genlens.evaluation.runner import load_rows
from genlens.evaluation.suites import Suite, SuiteData, register_suite
from genlens.evaluation.suites.archive import pack_suite
from genlens.worker.benchmark_store import leaderboard_rows, stored_suites
from genlens.worker.client import JobClient
from genlens.worker.context import Runtime
from genlens.worker.execute import execute

pytest_plugins = ["service_fixtures"]

SIZE = 12


class BrightPatch(torch.nn.Module):
    """Class 1 logit = brightness of the top-left 4x4 patch."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        score = x[:, :, :4, :4].mean(dim=(1, 2, 3)) * 8 - 4
        return torch.stack([-score, score], dim=1)


def _classifier() -> Classifier:
    preprocessing = Preprocessing((SIZE, SIZE), (0.0,), (1.0,), 1.0)
    return Classifier("bright-patch", BrightPatch(), preprocessing, ["off", "on"])


def _data(classifier: Classifier) -> SuiteData:
    images = torch.rand(4, 1, SIZE, SIZE, generator=torch.Generator().manual_seed(1)) * 0.2
    images[:, :, :4, :4] = 1.0
    masks = torch.zeros(4, SIZE, SIZE, dtype=torch.bool)
    masks[:, :4, :4] = True
    return SuiteData(images, torch.ones(4, dtype=torch.long), masks)


@pytest.fixture(scope="module", autouse=True)
def suite() -> None:
    register_classifier("test-bright-patch", "test only", _classifier)
    register_suite(
        Suite(
            "test-kinds",
            "test-bright-patch",
            _data,
            ("pointing-game", "relevance-mass"),
            "4 images with a bright patch",
            batch_size=4,
        )
    )


def test_benchmark_job_stores_leaderboard_rows_once(runtime: Runtime, client: JobClient) -> None:
    job_id = client.submit(
        {"kind": "benchmark", "suite": "test-kinds", "methods": "gradient,random"}
    )
    assert execute(runtime, job_id, "w:1") == "succeeded"
    outcome = client.result(job_id)
    names = {artifact.name for artifact in outcome.artifacts}
    assert {"leaderboard.json", "leaderboard.csv", "results.jsonl", "pointing-game.png"} <= names
    files = load_rows(runtime.settings.root / "benchmarks" / job_id / "results.jsonl")
    with runtime.db.begin() as session:
        rows = {row.method: row for row in leaderboard_rows(session, "test-kinds")}
        assert stored_suites(session) == ["test-kinds"]
    assert rows["gradient"].metrics == {row.method: row for row in files}["gradient"].metrics
    assert rows["gradient"].metrics["pointing-game"].value == 1.0
    assert rows["random"].metrics["relevance-mass"].value < 0.5
    assert rows["gradient"].model_hash == files[0].model_hash != ""
    assert outcome.result["suite"] == "test-kinds" and len(outcome.result["rows"]) == 2
    assert execute(runtime, job_id, "w:2") == "skipped"  # a duplicate delivery adds nothing
    with runtime.db.begin() as session:
        assert session.scalar(select(func.count()).select_from(BenchmarkRun)) == 2
        assert session.scalar(select(func.count()).select_from(MetricResult)) == 4
        low, value, high = session.execute(
            select(MetricResult.low, MetricResult.value, MetricResult.high).limit(1)
        ).one()
        assert low <= value <= high


def test_benchmark_job_on_a_folder_suite_with_a_sample(
    runtime: Runtime, client: JobClient, tmp_path: Path
) -> None:
    expected = build_suite(tmp_path / "suite")
    spec = {"kind": "benchmark", "suite": str(tmp_path / "suite"), "methods": "centre"}
    with pytest.raises(GenlensError, match="no classifier of its own"):
        client.submit(spec)
    with pytest.raises(GenlensError, match="limit must be an integer"):
        client.submit({**spec, "model": "fmnist-cnn", "limit": "4"})
    whole = client.submit({**spec, "model": "fmnist-cnn"})
    # the folder travels as a zip artifact: the worker never reads the submitter's folder
    (tmp_path / "elsewhere").mkdir()
    moved = (tmp_path / "suite").rename(tmp_path / "elsewhere" / "suite")
    sampled = client.submit(
        {**spec, "suite": pack_suite(moved), "model": "fmnist-cnn", "limit": 3, "seed": 2}
    )
    assert execute(runtime, whole, "w:1") == execute(runtime, sampled, "w:1") == "succeeded"
    with runtime.db.begin() as session:
        rows = leaderboard_rows(session, "folder:suite")
    assert sorted(row.images for row in rows) == [3, expected["images"]]  # keyed by inputs
    (full,) = [row for row in rows if row.images == expected["images"]]
    assert full.metrics["pointing-game"].value == pytest.approx(expected["pointing_class_mean"])
    csv = next(a for a in client.result(whole).artifacts if a.name == "leaderboard.csv")
    assert csv.size > 0


def test_estimate_job_reports_each_methods_cost(
    runtime: Runtime, client: JobClient, tmp_path: Path
) -> None:
    expected = build_suite(tmp_path / "suite")
    job = client.submit(
        {
            "kind": "benchmark-estimate",
            "suite": str(tmp_path / "suite"),
            "methods": "centre,gradient",
            "model": "fmnist-cnn",
        }
    )
    assert execute(runtime, job, "w:1") == "succeeded"
    result = client.result(job).result
    assert result["suite"] == "folder:suite" and result["images"] == expected["images"]
    centre, gradient = result["methods"]
    assert (centre["method"], centre["backwards_per_image"]) == ("centre", 0)
    assert gradient["backwards_per_image"] == 1
    assert result["seconds"] == pytest.approx(centre["seconds"] + gradient["seconds"])


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("archive", "message"),
    [
        (b"not a zip", "not a zip archive"),
        (_zip({"../evil/manifest.json": b"[]"}), "unsafe member path"),
        (_zip({"s/manifest.json": b'[{"image": "x.png", "label": 1}]'}), "x.png not found"),
    ],
)
def test_bad_suite_archives_are_rejected_at_submit(client: JobClient, archive, message) -> None:
    spec = {"kind": "benchmark", "suite": archive, "methods": "centre", "model": "fmnist-cnn"}
    with pytest.raises(GenlensError, match=message):
        client.submit(spec)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"suite": "nope", "methods": ["gradient"]}, "unknown suite"),
        ({"suite": "test-kinds", "methods": ["nope"]}, "nope"),
        ({"suite": "test-kinds", "methods": []}, "methods must be"),
        ({"suite": "test-kinds", "methods": ["fido-ssr@nope"]}, "nope"),
        ({"suite": "test-kinds", "methods": ["gradient"], "extra": 1}, "unknown field"),
    ],
)
def test_bad_benchmark_specs_are_rejected_at_submit(client: JobClient, spec, message) -> None:
    with pytest.raises(GenlensError, match=message):
        client.submit({"kind": "benchmark", **spec})
    assert client.count() == 0


TINY = {
    "kind": "train",
    "task": "classifier",
    "dataset": "fmnist",
    "batch_size": 8,
    "eval_size": 16,
    "options": {"widths": [4, 8, 8]},
}


def test_train_job_writes_weights_that_load(runtime: Runtime, client: JobClient) -> None:
    job_id = client.submit({**TINY, "steps": 3})
    assert execute(runtime, job_id, "w:1") == "succeeded"
    outcome = client.result(job_id)
    paths = {artifact.role: Path(artifact.path) for artifact in outcome.artifacts}
    card = json.loads(paths["card"].read_text())
    assert card["config"]["steps"] == 3 and "test_accuracy" in outcome.result["metrics"]
    run_dir = Path(outcome.result["run_dir"])
    assert paths["checkpoint"].read_bytes() == (run_dir / "model.safetensors").read_bytes()
    model, loaded_card = load_trained(run_dir)  # strict: the weights fit the card
    assert loaded_card == card and model(torch.zeros(2, 1, 32, 32)).shape == (2, 10)
    assert outcome.result["command"].startswith("genlens train classifier --dataset fmnist")


def test_train_job_cancels_between_steps(runtime: Runtime, client: JobClient) -> None:
    job_id = client.submit({**TINY, "steps": 100_000, "eval_size": 0})
    worker = threading.Thread(target=execute, args=(runtime, job_id, "w:1"))
    worker.start()
    deadline = time.monotonic() + 120
    while client.status(job_id).progress == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    client.cancel(job_id)
    worker.join(timeout=60)
    with runtime.db.begin() as session:
        job = session.get(Job, job_id)
        assert (job.status, worker.is_alive()) == ("cancelled", False)
        assert job.progress < 0.01


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"task": "nope"}, "unknown training task"),
        ({"dataset": "nope"}, "unknown dataset"),
        ({"steps": 0}, "'steps' must be in \\[1, 1000000\\]"),
        ({"lr": -1}, "'lr' must be > 0"),
        ({"classifier": "nope"}, "registered model"),
        ({"options": [1]}, "options must be"),
    ],
)
def test_bad_train_specs_are_rejected_at_submit(client: JobClient, spec, message) -> None:
    with pytest.raises(GenlensError, match=message):
        client.submit({**TINY, "steps": 3, **spec})
    assert client.count() == 0
