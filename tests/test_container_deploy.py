"""The deployment check, ``-m container`` (not in the default run: it needs root, about 30 GB
of disk and 15-25 minutes on a fresh host): ``scripts/container-smoke.sh`` builds the images
from ``docker/Dockerfile`` and Debian's packages, runs ``docker-compose.yml`` with podman, and
reports what it saw in ``deploy.json``; this test holds it to the deployment's promises."""

import json
import subprocess
from pathlib import Path

import pytest
from servers import REPO

pytestmark = pytest.mark.container


@pytest.mark.timeout(3600)
def test_compose_stack_runs_in_containers(tmp_path: Path) -> None:
    out = tmp_path / "deploy.json"
    done = subprocess.run(
        ["bash", "scripts/container-smoke.sh", "--out", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=3500,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    result = json.loads(out.read_text())
    assert result["genlens_status_ok"] is True
    assert set(result["front_ends"].values()) == {200}
    batch = result["batch"]
    assert batch["statuses"] == ["succeeded"]
    assert batch["explain_jobs"] == 4
    assert batch["explain_artifacts"] >= 4
    assert batch["benchmark_rows"] >= 1
    kill = result["kill_one_worker"]
    assert (kill["status"], kill["attempts"]) == ("succeeded", 2)
    assert kill["completed_in_container"] != kill["killed_container"]
    assert kill["artifacts"] >= 1
