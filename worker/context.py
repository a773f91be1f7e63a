"""What job kinds see: :class:`SubmitContext` when a spec is validated (in the submitting
process) and :class:`JobContext` while a job runs (in a worker process), plus the per-process
:class:`Runtime` (database, artifact store, model cache)."""

import hashlib
import io
import json
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from PIL import Image
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from genlens.core.data import load_image, sample_image, sample_names
from genlens.core.data.samples import SAMPLE_PREFIX
from genlens.core.errors import ImageError, ModelLoadError
from genlens.core.models import Classifier, ModelSpec
from genlens.core.registries import CLASSIFIERS
from genlens.db.artifacts import ArtifactStore, LocalArtifactStore, StoredObject
from genlens.db.engine import Database
from genlens.db.models import Artifact, Job, utcnow
from genlens.worker.settings import Settings, get_settings

ARTIFACT_PREFIX = "artifact:"
IMAGE_MEDIA_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}


class JobCancelled(Exception):
    """Raised by :meth:`JobContext.progress` when the job was cancelled or taken over."""


class Runtime:
    """Per-process service state: settings, database, artifact store and loaded classifiers."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.db = Database(settings.database)
        self.store: ArtifactStore = LocalArtifactStore(settings.artifacts)
        self._classifiers: dict[str, Classifier] = {}

    def classifier(self, model: str | dict[str, Any]) -> Classifier:
        """The classifier of a job's ``model`` (a registered name, or the weights reference
        :meth:`SubmitContext.model` stored), loaded on first use and cached in this process."""
        key = json.dumps(model, sort_keys=True)
        if key not in self._classifiers:
            self._classifiers[key] = self.model_spec(model).load(self.settings.device)
        return self._classifiers[key]

    def model_spec(self, model: str | dict[str, Any]) -> ModelSpec:
        """The :class:`ModelSpec` of a job's ``model``; stored weights become a local file."""
        policy = {"precision": self.settings.precision, "compile": self.settings.compile}
        if isinstance(model, str):
            return ModelSpec(model, **policy)
        fields = {**model, **policy}
        sha256 = fields.pop("weights").removeprefix(ARTIFACT_PREFIX)
        path = self.settings.root / "models" / f"{sha256}{fields.pop('suffix')}"
        if not path.is_file():
            missing = ModelLoadError(f"model weights artifact {sha256} is missing")
            data = self.artifact_bytes(sha256, missing)
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(f".{os.getpid()}.partial")
            partial.write_bytes(data)
            os.replace(partial, path)
        return ModelSpec.from_json({**fields, "source": str(path)})

    def artifact_bytes(self, sha256: str, missing: Exception) -> bytes:
        """The bytes of the stored artifact ``sha256``; raises ``missing`` when it is gone."""
        with self.db.begin() as session:
            artifact = session.get(Artifact, sha256)
            if artifact is None:
                raise missing
            key = artifact.key
        return self.store.read(key)

    def after_fork(self) -> None:
        """Call in a freshly forked worker child: never reuse the parent's DB connections."""
        self.db.after_fork()


@lru_cache(maxsize=1)
def get_runtime() -> Runtime:
    """The process-wide runtime built from :func:`get_settings`."""
    return Runtime(get_settings())


def process_identity() -> str:
    """``host:pid`` of this process, stored as the job's worker."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class SubmitContext:
    """Given to a kind's validator: stores uploads and records them as the job's inputs."""

    settings: Settings
    store: ArtifactStore
    session: Session
    inputs: list[tuple[str, StoredObject]] = field(default_factory=list)

    def image(self, value: Any, name: str = "image") -> str:
        """Validate an image given as ``sample:NAME``, ``artifact:<sha256>``, a path or bytes.

        Files and bytes are checked against the upload limits, decoded once to prove they are
        valid, then stored; the canonical reference ``artifact:<sha256>`` is returned.
        """
        if isinstance(value, str) and value.startswith(SAMPLE_PREFIX):
            if value.removeprefix(SAMPLE_PREFIX) not in sample_names():
                raise ImageError(
                    f"unknown sample image {value!r}; choose from {', '.join(sample_names())}"
                )
            return value
        if isinstance(value, str) and value.startswith(ARTIFACT_PREFIX):
            sha256 = value.removeprefix(ARTIFACT_PREFIX)
            if self.session.get(Artifact, sha256) is None:
                raise ImageError(f"{name}: no stored artifact {sha256!r}")
            return value
        if isinstance(value, str | Path):
            path = Path(value)
            if not path.is_file():
                raise ImageError(f"{name}: image file not found: {path}")
            limit = self.settings.max_upload_bytes
            if path.stat().st_size > limit:
                raise ImageError(
                    f"{path.name}: file is {path.stat().st_size:,} bytes, upload limit {limit:,}"
                )
            value = path.read_bytes()
        if not isinstance(value, bytes):
            raise ImageError(f"{name}: expected sample:NAME, a file path or image bytes")
        load_image(value, limits=self.settings.upload_limits)
        with Image.open(io.BytesIO(value)) as probe:
            media_type = IMAGE_MEDIA_TYPES[probe.format]
        stored = self.store.put(value, media_type)
        self.inputs.append((name, stored))
        return f"{ARTIFACT_PREFIX}{stored.sha256}"

    def model(self, value: Any, name: str = "model") -> str | dict[str, Any]:
        """Validate a job's classifier: a registered name, a :class:`ModelSpec` (or its JSON)
        of a weights file, or a JSON model card's path.

        A weights file is loaded once here (bad files raise the same one-line
        :class:`ModelLoadError` as ``genlens classify``), then stored: the job carries
        ``{"weights": "artifact:<sha256>", "suffix": ..., "arch": ..., ...}`` and the worker
        never reads the submitter's path. TorchScript files are refused (they contain code).
        """
        if isinstance(value, str):
            value = ModelSpec.parse(value)
        elif isinstance(value, dict):
            value = ModelSpec.from_json(value)
        if not isinstance(value, ModelSpec):
            raise ModelLoadError(
                f"{name}: a registered model name or a weights file, got {value!r}"
            )
        if value.registered:
            return value.source
        if value.trust_code:
            raise ModelLoadError(f"{name}: jobs do not accept TorchScript files (executable code)")
        path = Path(value.source)
        if not path.is_file():
            raise ModelLoadError(
                f"{name}: {value.source!r} is neither a registered model "
                f"({', '.join(CLASSIFIERS.names())}) nor a weights file"
            )
        limit = self.settings.max_model_bytes
        if path.stat().st_size > limit:
            raise ModelLoadError(
                f"{path.name}: file is {path.stat().st_size:,} bytes, model limit {limit:,}"
            )
        data = path.read_bytes()
        _check_loads(hashlib.sha256(data).hexdigest(), json.dumps(value.to_json(), sort_keys=True))
        stored = self.store.put(data, "application/octet-stream")
        self.inputs.append((name, stored))
        fields = {
            key: v
            for key, v in value.to_json().items()
            if key not in ("source", "trust_code", "precision", "compile")
        }
        return {"weights": f"{ARTIFACT_PREFIX}{stored.sha256}", "suffix": path.suffix, **fields}


@lru_cache(maxsize=32)
def _check_loads(sha256: str, spec: str) -> None:
    """Load a weights file once per content and spec in this process (a batch of jobs on the
    same file is checked once); bad files raise :class:`ModelLoadError`."""
    ModelSpec.from_json(json.loads(spec)).load("cpu")


class JobContext:
    """Given to a kind's runner in the worker: progress + cancellation, inputs and outputs."""

    def __init__(self, runtime: Runtime, job_id: str, identity: str):
        self.runtime = runtime
        self.job_id = job_id
        self.identity = identity
        self.outputs: list[tuple[str, str, StoredObject]] = []
        self.on_success: list[Callable[[Session], None]] = []
        self._last_write = 0.0

    @property
    def settings(self) -> Settings:
        """The worker's settings."""
        return self.runtime.settings

    def progress(self, done: int, total: int) -> None:
        """A :data:`~genlens.core.progress.ProgressCallback`; raises :class:`JobCancelled` when the
        job
        was cancelled (or taken over by another worker); writes progress at most every
        ``progress_interval`` seconds and at the last step."""
        with self.runtime.db.begin() as session:
            row = session.execute(
                select(Job.cancel_requested, Job.worker).where(Job.id == self.job_id)
            ).one()
            if row.cancel_requested or row.worker != self.identity:
                raise JobCancelled(f"job {self.job_id} cancelled at step {done}/{total}")
            now = time.monotonic()
            if done < total and now - self._last_write < self.settings.progress_interval:
                return
            self._last_write = now
            session.execute(
                update(Job)
                .where(Job.id == self.job_id, Job.worker == self.identity)
                .values(
                    progress=done / total if total else 1.0,
                    message=f"step {done}/{total}",
                    heartbeat_at=utcnow(),
                )
            )

    def save(self, role: str, name: str, data: bytes, media_type: str) -> StoredObject:
        """Store an output file now; it is linked to the job when the job succeeds."""
        stored = self.runtime.store.put(data, media_type)
        self.outputs.append((role, name, stored))
        return stored

    def defer(self, write: Callable[[Session], None]) -> None:
        """Run ``write(session)`` in the transaction that marks the job succeeded, so database
        rows a job produces (e.g. leaderboard rows) exist exactly once, with the job's outcome."""
        self.on_success.append(write)

    def image(self, reference: str, mode: str = "RGB") -> Image.Image:
        """Open an image reference produced by :meth:`SubmitContext.image`."""
        if reference.startswith(SAMPLE_PREFIX):
            return sample_image(reference.removeprefix(SAMPLE_PREFIX)).convert(mode)
        sha256 = reference.removeprefix(ARTIFACT_PREFIX)
        with self.runtime.db.begin() as session:
            artifact = session.get(Artifact, sha256)
            if artifact is None:
                raise ImageError(f"input artifact {sha256} is missing")
            key = artifact.key
        return load_image(
            self.runtime.store.read(key), mode=mode, limits=self.settings.upload_limits
        )

    def classifier(self, model: str | dict[str, Any]) -> Classifier:
        """The classifier of the job's ``model`` from this process's cache."""
        return self.runtime.classifier(model)

    def precision(self, chosen: str | None) -> str:
        """The precision a job runs in: its own ``precision`` field, else the worker's
        ``GENLENS_PRECISION``."""
        return chosen or self.settings.precision
