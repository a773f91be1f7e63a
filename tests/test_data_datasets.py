"""Offline datasets: Fashion-MNIST from the Debian package, MNIST-5k, image folders."""

import gzip
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from genlens.core.data import fashion_mnist, image_folder, mnist_5k, read_idx
from genlens.core.errors import DatasetError


def test_fashion_mnist_from_debian_package():
    train, test = fashion_mnist("train"), fashion_mnist("test")
    assert (len(train), len(test)) == (60_000, 10_000)
    assert np.bincount(train.labels).tolist() == [6_000] * 10
    image, label = train[0]
    assert image.shape == (1, 28, 28) and image.dtype == torch.float32
    assert image.min() >= 0.0 and image.max() <= 1.0 and image.max() > 0.5
    assert label == 9 and train.classes[label] == "Ankle boot"  # the well-known first sample


def test_idx_reader_validates_the_header(tmp_path: Path):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    good = tmp_path / "good-idx3-ubyte.gz"
    header = bytes([0, 0, 8, 3]) + b"".join(int(d).to_bytes(4, "big") for d in images.shape)
    with gzip.open(good, "wb") as handle:
        handle.write(header + images.tobytes())
    assert np.array_equal(read_idx(good), images)
    bad = tmp_path / "bad-idx3-ubyte.gz"
    with gzip.open(bad, "wb") as handle:
        handle.write(header + images.tobytes()[:-1])
    with pytest.raises(DatasetError, match="header promises 24 bytes"):
        read_idx(bad)
    with pytest.raises(DatasetError, match="dataset-fashion-mnist"):
        fashion_mnist(root=tmp_path)


def test_mnist_5k():
    dataset = mnist_5k()
    assert len(dataset) == 5_000
    assert np.bincount(dataset.labels).tolist() == [500] * 10
    assert dataset[0][0].shape == (1, 28, 28)


def test_image_folder(tmp_path: Path):
    for label, colour in (("cats", "red"), ("dogs", "blue")):
        (tmp_path / label).mkdir()
        Image.new("RGB", (8, 6), colour).save(tmp_path / label / "a.png")
    (tmp_path / "dogs" / "notes.txt").write_text("ignored")
    dataset = image_folder(tmp_path)
    assert dataset.classes == ["cats", "dogs"] and len(dataset) == 2
    image, label = dataset[1]
    assert label == 1 and image.shape == (3, 6, 8) and image[2].mean() == 1.0
    (tmp_path / "dogs" / "broken.png").write_bytes(b"\x89PNG broken")
    with pytest.raises(DatasetError, match="bad image in dataset"):
        image_folder(tmp_path)[2]
