"""Suite folders as zip archives: how a folder suite travels from the submitter to a worker.

:func:`pack_suite` zips a folder (the same files always give the same bytes, so a suite's
archive has one hash); :func:`unpack_suite` extracts an uploaded archive after checking every
member: no absolute paths, no ``..``, no links, at most ``max_files`` files and ``max_bytes``
uncompressed, all checked before a byte is written. An archive whose files sit in one
top-level folder is that folder (``zip -r my-suite.zip my-suite/``); one with the manifest at
its root is a folder named by the caller.
"""

import io
import stat
import zipfile
from pathlib import Path, PurePosixPath

from genlens.core.errors import ParameterError

FIXED_TIME = (1980, 1, 1, 0, 0, 0)
"""Timestamp of every packed member (the zip epoch), so equal folders give equal bytes."""
IGNORED_PARTS = ("__MACOSX",)
"""Top-level folders that archivers add and that are no part of the suite."""


class SuiteArchiveError(ParameterError):
    """An uploaded suite archive that cannot be used (bad zip, unsafe paths, too large)."""


def pack_suite(folder: str | Path, max_bytes: int | None = None) -> bytes:
    """A zip of every file under ``folder`` inside a top-level folder of the same name, in
    sorted order with fixed timestamps (deterministic bytes); refused before reading when the
    files hold more than ``max_bytes`` bytes."""
    root = Path(folder).resolve()
    if not root.is_dir():
        raise SuiteArchiveError(f"suite folder {folder} is not a folder")
    files = sorted(p for p in root.rglob("*") if p.is_file())
    size = sum(path.stat().st_size for path in files)
    if max_bytes is not None and size > max_bytes:
        raise SuiteArchiveError(f"suite folder {folder}: {size:,} bytes, limit {max_bytes:,}")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            name = f"{root.name}/{path.relative_to(root).as_posix()}"
            info = zipfile.ZipInfo(name, FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, path.read_bytes())
    return buffer.getvalue()


def unpack_suite(
    data: bytes, dest: str | Path, name: str, max_bytes: int, max_files: int = 20_000
) -> Path:
    """Extract a suite archive under ``dest`` and return the suite folder.

    The folder is ``dest/<top>`` when every member lies in one top-level folder ``<top>``,
    else ``dest/<name>``. Raises :class:`SuiteArchiveError` (nothing written) when the bytes
    are not a zip, a member's path is absolute, leaves the folder or is a link, or the archive
    holds more than ``max_files`` files or ``max_bytes`` bytes uncompressed.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise SuiteArchiveError(f"suite archive: not a zip archive ({exc})") from None
    with archive:
        members = [info for info in archive.infolist() if not _ignored(info.filename)]
        files = [info for info in members if not info.is_dir()]
        for info in members:
            _check_member(info)
        if not files:
            raise SuiteArchiveError("suite archive: no files")
        if len(files) > max_files:
            raise SuiteArchiveError(f"suite archive: {len(files)} files, at most {max_files}")
        size = sum(info.file_size for info in files)
        if size > max_bytes:
            raise SuiteArchiveError(
                f"suite archive: {size:,} bytes uncompressed, limit {max_bytes:,}"
            )
        tops = {PurePosixPath(info.filename).parts[0] for info in members}
        nested = len(tops) == 1 and all(
            len(PurePosixPath(info.filename).parts) > 1 for info in files
        )
        folder = Path(dest) / (tops.pop() if nested else _safe_name(name))
        prefix = 1 if nested else 0
        for info in files:
            parts = PurePosixPath(info.filename).parts[prefix:]
            target = folder.joinpath(*parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(archive.read(info))
    return folder


def _ignored(filename: str) -> bool:
    return PurePosixPath(filename).parts[0] in IGNORED_PARTS


def _check_member(info: zipfile.ZipInfo) -> None:
    path = PurePosixPath(info.filename)
    if path.is_absolute() or ".." in path.parts or "\\" in info.filename:
        raise SuiteArchiveError(f"suite archive: unsafe member path {info.filename!r}")
    if stat.S_ISLNK(info.external_attr >> 16):
        raise SuiteArchiveError(f"suite archive: {info.filename} is a link")


def _safe_name(name: str) -> str:
    """``name`` as one folder name (the archive's file stem, say)."""
    cleaned = "".join(c if c.isalnum() or c in "-_." else "-" for c in name).strip(".-")
    return cleaned or "suite"
