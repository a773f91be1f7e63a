"""Database layer on SQLite and on a real PostgreSQL: migrations, constraints, artifacts."""

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from db.engine import Database
from genlens.db.artifacts import LocalArtifactStore, object_key, record
from genlens.db.migrate import drift, upgrade
from genlens.db.models import (
    Artifact,
    BenchmarkRun,
    Dataset,
    Job,
    JobArtifact,
    MetricResult,
    RegisteredModel,
)

pytest_plugins = ["service_fixtures"]


def _job(job_id: str = "job-1", **values: object) -> Job:
    defaults = {
        "kind": "sleep",
        "queue": "cpu",
        "parameters": {"steps": 1},
        "params_hash": "h" * 64,
    }
    return Job(id=job_id, **{**defaults, **values})


def test_migrations_match_models(database: Database) -> None:
    assert drift(database.engine) == []
    upgrade(database.url)  # idempotent


def test_job_round_trip_with_defaults(database: Database) -> None:
    with database.begin() as session:
        session.add(_job(parameters={"nested": {"a": [1, 2]}}))
    with database.begin() as session:
        job = session.get(Job, "job-1")
        assert (job.status, job.progress, job.attempts, job.cancel_requested) == (
            "queued",
            0.0,
            0,
            False,
        )
        assert job.parameters == {"nested": {"a": [1, 2]}}
        assert job.created_at is not None and job.artifacts == []


def test_foreign_keys_are_enforced(database: Database) -> None:
    with pytest.raises(IntegrityError), database.begin() as session:
        session.add(_job())
        session.flush()
        session.add(JobArtifact(job_id="job-1", role="map", name="m", sha256="0" * 64))


def test_artifact_record_is_idempotent_and_linked(database: Database, tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path / "artifacts")
    stored = store.put(b"\x89PNG fake", "image/png")
    with database.begin() as session:
        session.add(_job())
        record(session, stored)
        record(session, stored)
        session.flush()
        session.add(JobArtifact(job_id="job-1", role="overlay", name="o.png", sha256=stored.sha256))
    with database.begin() as session:
        assert len(session.scalars(select(Artifact)).all()) == 1
        link = session.get(Job, "job-1").artifacts[0]
        assert (link.role, link.artifact.size, link.artifact.key) == (
            "overlay",
            len(b"\x89PNG fake"),
            stored.key,
        )


def test_benchmark_runs_and_metrics(database: Database) -> None:
    with database.begin() as session:
        model = RegisteredModel(name="efficientnet_lite0", arch="efficientnet_lite0")
        dataset = Dataset(name="imagenet-val-50", location="sample:", num_items=50)
        session.add_all([model, dataset])
        session.flush()
        run = BenchmarkRun(
            id="run-1",
            model_id=model.id,
            dataset_id=dataset.id,
            split="val",
            method="fido-ssr",
            parameters={"steps": 10},
            code_version="abc",
        )
        run.metrics = [
            MetricResult(metric="deletion_auc", value=0.25, n=50),
            MetricResult(metric="insertion_auc", value=0.75, n=50),
        ]
        session.add(run)
    with database.begin() as session:
        values = {m.metric: m.value for m in session.get(BenchmarkRun, "run-1").metrics}
        assert values == {"deletion_auc": 0.25, "insertion_auc": 0.75}
    with pytest.raises(IntegrityError), database.begin() as session:
        session.add(RegisteredModel(name="efficientnet_lite0"))


def test_sqlite_connection_settings(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'sub' / 'x.db'}")
    with db.engine.connect() as connection:
        pragmas = {
            name: connection.execute(text(f"PRAGMA {name}")).scalar()
            for name in ("journal_mode", "foreign_keys", "busy_timeout", "synchronous")
        }
    db.close()
    assert pragmas == {
        "journal_mode": "wal",
        "foreign_keys": 1,
        "busy_timeout": 30000,
        "synchronous": 1,
    }


def test_store_is_content_addressed_and_atomic(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path)
    data = b"hello"
    first, second = store.put(data, "text/plain"), store.put(data, "text/plain")
    sha = hashlib.sha256(data).hexdigest()
    assert first == second and first.sha256 == sha
    assert first.key == object_key(sha, "text/plain") == f"objects/{sha[:2]}/{sha[2:4]}/{sha}.txt"
    assert store.read(first.key) == data and store.exists(first.key)
    assert not list(tmp_path.rglob(".tmp-*"))
    with pytest.raises(ValueError, match="escapes"):
        store.read("../../etc/passwd")


def test_cli_db_upgrade_from_any_directory(tmp_path: Path) -> None:
    env = {"GENLENS_DATA_DIR": str(tmp_path / "data"), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", "from genlens.demo.cli import main; main()", "db", "upgrade"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "data" / "genlens.db").is_file()
    db = Database(f"sqlite:///{tmp_path / 'data' / 'genlens.db'}")
    assert drift(db.engine) == []
    db.close()
