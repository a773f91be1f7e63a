"""Upper bounds for untrusted input (no torch here: the service settings read them)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class ImageLimits:
    """Upper bounds for untrusted images: ``max_pixels`` (width*height), ``max_bytes`` (file)."""

    max_pixels: int = 40_000_000
    max_bytes: int = 50 * 1024 * 1024
