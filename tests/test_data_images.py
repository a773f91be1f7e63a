"""Image loading and validation: formats, limits, decompression bombs, corrupt files, EXIF."""

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from genlens.core.data import (
    ImageLimits,
    load_image,
    resolve_image,
    sample_image,
    sample_names,
    save_png,
)
from genlens.core.errors import ImageError


def png_bytes(width: int, height: int) -> bytes:
    """A syntactically valid PNG header claiming width x height, with a tiny IDAT."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 16))
        + chunk(b"IEND", b"")
    )


def encoded(image: Image.Image, fmt: str, **kwargs) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **kwargs)
    return buffer.getvalue()


def test_decompression_bomb_is_an_error_not_a_warning():
    with pytest.raises(ImageError, match="too large"):
        load_image(png_bytes(100_000, 100_000))
    with pytest.raises(ImageError, match="exceeds the limit"):
        load_image(png_bytes(8_000, 8_000))  # 64 MP: under PIL's limit, over genlens' default


def test_pixel_and_byte_limits_are_configurable(tmp_path: Path):
    data = encoded(Image.new("RGB", (64, 64), "red"), "PNG")
    with pytest.raises(ImageError, match="exceeds the limit of 1,000"):
        load_image(data, limits=ImageLimits(max_pixels=1_000))
    path = tmp_path / "red.png"
    path.write_bytes(data)
    with pytest.raises(ImageError, match="bytes"):
        load_image(path, limits=ImageLimits(max_bytes=10))


def test_corrupt_and_truncated_files(tmp_path: Path):
    jpeg = encoded(sample_image("chelsea"), "JPEG", quality=90)
    with pytest.raises(ImageError, match="corrupt or truncated JPEG"):
        load_image(jpeg[: len(jpeg) // 2])
    with pytest.raises(ImageError, match="not a PNG, JPEG or WebP"):
        load_image(b"this is not an image at all")
    with pytest.raises(ImageError, match="not a PNG, JPEG or WebP"):
        load_image(encoded(Image.new("RGB", (4, 4)), "GIF"))
    with pytest.raises(ImageError, match="empty file"):
        load_image(b"")
    with pytest.raises(ImageError, match="not found"):
        load_image(tmp_path / "missing.png")


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_supported_formats_round_trip(fmt: str):
    source = Image.fromarray(np.full((10, 20, 3), 200, dtype=np.uint8))
    image = load_image(encoded(source, fmt, **({"quality": 100} if fmt != "PNG" else {})))
    assert image.size == (20, 10) and image.mode == "RGB"
    assert abs(np.asarray(image).astype(int) - 200).max() <= 2


def test_exif_orientation_and_modes():
    source = Image.new("RGB", (30, 10), "blue")
    exif = source.getexif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise when displayed
    image = load_image(encoded(source, "JPEG", exif=exif))
    assert image.size == (10, 30)
    gray = load_image(encoded(source, "PNG"), mode="L")
    assert gray.mode == "L"
    transparent = load_image(encoded(Image.new("RGBA", (2, 2), (0, 0, 0, 0)), "PNG"))
    assert np.asarray(transparent).min() == 255  # alpha flattened on white


def test_sample_photos_and_references(tmp_path: Path):
    assert {"chelsea", "coffee", "china", "flower", "grace_hopper"} <= set(sample_names())
    assert sample_image("chelsea").size == (451, 300)
    assert resolve_image("sample:camera").mode == "RGB"
    with pytest.raises(ImageError, match="unknown sample image"):
        sample_image("unicorn")
    written = save_png(torch.rand(3, 5, 6), tmp_path / "a" / "b.png")
    assert load_image(written).size == (6, 5)
