"""Job execution without Celery (claim, ownership, attempts cap, cancellation, recovery) on
SQLite and on a real PostgreSQL."""

import os
import socket
import subprocess
import sys
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from genlens.db.models import Artifact, Job, JobArtifact, utcnow
from genlens.worker.client import JobClient
from genlens.worker.context import JobCancelled, JobContext, Runtime
from genlens.worker.execute import execute, recover_orphans

pytest_plugins = ["service_fixtures"]

SLEEP = {"kind": "sleep", "steps": 2, "seconds": 0.0, "tag": "x"}


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def _set(runtime: Runtime, job_id: str, **values: object) -> None:
    with runtime.db.begin() as session:
        session.execute(update(Job).where(Job.id == job_id).values(**values))


def _job(runtime: Runtime, job_id: str) -> Job:
    with runtime.db.begin() as session:
        return session.get(Job, job_id)


def test_runs_once_and_links_outputs(runtime: Runtime, client: JobClient) -> None:
    job_id = client.submit(SLEEP)
    assert execute(runtime, job_id, "me:1") == "succeeded"
    assert execute(runtime, job_id, "me:2") == "skipped"
    job = _job(runtime, job_id)
    assert (job.status, job.attempts, job.progress, job.result["steps"]) == ("succeeded", 1, 1.0, 2)
    with runtime.db.begin() as session:
        assert session.scalar(select(func.count()).select_from(JobArtifact)) == 1
        assert session.scalar(select(func.count()).select_from(Artifact)) == 1


def test_duplicate_delivery_is_ignored_while_the_owner_lives(
    runtime: Runtime, client: JobClient
) -> None:
    job_id = client.submit(SLEEP)
    owner = f"{socket.gethostname()}:{os.getpid()}"
    _set(runtime, job_id, status="running", worker=owner, attempts=1, heartbeat_at=utcnow())
    assert execute(runtime, job_id, "other:1") == "skipped"
    _set(runtime, job_id, worker="elsewhere:1", heartbeat_at=utcnow())
    assert execute(runtime, job_id, "other:1") == "skipped"
    assert _job(runtime, job_id).status == "running"


@pytest.mark.parametrize("owner", ["dead-local", "stale-remote"])
def test_a_lost_owner_is_taken_over(runtime: Runtime, client: JobClient, owner: str) -> None:
    job_id = client.submit(SLEEP)
    worker, beat = (
        (f"{socket.gethostname()}:{_dead_pid()}", utcnow())
        if owner == "dead-local"
        else ("elsewhere:1", utcnow() - timedelta(seconds=runtime.settings.lease_seconds + 1))
    )
    _set(runtime, job_id, status="running", worker=worker, attempts=1, heartbeat_at=beat)
    assert execute(runtime, job_id, "me:1") == "succeeded"
    assert _job(runtime, job_id).attempts == 2


def test_gives_up_after_the_attempts_cap(runtime: Runtime, client: JobClient) -> None:
    job_id = client.submit(SLEEP)
    cap = runtime.settings.max_attempts
    _set(
        runtime,
        job_id,
        status="running",
        attempts=cap,
        worker=f"{socket.gethostname()}:{_dead_pid()}",
    )
    assert execute(runtime, job_id, "me:1") == "skipped"
    job = _job(runtime, job_id)
    assert job.status == "failed" and f"gave up after {cap} attempts" in job.error


def test_cancel_before_start(runtime: Runtime, client: JobClient) -> None:
    job_id = client.submit(SLEEP)
    assert client.cancel(job_id).status == "cancelled"
    assert execute(runtime, job_id, "me:1") == "skipped"
    assert _job(runtime, job_id).attempts == 0


def test_cancel_while_running_stops_at_the_next_step(runtime: Runtime, client: JobClient) -> None:
    job_id = client.submit({"kind": "sleep", "steps": 400, "seconds": 0.02, "tag": "c"})
    outcome: list[str] = []
    thread = threading.Thread(target=lambda: outcome.append(execute(runtime, job_id, "me:1")))
    thread.start()
    try:
        while _job(runtime, job_id).progress < 0.01:
            thread.join(0.05)
        client.cancel(job_id)
    finally:
        thread.join(60)
    job = _job(runtime, job_id)
    assert outcome == ["cancelled"] and job.status == "cancelled"
    assert job.progress < 0.5, job.message


def test_progress_raises_when_cancelled_or_taken_over(runtime: Runtime, client: JobClient) -> None:
    job_id = client.submit(SLEEP)
    _set(runtime, job_id, status="running", worker="me:1")
    context = JobContext(runtime, job_id, "me:1")
    context.progress(1, 4)
    assert _job(runtime, job_id).progress == 0.25
    _set(runtime, job_id, worker="someone:2")
    with pytest.raises(JobCancelled):
        context.progress(2, 4)


def test_errors_in_the_job_mark_it_failed(runtime: Runtime, client: JobClient) -> None:
    job_id = client.submit(
        {"kind": "explain", "image": "sample:chelsea", "method": "gradient", "target": 5000}
    )
    assert execute(runtime, job_id, "me:1") == "failed"
    job = _job(runtime, job_id)
    assert job.status == "failed" and "target class out of range" in job.error


def test_recover_orphans_requeues_only_lost_jobs(runtime: Runtime, client: JobClient) -> None:
    lost = client.submit({**SLEEP, "tag": "lost"})
    alive = client.submit({**SLEEP, "tag": "alive"})
    _set(runtime, lost, status="running", worker=f"{socket.gethostname()}:{_dead_pid()}")
    _set(runtime, alive, status="running", worker=f"{socket.gethostname()}:{os.getpid()}")
    sent: list[tuple[str, str]] = []
    assert recover_orphans(runtime, lambda job_id, kind: sent.append((job_id, kind))) == [lost]
    assert sent == [(lost, "sleep")]
    assert (_job(runtime, lost).status, _job(runtime, alive).status) == ("queued", "running")
    assert execute(runtime, lost, "me:1") == "succeeded"


def test_an_explain_job_runs_in_its_own_precision(runtime: Runtime, client: JobClient) -> None:
    """``precision`` of a job overrides the worker's (fp32 here) for that job alone: each
    job's map equals the library's map computed in that precision."""
    import numpy as np
    import torch

    from genlens.core.data import sample_image
    from genlens.core.models import load_classifier
    from genlens.core.saliency import explain

    spec = {"kind": "explain", "image": "sample:chelsea", "model": "fmnist-cnn"}
    maps = {}
    for precision in (None, "bf16"):
        job_id = client.submit({**spec, "method": "grad-cam", "precision": precision})
        assert execute(runtime, job_id, "me:1") == "succeeded"
        outcome = client.result(job_id)
        assert outcome.result["precision"] == (precision or "fp32")
        (path,) = [a.path for a in outcome.artifacts if a.name == "map.npy"]
        maps[precision] = torch.from_numpy(np.load(path))
    classifier = load_classifier("fmnist-cnn")
    image = classifier.prepare([sample_image("chelsea").convert("L")])
    for precision, expected_in in ((None, "fp32"), ("bf16", "bf16")):
        with classifier.running_in(expected_in):
            expected = explain(classifier, image, method="grad-cam").maps[0]
        torch.testing.assert_close(maps[precision], expected)
    assert not torch.equal(maps[None], maps["bf16"])
