"""A folder suite through the CLI and a real worker process (embedded broker, SQLite):
``genlens submit benchmark --estimate`` and ``--wait`` on a suite folder, then the rows in the
database and the job's CSV checked against the hand-computed pointing game."""

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
from folder_suite_helpers import build_suite
from servers import REPO, Deployment

from genlens.worker.benchmark_store import leaderboard_rows

pytest_plugins = ["ui_fixtures"]


def _genlens(deployment: Deployment, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "from genlens.demo.cli import main; main()", *args],
        env=deployment.env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_cli_submits_a_folder_suite_to_a_real_worker(deployment: Deployment, tmp_path: Path):
    expected = build_suite(tmp_path / "suite")
    args = ["submit", "benchmark", "--suite", str(tmp_path / "suite"), "--methods", "centre"]
    args += ["--model", "fmnist-cnn"]
    estimate = _genlens(deployment, *args, "--estimate")
    assert estimate.returncode == 0, estimate.stderr
    assert '"images": 7' in estimate.stdout and '"method": "centre"' in estimate.stdout
    run = _genlens(deployment, *args, "--wait")
    assert run.returncode == 0, run.stderr
    job_id = run.stdout.split()[0]
    with deployment.client.db.begin() as session:
        (row,) = leaderboard_rows(session, "folder:suite")
    assert (row.method, row.model, row.images) == ("centre", "fmnist-cnn", expected["images"])
    assert row.metrics["pointing-game"].value == pytest.approx(expected["pointing_class_mean"])
    artifacts = {a.name: a.path for a in deployment.client.result(job_id).artifacts}
    with open(artifacts["leaderboard.csv"], newline="") as handle:
        (line,) = csv.DictReader(handle)
    assert float(line["pointing-game"]) == pytest.approx(expected["pointing_class_mean"])
    assert (line["model"], line["images"]) == ("fmnist-cnn", str(expected["images"]))
    stored = json.loads(Path(artifacts["leaderboard.json"]).read_text())
    assert stored[0]["inputs_hash"] == row.inputs_hash
