"""Submitting jobs (no worker needed) on SQLite and on a real PostgreSQL: bad specs are
rejected before anything is stored or sent, the same spec is idempotent, batches."""

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import func, select

from genlens.core import defaults
from genlens.core.errors import GenlensError
from genlens.db.models import Job, JobArtifact
from genlens.worker.client import JobClient, aggregate
from genlens.worker.settings import Settings

pytest_plugins = ["service_fixtures"]


@pytest.fixture
def client(database_url: str, tmp_path: Path) -> JobClient:
    """A client on the filesystem broker under tmp_path, uploads capped at 20 kB."""
    settings = Settings(data_dir=tmp_path, database_url=database_url, max_upload_bytes=20_000)
    client = JobClient(settings)
    yield client
    client.close()


def _png(size: int, noise: bool = False) -> bytes:
    rng = np.random.default_rng(0)
    pixels = (
        rng.integers(0, 255, (size, size, 3), dtype=np.uint8)
        if noise
        else np.full((size, size, 3), 128, np.uint8)
    )
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def _messages(client: JobClient) -> list[Path]:
    return list((client.settings.broker_folder / "queue").glob("*.msg"))


def _rows(client: JobClient) -> int:
    with client.db.begin() as session:
        return session.scalar(select(func.count()).select_from(Job))


EXPLAIN = {"kind": "explain", "image": "sample:chelsea"}
BAD_SPECS = {
    "no kind": ({"image": "sample:chelsea"}, "'kind'"),
    "unknown kind": ({"kind": "telepathy"}, "unknown job kind 'telepathy'"),
    "unknown method": ({**EXPLAIN, "method": "magic"}, "unknown saliency method 'magic'"),
    "unknown infill": ({**EXPLAIN, "infill": "paint"}, "unknown in-filler 'paint'"),
    "bad steps": ({**EXPLAIN, "steps": -3}, "'steps'"),
    "unknown parameter": ({**EXPLAIN, "params": {"colour": 1}}, "no parameter(s) ['colour']"),
    "unknown field": ({**EXPLAIN, "colour": 1}, "unknown field(s) ['colour']"),
    "unknown model": (
        {**EXPLAIN, "model": "resnet9000"},
        "'resnet9000' is neither a registered model",
    ),
    "model path without arch": ({**EXPLAIN, "model": "/etc/passwd"}, "give the architecture"),
    "model torchscript": (
        {**EXPLAIN, "model": {"source": "/etc/passwd", "trust_code": True}},
        "jobs do not accept TorchScript",
    ),
    "bad seed": ({**EXPLAIN, "seed": -1}, "seed"),
    "bad target": ({**EXPLAIN, "target": "cat"}, "target"),
    "bad precision": ({**EXPLAIN, "precision": "fp16"}, "precision must be one of fp32, bf16"),
    "no image": ({"kind": "explain"}, "'image' is required"),
    "unknown sample": ({**EXPLAIN, "image": "sample:unicorn"}, "unknown sample image"),
    "missing file": ({**EXPLAIN, "image": "/nonexistent.png"}, "not found"),
    "not an image": ({**EXPLAIN, "image": b"GIF89a not really"}, "not a PNG, JPEG or WebP"),
    "oversized upload": ({**EXPLAIN, "image": _png(256, noise=True)}, "exceeds"),
    "bad sleep": ({"kind": "sleep", "seconds": "long"}, "must be a number"),
    "visualize without units": ({"kind": "visualize"}, "units must be 1 to 64"),
    "visualize bad method": (
        {"kind": "visualize", "units": [1], "method": "magic"},
        "visualize method must be one of",
    ),
    "visualize bad prior": (
        {"kind": "visualize", "units": [1], "method": "dgn", "prior": "nope"},
        "unknown generator prior 'nope'",
    ),
    "visualize bad precision": (
        {"kind": "visualize", "units": [1], "precision": "half"},
        "precision must be one of fp32, bf16",
    ),
    "class-agnostic on logits": (
        {"kind": "visualize", "method": "class-agnostic"},
        "spatial layer",
    ),
}


@pytest.mark.parametrize("name", list(BAD_SPECS))
def test_bad_specs_are_rejected_at_submit(client: JobClient, name: str) -> None:
    spec, message = BAD_SPECS[name]
    with pytest.raises(GenlensError, match=None) as raised:
        client.submit(spec)
    assert message in str(raised.value)
    assert _rows(client) == 0 and _messages(client) == []


def test_oversized_upload_file_is_rejected_before_reading(
    client: JobClient, tmp_path: Path
) -> None:
    path = tmp_path / "big.png"
    path.write_bytes(_png(256, noise=True))
    with pytest.raises(GenlensError, match="upload limit"):
        client.submit({**EXPLAIN, "image": str(path)})
    assert _rows(client) == 0


def test_same_spec_returns_the_same_job(client: JobClient) -> None:
    first = client.submit({**EXPLAIN, "steps": 5})
    assert (
        client.submit({**EXPLAIN, "steps": 5, "method": defaults.EXPLAIN_METHOD, "seed": 0})
        == first
    )
    assert client.submit({**EXPLAIN, "steps": 5, "seed": 1}) != first
    upload = client.submit({**EXPLAIN, "image": _png(32)})
    assert client.submit({**EXPLAIN, "image": _png(32)}) == upload
    assert _rows(client) == 3 and len(_messages(client)) == 3
    inputs = client.result(upload).artifacts
    assert [(a.role, a.name, a.media_type) for a in inputs] == [("input", "image", "image/png")]
    assert client.status(first).status == "queued"


def test_failed_or_cancelled_jobs_are_not_reused(client: JobClient) -> None:
    spec = {"kind": "sleep", "steps": 1}
    first = client.submit(spec)
    assert client.cancel(first).status == "cancelled"
    assert client.submit(spec) != first


def test_batch_is_a_parent_with_children(client: JobClient) -> None:
    specs = [
        {**EXPLAIN, "image": image, **method}
        for image in ("sample:chelsea", "sample:coffee")
        for method in ({"method": "fido-ssr", "steps": 3}, {"method": "gradient"})
    ]
    parent = client.submit_batch(specs)
    outcome = client.result(parent)
    assert len(outcome.children) == 4 and outcome.status.kind == "batch"
    assert (outcome.status.status, outcome.status.children) == ("queued", 4)
    assert client.submit_batch(specs) == parent
    assert len(_messages(client)) == 4
    with pytest.raises(GenlensError, match="magic"):
        client.submit_batch([*specs, {**EXPLAIN, "method": "magic"}])
    assert client.cancel(parent).status == "cancelled"
    assert {client.status(child).status for child in outcome.children} == {"cancelled"}


def test_batch_children_reuse_succeeded_results(client: JobClient) -> None:
    spec = {"kind": "sleep", "steps": 1, "tag": "cached"}
    done = client.submit(spec)
    with client.db.begin() as session:
        job = session.get(Job, done)
        job.status, job.result = "succeeded", {"steps": 1}
    parent = client.submit_batch([spec, {"kind": "sleep", "steps": 2}])
    children = [client.status(child) for child in client.result(parent).children]
    assert sorted(child.status for child in children) == ["queued", "succeeded"]
    assert client.status(parent).status == "running"
    with client.db.begin() as session:
        assert session.scalar(select(func.count()).select_from(JobArtifact)) == 0


def test_aggregate_status() -> None:
    assert aggregate(["queued", "queued"]) == "queued"
    assert aggregate(["queued", "succeeded"]) == "running"
    assert aggregate(["succeeded", "failed", "cancelled"]) == "failed"
    assert aggregate(["succeeded", "cancelled"]) == "cancelled"
    assert aggregate(["succeeded"]) == "succeeded"
