"""Uploads of the front ends: the image files of a zip for batch jobs, with the size and count
limits checked before anything is decompressed; and an uploaded weights file as a job's
``model``."""

import io
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from genlens.core.errors import ImageError, ModelLoadError
from genlens.core.models import ModelSpec

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp"}


def images_in_zip(data: bytes, max_bytes: int, limit: int = 1000) -> Iterator[tuple[str, bytes]]:
    """``(name, bytes)`` of the image files in a zip archive (by suffix; folders flattened,
    hidden files skipped); at most ``limit`` images of at most ``max_bytes`` each (checked
    before a member is decompressed)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise ImageError(f"not a zip archive: {exc}") from exc
    with archive:
        members = [
            info
            for info in archive.infolist()
            if not info.is_dir()
            and Path(info.filename).suffix.lower() in IMAGE_SUFFIXES
            and not Path(info.filename).name.startswith(".")
        ]
        if len(members) > limit:
            raise ImageError(f"the archive holds {len(members)} images; at most {limit}")
        for info in members:
            if info.file_size > max_bytes:
                raise ImageError(
                    f"{info.filename}: {info.file_size:,} bytes, upload limit {max_bytes:,}"
                )
            yield Path(info.filename).name, archive.read(info)


@contextmanager
def uploaded_weights(
    data: bytes, file_name: str, arch: str, labels: str = "", input_size: int = 0
) -> Iterator[dict[str, Any]]:
    """A job's ``model`` for an uploaded weights file of architecture ``arch`` (a timm or
    torchvision name), with optional comma-separated ``labels`` and square ``input_size``
    (0: 224). The bytes sit in a temporary file while the ``with`` block submits the job:
    submitting loads them once and stores them as an artifact, so no path outlives it."""
    if not arch.strip():
        raise ModelLoadError(f"{file_name}: give the architecture (e.g. resnet18)")
    names = [name.strip() for name in labels.split(",") if name.strip()]
    with tempfile.TemporaryDirectory(prefix="genlens-weights-") as folder:
        path = Path(folder) / Path(file_name).name
        path.write_bytes(data)
        spec = ModelSpec.parse(
            str(path), arch=arch.strip(), labels=names or None, input_size=input_size or None
        )
        yield spec.to_json()
