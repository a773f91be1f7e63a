"""The ``faces`` world: 64x64 RGB faces sampled from the ``gan-face-generate`` DCGAN.

Codes z ~ N(0, I) are drawn from a seeded generator per split (train 6000, val 500, test 1000
images), decoded by the frozen DCGAN
(:class:`genlens.core.featviz.generator_prior.DCGANFacePrior`) and
stored as uint8 in ``<cache>/faces-dcgan/<split>-seed<seed>-<count>.npy`` (cache =
``$GENLENS_CACHE_DIR`` or ``~/.cache/genlens``), so the data are generated once per machine and
identical everywhere (same torch version). Labels are all 0 (one class, ``face``): the faces
carry no annotations; the expression classifier supplies features, not labels.

:data:`PHOTO_FACES` are real photographed faces that ship with the packages, cropped to the
DCGAN faces' framing (the face filling the square): the astronaut (Eileen Collins) and
Grace Hopper photos, and three faces of scikit-image's ``lfw_subset`` (25x25 grayscale, shown as
RGB). ``faces:photo:NAME`` names them wherever a world image reference is accepted.
"""

from pathlib import Path

import numpy as np
import torch
from PIL import Image

from genlens.core.data import sample_image
from genlens.core.data.blockfashion import default_cache_dir
from genlens.core.errors import ImageError
from genlens.core.featviz.generator_prior import DCGANFacePrior

SPLITS = {"train": (6000, 0), "val": (500, 1), "test": (1000, 2)}
"""split -> (images, seed offset)."""
BATCH = 200
SIZE = 64


def generate_faces(count: int, seed: int) -> np.ndarray:
    """``count`` DCGAN faces (count, 3, 64, 64) uint8 from codes drawn with ``seed``."""
    prior = DCGANFacePrior("cpu")
    generator = torch.Generator().manual_seed(seed)
    parts = []
    with torch.no_grad():
        for start in range(0, count, BATCH):
            codes = prior.sample_codes(min(BATCH, count - start), generator)
            parts.append(prior.generate(codes).mul(255).round().clamp(0, 255).to(torch.uint8))
    return torch.cat(parts).numpy()


def faces_split(split: str, seed: int = 0, cache_dir: str | Path | None = None) -> np.ndarray:
    """Images (N, 3, 64, 64) uint8 of ``split``, generated on first use and cached."""
    count, offset = SPLITS[split]
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    path = folder / "faces-dcgan" / f"{split}-seed{seed}-{count}.npy"
    if path.is_file():
        return np.load(path)
    images = generate_faces(count, 1_000 * seed + offset)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp.npy")
    np.save(temporary, images)
    temporary.replace(path)
    return images


PHOTO_CROPS = {"astronaut": (160, 30, 300, 170), "grace_hopper": (125, 110, 395, 380)}
"""Shipped photo -> face box (left, upper, right, lower) in pixels."""
LFW_FACES = {"lfw_0": 0, "lfw_1": 20, "lfw_2": 40}
"""Name -> index into scikit-image's ``lfw_subset`` (its first 100 images are faces)."""
PHOTO_FACES = (*PHOTO_CROPS, *LFW_FACES)
"""Names of the real face photos, in display order."""


def photo_face(name: str) -> Image.Image:
    """The real face ``name`` of :data:`PHOTO_FACES` as a square RGB PIL image."""
    if name in PHOTO_CROPS:
        return sample_image(name).crop(PHOTO_CROPS[name])
    if name in LFW_FACES:
        from skimage.data import lfw_subset

        gray = (lfw_subset()[LFW_FACES[name]] * 255).round().astype(np.uint8)
        return Image.fromarray(gray).convert("RGB")
    raise ImageError(f"unknown face photo {name!r}; choose from {', '.join(PHOTO_FACES)}")
