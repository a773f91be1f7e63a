"""Real photos that ship inside scikit-image, scikit-learn and matplotlib, by name.

They work offline and are used for demos, tests and benchmark suites. ``sample:NAME`` is
accepted wherever an image path is (CLI, worker), see :func:`resolve_image`.
"""

from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

from genlens.core.data.images import load_image
from genlens.core.errors import ImageError

SAMPLE_PREFIX = "sample:"


def _skimage(name: str) -> Callable[[], np.ndarray]:
    def load() -> np.ndarray:
        from skimage import data

        return getattr(data, name)()

    return load


def _sklearn(filename: str) -> Callable[[], np.ndarray]:
    def load() -> np.ndarray:
        from sklearn.datasets import load_sample_image

        return load_sample_image(filename)

    return load


def _matplotlib(filename: str) -> Callable[[], np.ndarray]:
    def load() -> np.ndarray:
        from matplotlib import cbook

        return np.asarray(load_image(cbook.get_sample_data(filename, asfileobj=False)))

    return load


def _stereo(view: int) -> Callable[[], np.ndarray]:
    def load() -> np.ndarray:
        from skimage import data

        return data.stereo_motorcycle()[view]

    return load


_SKIMAGE_PHOTOS = (
    "astronaut",
    "chelsea",
    "coffee",
    "hubble_deep_field",
    "immunohistochemistry",
    "retina",
    "rocket",
    "brick",
    "camera",
    "cell",
    "clock",
    "coins",
    "grass",
    "gravel",
    "microaneurysms",
    "moon",
    "page",
    "text",
)
"""Every photograph scikit-image ships (offline-assets.md §3), colour then grayscale; its
synthetic images (colorwheel, logo, checkerboard, phantom, horse) are not photos."""

SAMPLES: dict[str, Callable[[], np.ndarray]] = {
    **{name: _skimage(name) for name in _SKIMAGE_PHOTOS},
    "motorcycle": _stereo(0),
    "motorcycle_right": _stereo(1),
    "china": _sklearn("china.jpg"),
    "flower": _sklearn("flower.jpg"),
    "grace_hopper": _matplotlib("grace_hopper.jpg"),
}


def sample_names() -> list[str]:
    """Names accepted by :func:`sample_image`."""
    return sorted(SAMPLES)


def sample_image(name: str) -> Image.Image:
    """The shipped photo ``name`` as an RGB PIL image (grayscale photos are converted)."""
    if name not in SAMPLES:
        raise ImageError(f"unknown sample image {name!r}; choose from {', '.join(sample_names())}")
    array = SAMPLES[name]()
    if array.dtype != np.uint8:
        array = (np.clip(array, 0, 1) * 255).round().astype(np.uint8)
    return Image.fromarray(array).convert("RGB")


def resolve_image(reference: str | Path, mode: str = "RGB") -> Image.Image:
    """Load ``sample:NAME`` from the shipped photos or a path through :func:`load_image`."""
    text = str(reference)
    if text.startswith(SAMPLE_PREFIX):
        return sample_image(text.removeprefix(SAMPLE_PREFIX)).convert(mode)
    return load_image(reference, mode=mode)


def image_label(reference: str | Path) -> str:
    """A short display name: the sample name or the file stem."""
    text = str(reference)
    return text.removeprefix(SAMPLE_PREFIX) if text.startswith(SAMPLE_PREFIX) else Path(text).stem
