"""Worlds: the small image domains genlens trains its own models on.

A world fixes the image size, channels, classes and train/val/test data. Data comes back as
in-memory tensors: images (N, C, H, W) uint8 and labels (N,) int64.

* ``fmnist``: Fashion-MNIST resized (bilinear, antialiased) from 28x28 to 32x32; train = the
  60k train images, test = the 10k test images (val = the last 5k train images).
* ``blockfashion``: the 64x64 BlockFashion ground-truth benchmark
  (``genlens.core.data.blockfashion``).
* ``oracle-blocks``: 32x32 grids of textured blocks with a known distribution, so the ideal
  in-filler is exact (``genlens.core.data.oracle_blocks``).
* ``faces``: 64x64 RGB faces sampled from the DCGAN of ``gan-face-generate``
  (``genlens.core.generative.faces``); one label, ``face``.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import torch
import torch.nn.functional as F

from genlens.core.data import oracle_blocks
from genlens.core.data.blockfashion import load_split
from genlens.core.data.datasets import FASHION_MNIST_CLASSES, fashion_mnist
from genlens.core.errors import ParameterError
from genlens.core.generative.faces import faces_split
from genlens.core.models.preprocessing import Preprocessing

WorldData = tuple[torch.Tensor, torch.Tensor]
"""(images (N, C, H, W) uint8, labels (N,) int64)."""


@dataclass(frozen=True)
class World:
    """An image domain: size, labels, normalisation statistics and its data splits."""

    name: str
    description: str
    size: int
    channels: int
    labels: tuple[str, ...]
    mean: float
    std: float
    loader: Callable[[str], WorldData]

    @property
    def preprocessing(self) -> Preprocessing:
        """The input contract of classifiers trained on this world (no crop, bilinear)."""
        return Preprocessing(
            (self.size, self.size),
            (self.mean,) * self.channels,
            (self.std,) * self.channels,
            1.0,
            "bilinear",
        )

    def split(self, name: str) -> WorldData:
        """Split ``train``, ``val`` or ``test`` as (images uint8, labels int64) tensors."""
        if name not in ("train", "val", "test"):
            raise ParameterError(f"unknown split {name!r}; use train, val or test")
        return self.loader(name)


@cache
def _fmnist(split: str) -> WorldData:
    source = fashion_mnist("test" if split == "test" else "train")
    images = torch.tensor(source.images).unsqueeze(1).float()
    labels = torch.tensor(source.labels)
    if split == "val":
        images, labels = images[-5000:], labels[-5000:]
    resized = F.interpolate(images, size=(32, 32), mode="bilinear", antialias=True)
    return resized.round().clamp(0, 255).to(torch.uint8), labels


@cache
def _blockfashion(split: str) -> WorldData:
    arrays = load_split(split)
    return torch.from_numpy(arrays.images).unsqueeze(1), torch.from_numpy(arrays.labels)


@cache
def _oracle_blocks(split: str) -> WorldData:
    arrays = oracle_blocks.load_split(split)
    return torch.from_numpy(arrays.images).unsqueeze(1), torch.from_numpy(arrays.labels)


@cache
def _faces(split: str) -> WorldData:
    images = torch.from_numpy(faces_split(split))
    return images, torch.zeros(len(images), dtype=torch.int64)


WORLDS: dict[str, World] = {
    "fmnist": World(
        "fmnist", "Fashion-MNIST at 32x32", 32, 1, FASHION_MNIST_CLASSES, 0.286, 0.353, _fmnist
    ),
    "blockfashion": World(
        "blockfashion",
        "BlockFashion 64x64 ground-truth benchmark",
        64,
        1,
        FASHION_MNIST_CLASSES,
        0.25,
        0.25,
        _blockfashion,
    ),
    "oracle-blocks": World(
        "oracle-blocks",
        "Oracle blocks 32x32: known distribution, exact in-filler",
        oracle_blocks.SIZE,
        1,
        oracle_blocks.CLASSES,
        0.5,
        0.25,
        _oracle_blocks,
    ),
    "faces": World("faces", "DCGAN faces at 64x64 RGB", 64, 3, ("face",), 0.5, 0.5, _faces),
}


def get_world(name: str) -> World:
    """The world called ``name``; unknown names raise :class:`ParameterError`."""
    try:
        return WORLDS[name]
    except KeyError:
        raise ParameterError(f"unknown dataset {name!r}; choose from {', '.join(WORLDS)}") from None


def to_unit(images: torch.Tensor) -> torch.Tensor:
    """uint8 images -> float in [0, 1] (same shape)."""
    return images.float().div_(255.0)
