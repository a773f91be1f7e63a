"""Suite folders as zip archives: deterministic packing, the folder an archive unpacks to, and
archives refused before anything is written."""

import io
import stat
import zipfile

import pytest

from genlens.evaluation.suites.archive import SuiteArchiveError, pack_suite, unpack_suite

LIMIT = 1 << 20


def _zip(members: dict[str, bytes], links: tuple[str, ...] = ()) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            info = zipfile.ZipInfo(name)
            if name in links:
                info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def test_packing_is_deterministic_and_round_trips(tmp_path):
    folder = tmp_path / "my-suite"
    (folder / "Bag").mkdir(parents=True)
    (folder / "manifest.json").write_text("[]")
    (folder / "Bag" / "a.png").write_bytes(b"png bytes")
    first = pack_suite(folder)
    (folder / "manifest.json").touch()  # a newer timestamp, the same contents
    assert pack_suite(folder) == first
    with pytest.raises(SuiteArchiveError, match="bytes, limit 10"):
        pack_suite(folder, max_bytes=10)
    unpacked = unpack_suite(first, tmp_path / "out", "ignored", LIMIT)
    assert unpacked == tmp_path / "out" / "my-suite"
    assert (unpacked / "Bag" / "a.png").read_bytes() == b"png bytes"
    assert (unpacked / "manifest.json").read_text() == "[]"


def test_an_archive_with_files_at_its_root_is_named_by_the_caller(tmp_path):
    data = _zip({"manifest.csv": b"image,label\n", "img/a.png": b"x", "__MACOSX/._a": b"junk"})
    folder = unpack_suite(data, tmp_path, "my suite!", LIMIT)
    assert folder == tmp_path / "my-suite"
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")) == [
        "img",
        "img/a.png",
        "manifest.csv",
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"PK not really", "not a zip archive"),
        (_zip({}), "no files"),
        (_zip({"/etc/manifest.json": b"[]"}), "unsafe member path"),
        (_zip({"s/../../manifest.json": b"[]"}), "unsafe member path"),
        (_zip({"s/manifest.json": b"[]", "s/link": b"/etc/passwd"}, ("s/link",)), "is a link"),
        (_zip({"s/big.png": bytes(LIMIT + 1)}), "bytes uncompressed, limit"),
        (_zip({f"s/{i}.png": b"x" for i in range(4)}), "4 files, at most 3"),
    ],
)
def test_bad_archives_are_refused_before_anything_is_written(tmp_path, data, message):
    with pytest.raises(SuiteArchiveError, match=message):
        unpack_suite(data, tmp_path / "out", "suite", LIMIT, max_files=3)
    assert not (tmp_path / "out").exists()
