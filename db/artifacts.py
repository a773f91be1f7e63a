"""Content-addressed artifact store: an interface plus a local-directory implementation.

Objects live at ``objects/ab/cd/<sha256><ext>`` under the root; a write goes to a temporary
file in the same folder, is fsynced and renamed into place, so readers never see a partial file
and retries of the same content are no-ops. An object store (S3/MinIO) can implement
:class:`ArtifactStore` with the same keys for multi-machine deployments.
"""

import hashlib
import os
import tempfile
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from genlens.db.models import Artifact
from genlens.db.upsert import insert_ignore

EXTENSIONS = {
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/webp": ".webp",
    "application/json": ".json",
    "application/x-npy": ".npy",
    "application/octet-stream": ".bin",
    "text/plain": ".txt",
    "text/csv": ".csv",
    "text/html": ".html",
    "application/jsonl": ".jsonl",
    "application/zip": ".zip",
}


@dataclass(frozen=True)
class StoredObject:
    """What the store knows about one object."""

    sha256: str
    media_type: str
    size: int
    key: str


def object_key(sha256: str, media_type: str) -> str:
    """The relative key of an object: ``objects/ab/cd/<sha256><ext>``."""
    return f"objects/{sha256[:2]}/{sha256[2:4]}/{sha256}{EXTENSIONS.get(media_type, '.bin')}"


class ArtifactStore(ABC):
    """Where artifact bytes live; the database holds their metadata (:class:`Artifact`)."""

    @abstractmethod
    def put(self, data: bytes, media_type: str) -> StoredObject:
        """Store ``data`` (idempotent: the same bytes give the same key)."""

    @abstractmethod
    def read(self, key: str) -> bytes:
        """The bytes stored under ``key``; ``FileNotFoundError`` when missing."""

    @abstractmethod
    def exists(self, key: str) -> bool:
        """Whether ``key`` is stored."""

    @abstractmethod
    def locate(self, key: str) -> str:
        """A location a user can open: a local path, or a URL for remote stores."""


class LocalArtifactStore(ArtifactStore):
    """Artifacts as files under ``root`` (one machine, or a shared filesystem)."""

    def __init__(self, root: str | Path):
        self.root = Path(root).expanduser().resolve()

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root):
            raise ValueError(f"artifact key {key!r} escapes the store")
        return path

    def put(self, data: bytes, media_type: str) -> StoredObject:
        sha256 = hashlib.sha256(data).hexdigest()
        key = object_key(sha256, media_type)
        path = self._path(key)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            try:
                with os.fdopen(handle, "wb") as file:
                    file.write(data)
                    file.flush()
                    os.fsync(file.fileno())
                os.replace(temporary, path)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        return StoredObject(sha256, media_type, len(data), key)

    def read(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def locate(self, key: str) -> str:
        return str(self._path(key))


def record(session: Session, stored: StoredObject) -> None:
    """Insert the :class:`Artifact` row for ``stored`` unless it exists (concurrency-safe)."""
    insert_ignore(
        session,
        Artifact,
        {
            "sha256": stored.sha256,
            "media_type": stored.media_type,
            "size": stored.size,
            "key": stored.key,
        },
    )
