"""docs/extending.md "Add a saliency method", followed literally: the plugin modules in
``tests/plugins`` (method ``toy``, metric ``inside-mean``, suite ``tiny-blockfashion``) are made
importable with ``PYTHONPATH`` and listed in ``GENLENS_PLUGINS``; then the documented commands
run in subprocesses: ``genlens explain`` (CLI), ``genlens submit explain --wait`` served by a
real ``genlens worker`` process, and ``genlens bench saliency`` (leaderboard).

The plugins are never imported into the pytest process (registries stay untouched); expected
values are computed here independently: ``toy`` maps are the channel mean of the prepared image.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from servers import REPO, Deployment

from genlens.core.data import resolve_image
from genlens.core.data.blockfashion import BlockFashion
from genlens.core.errors import ParameterError
from genlens.core.models import Classifier
from genlens.core.plugins import import_plugins

PLUGINS = '["plugins.toy_method", "plugins.tiny_suite"]'


def _genlens(env: dict[str, str], *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", "from genlens.demo.cli import main; main()", *args],
        env=env,
        cwd=REPO,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _finish(process: subprocess.Popen) -> str:
    out, err = process.communicate(timeout=420)
    assert process.returncode == 0, f"{process.args[3:]} exited {process.returncode}:\n{err}"
    return out


def test_toy_method_in_cli_worker_and_leaderboard(tmp_path: Path, lite0: Classifier) -> None:
    deployment = Deployment(tmp_path / "service", None, None)
    try:
        env = {
            **deployment.env,
            "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "tests")]),
            "GENLENS_PLUGINS": PLUGINS,
        }
        deployment.env = env
        worker = deployment.start_worker(wait=False)
        cli = _genlens(
            env,
            "explain",
            "sample:chelsea",
            "--method",
            "toy",
            "--out",
            str(tmp_path / "cli"),
            "--device",
            "cpu",
        )
        bench = _genlens(
            env,
            "bench",
            "saliency",
            "--suite",
            "tiny-blockfashion",
            "--methods",
            "toy,centre",
            "--out",
            str(tmp_path / "lb"),
            "--device",
            "cpu",
        )
        deployment.wait_ready(worker)
        queued = _genlens(env, "submit", "explain", "sample:chelsea", "--method", "toy", "--wait")
        cli_out, bench_out, queued_out = (_finish(p) for p in (cli, bench, queued))

        expected = lite0.prepare([resolve_image("sample:chelsea")])[0].mean(dim=0).numpy()
        assert "toy" in cli_out
        np.testing.assert_allclose(
            np.load(tmp_path / "cli" / "chelsea_toy_map.npy"), expected, atol=1e-6
        )

        job_id = queued_out.splitlines()[0].strip()
        outcome = deployment.client.result(job_id)
        assert outcome.status.status == "succeeded", outcome.status.error
        pid = int(outcome.status.worker.rpartition(":")[2])
        assert os.getpgid(pid) == worker.pid  # ran in the worker's process tree
        (saved,) = [a.path for a in outcome.artifacts if a.role == "map"]
        np.testing.assert_allclose(np.load(saved), expected, atol=1e-6)

        rows = {
            row["method"]: row
            for row in json.loads((tmp_path / "lb" / "leaderboard.json").read_text())
        }
        assert set(rows) == {"toy", "centre"} and "toy" in bench_out
        dataset = BlockFashion("test")
        inside = []
        for index in range(8):
            image, _ = dataset[index]
            mask = dataset.mask(index).bool().reshape(image.shape[-2:])
            inside.append(float(image.mean(dim=0)[mask].mean()))
        assert rows["toy"]["metrics"]["inside-mean"]["value"] == pytest.approx(
            float(np.mean(inside)), abs=1e-6
        )
    finally:
        deployment.close()


def test_a_missing_plugin_is_a_one_line_error() -> None:
    with pytest.raises(ParameterError, match="plugin module 'genlens_no_such_plugin' cannot be"):
        import_plugins(["genlens_no_such_plugin"])
