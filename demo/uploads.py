"""Uploaded archives for batch jobs: the image files of a zip, with the size and count limits
checked before anything is decompressed."""

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

from genlens.core.errors import ImageError

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
