"""Reliability with real servers and real worker subprocesses (``genlens worker``), each
scenario on the filesystem broker and on Redis (SQLite job database). The deployment is
shared by the module's tests; each test checks only the jobs it submitted."""

import os
import signal
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from genlens.db.models import Artifact, Job, JobArtifact

if TYPE_CHECKING:
    from servers import Deployment as Service

pytest_plugins = ["service_fixtures"]


def _wait_running(
    service: "Service", job_id: str, min_progress: float = 0.0, timeout: float = 180
) -> None:
    deadline = time.monotonic() + timeout
    while True:
        current = service.client.status(job_id)
        if current.status == "running" and current.progress > min_progress:
            return
        assert not current.done, f"{job_id} ended {current.status}: {current.error}"
        assert time.monotonic() < deadline, f"{job_id} not running:\n{service.log()[-3000:]}"
        time.sleep(0.05)


def _counts(service: "Service", ids: Sequence[str]) -> tuple[int, int, int]:
    """Job rows, artifact links and distinct artifact rows (files present) for ``ids``."""
    with service.client.db.begin() as session:
        jobs = session.scalar(select(func.count()).select_from(Job).where(Job.id.in_(ids)))
        links = session.scalars(select(JobArtifact.sha256).where(JobArtifact.job_id.in_(ids)))
        shas = links.all()
        artifacts = session.scalars(select(Artifact).where(Artifact.sha256.in_(shas))).all()
        assert all(Path(service.client.store.locate(a.key)).is_file() for a in artifacts)
        return jobs, len(shas), len(artifacts)


def _step(message: str | None) -> int:
    """The step number of a ``... step k/n`` message."""
    assert message and "step" in message, message
    return int(message.rpartition("step ")[2].split("/")[0])


def test_killed_pool_process_and_poison_job(service: "Service") -> None:
    """SIGKILL of the process running a job: it is redelivered and completes exactly once; a
    job that kills its process every time stops after the attempts cap as failed."""
    service.ensure_workers(1)
    job = service.client.submit({"kind": "sleep", "steps": 20, "seconds": 0.1, "tag": "kill"})
    poison = service.client.submit({"kind": "crash", "tag": "poison"})
    _wait_running(service, job, 0.1)
    os.kill(int(service.client.status(job).worker.rpartition(":")[2]), signal.SIGKILL)

    final = service.client.wait(job, timeout=180)
    assert (final.status, final.attempts) == ("succeeded", 2), service.log()
    assert [a.role for a in service.client.result(job).artifacts] == ["output"]

    failed = service.client.wait(poison, timeout=180)
    cap = service.settings.max_attempts
    assert (failed.status, failed.attempts) == ("failed", cap), service.log()
    assert f"gave up after {cap} attempts" in failed.error
    assert _counts(service, [job, poison]) == (2, 1, 1)


def test_explain_then_cancel_a_running_fido_job(service: "Service") -> None:
    """A short FIDO job succeeds with its artifacts; a long one stops within a few
    optimisation steps after cancel, as ``cancelled``."""
    service.ensure_workers(1)
    spec = {"kind": "explain", "image": "sample:chelsea", "method": "fido-ssr", "samples": 1}
    short = service.client.submit({**spec, "steps": 2})
    long = service.client.submit({**spec, "steps": 500})
    assert service.client.wait(short, timeout=300).status == "succeeded", service.log()
    outcome = service.client.result(short)
    assert sorted(a.role for a in outcome.artifacts) == [
        "counterfactual",
        "figure",
        "map",
        "overlay",
        "prepared",
    ]
    assert all(os.path.isfile(a.path) for a in outcome.artifacts)
    assert outcome.result["label"] and 0 <= outcome.result["prob_original"] <= 1

    _wait_running(service, long, 2 / 500)
    at_cancel = _step(service.client.status(long).message)
    service.client.cancel(long)
    final = service.client.wait(long, timeout=120)
    assert final.status == "cancelled", service.log()
    assert _step(final.message) - at_cancel <= 3, (at_cancel, final.message)
    assert service.client.result(long).artifacts == []


def test_visualize_job_writes_images_sheet_and_trace(service: "Service") -> None:
    """Feature visualization as a job (the worker process already holds the model)."""
    service.ensure_workers(1)
    job_id = service.client.submit(
        {"kind": "visualize", "units": [1, 207], "steps": 2, "method": "pixel"}
    )
    assert service.client.wait(job_id, timeout=300).status == "succeeded", service.log()
    outcome = service.client.result(job_id)
    assert sorted((a.role, a.name) for a in outcome.artifacts) == [
        ("grid", "sheet.png"),
        ("trace", "result.json"),
        ("visualization", "unit-1.png"),
        ("visualization", "unit-207.png"),
    ]
    assert outcome.result["units"][1].startswith("207 ")


def test_200_jobs_on_two_worker_processes(service: "Service") -> None:
    """200 small jobs, two competing workers: all complete, none twice."""
    service.ensure_workers(2)
    ids = [
        service.client.submit({"kind": "sleep", "steps": 1, "seconds": 0.0, "tag": f"many-{i}"})
        for i in range(200)
    ]
    deadline = time.monotonic() + 240
    while (done := sum(service.client.status(i).status == "succeeded" for i in ids)) < 200:
        assert time.monotonic() < deadline, f"{done}/200 done\n{service.log()[-3000:]}"
        time.sleep(1.0)
    assert len(set(ids)) == 200
    assert _counts(service, ids) == (200, 200, 200)
    with service.client.db.begin() as session:
        attempts = set(session.scalars(select(Job.attempts).where(Job.id.in_(ids))))
        workers = set(session.scalars(select(Job.worker).where(Job.id.in_(ids))))
    assert attempts == {1}
    assert len(workers) == 2, workers


def test_killed_worker_job_completes_after_restart(service: "Service") -> None:
    """SIGKILL of the whole worker running a job (main process and pool) mid-job: the next
    worker to start re-queues the orphaned job, which completes exactly once."""
    service.ensure_workers(1)
    job = service.client.submit({"kind": "sleep", "steps": 30, "seconds": 0.1, "tag": "w"})
    queued = [
        service.client.submit({"kind": "sleep", "steps": 1, "seconds": 0.0, "tag": f"q{i}"})
        for i in range(3)
    ]
    _wait_running(service, job, 0.1)
    group = os.getpgid(int(service.client.status(job).worker.rpartition(":")[2]))
    service.kill_worker(next(p for p in service.workers if p.pid == group))
    assert service.client.status(job).status == "running"

    service.start_worker()
    final = service.client.wait(job, timeout=180)
    assert (final.status, final.attempts) == ("succeeded", 2), service.log()
    for other in queued:
        assert service.client.wait(other, timeout=120).status == "succeeded"
    assert _counts(service, [job, *queued]) == (4, 4, 4)
