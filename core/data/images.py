"""Image loading and validation shared by every entry point (CLI, worker, demo).

Only PNG, JPEG and WebP are accepted. Size limits are checked from the header **before**
decoding, so a decompression bomb is an error, never a warning or an out-of-memory crash.
"""

import io
import warnings
from pathlib import Path
from typing import BinaryIO

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from genlens.core.errors import ImageError
from genlens.core.limits import ImageLimits

ALLOWED_FORMATS = frozenset({"PNG", "JPEG", "WEBP"})


DEFAULT_LIMITS = ImageLimits()


def load_image(
    source: str | Path | bytes | BinaryIO,
    mode: str = "RGB",
    limits: ImageLimits = DEFAULT_LIMITS,
) -> Image.Image:
    """Open, validate and decode an image; returns a PIL image in ``mode`` ("RGB" or "L").

    EXIF orientation is applied. Raises :class:`ImageError` naming the problem for missing,
    oversized, unsupported, corrupt or truncated input.
    """
    name, data = _read_bytes(source, limits)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=sorted(ALLOWED_FORMATS))
    except UnidentifiedImageError:
        raise ImageError(f"{name}: not a PNG, JPEG or WebP image") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageError(f"{name}: image too large ({exc})") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageError(f"{name}: corrupt or truncated image ({exc})") from None
    width, height = image.size
    if width * height > limits.max_pixels:
        raise ImageError(
            f"{name}: {width}x{height} = {width * height:,} pixels exceeds the limit of "
            f"{limits.max_pixels:,} (possible decompression bomb)"
        )
    try:
        image.load()
        image = ImageOps.exif_transpose(image)
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageError(f"{name}: corrupt or truncated {image.format} image ({exc})") from None
    if image.mode in ("RGBA", "LA", "P") and mode == "RGB":
        image = _flatten_alpha(image.convert("RGBA"))
    return image.convert(mode)


def _read_bytes(source: str | Path | bytes | BinaryIO, limits: ImageLimits) -> tuple[str, bytes]:
    if isinstance(source, bytes):
        name, data = "uploaded image", source
    elif isinstance(source, str | Path):
        path = Path(source)
        name = path.name
        if not path.is_file():
            raise ImageError(f"image file not found: {path}")
        if path.stat().st_size > limits.max_bytes:
            raise ImageError(
                f"{name}: file is {path.stat().st_size:,} bytes, limit {limits.max_bytes:,}"
            )
        data = path.read_bytes()
    else:
        name = getattr(source, "name", "uploaded image")
        data = source.read(limits.max_bytes + 1)
    if len(data) > limits.max_bytes:
        raise ImageError(f"{name}: file exceeds the size limit of {limits.max_bytes:,} bytes")
    if not data:
        raise ImageError(f"{name}: empty file")
    return str(name), data


def _flatten_alpha(image: Image.Image) -> Image.Image:
    background = Image.new("RGBA", image.size, (255, 255, 255, 255))
    return Image.alpha_composite(background, image)


def pil_to_tensor(image: Image.Image) -> torch.Tensor:
    """A PIL image (L or RGB) as a (C, H, W) float32 tensor in [0, 1]."""
    array = np.asarray(image, dtype=np.float32) / 255.0
    array = array[None] if array.ndim == 2 else array.transpose(2, 0, 1)
    return torch.from_numpy(np.ascontiguousarray(array))


def to_pil(image: torch.Tensor) -> Image.Image:
    """A (C, H, W) or (H, W) tensor in [0, 1] as an 8-bit PIL image (L or RGB)."""
    array = image.detach().float().clamp(0, 1).mul(255).round().byte().cpu().numpy()
    if array.ndim == 3:
        array = array[0] if array.shape[0] == 1 else array.transpose(1, 2, 0)
    return Image.fromarray(np.ascontiguousarray(array))


def save_png(image: torch.Tensor | Image.Image, path: str | Path) -> Path:
    """Write a [0, 1] tensor (C, H, W) or a PIL image as PNG, creating parent folders."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    (image if isinstance(image, Image.Image) else to_pil(image)).save(path, format="PNG")
    return path
