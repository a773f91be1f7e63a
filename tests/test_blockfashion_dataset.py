"""BlockFashion: masks align with the item, determinism by seed, disjoint splits, cache."""

import numpy as np
import pytest

from genlens.core.data import blockfashion as bf
from genlens.core.errors import DatasetError


@pytest.fixture(scope="module")
def test_split():
    return bf.generate_split("test", seed=0, count=24)


def test_mask_is_exactly_the_item():
    items = bf.source_items("test").images
    digits = bf.source_digits()[:50]
    rng = np.random.default_rng(7)
    for index in range(20):
        canvas, mask, background, (top, left, height, width) = bf.render_sample(
            rng, items[index], digits
        )
        assert canvas.shape == mask.shape == (bf.CANVAS, bf.CANVAS) and mask.any()
        # item pixels inside the mask are bright, and the canvas there shows the item
        assert (canvas[mask] > bf.ITEM_THRESHOLD).all()
        # outside the mask the canvas is the background + distractors, without any item pixel
        np.testing.assert_array_equal(canvas[~mask], background[~mask])
        # the mask lies inside the item box, and nothing of the item is drawn outside it
        box = np.zeros_like(mask)
        box[top : top + height, left : left + width] = True
        assert not (mask & ~box).any()


def test_mask_matches_the_resized_item(test_split):
    images, masks = test_split.images, test_split.masks
    assert images.dtype == np.uint8 and masks.dtype == bool
    assert (images[masks] >= np.floor(bf.ITEM_THRESHOLD * 255)).all()
    fractions = masks.reshape(len(masks), -1).mean(1)
    assert (fractions > 0.05).all() and (fractions < 0.6).all()


def test_labels_are_the_source_item_labels(test_split):
    labels = bf.source_items("test").labels
    np.testing.assert_array_equal(test_split.labels, labels[test_split.sources])


def test_deterministic_by_seed(test_split):
    again = bf.generate_split("test", seed=0, count=24)
    other = bf.generate_split("test", seed=1, count=24)
    np.testing.assert_array_equal(test_split.images, again.images)
    np.testing.assert_array_equal(test_split.masks, again.masks)
    assert not np.array_equal(test_split.images, other.images)


def test_splits_use_disjoint_sources():
    train = bf.generate_split("train", seed=0, count=100)
    val = bf.generate_split("val", seed=0, count=100)
    assert len(set(train.sources)) == 100 and len(set(val.sources)) == 100
    assert train.sources.max() < 50_000 <= val.sources.min()
    assert not set(train.sources) & set(val.sources)
    assert bf.SPLITS["test"].fmnist_split == "test" != bf.SPLITS["train"].fmnist_split
    ranges = [set(bf.SPLITS[name].digits) for name in bf.SPLITS]
    assert not (ranges[0] & ranges[1]) and not (ranges[1] & ranges[2])


def test_cache_written_once_and_reloaded(tmp_path, monkeypatch):
    small = bf.SplitSource("train", range(50_000, 60_000), range(4_000, 4_500), 16)
    monkeypatch.setitem(bf.SPLITS, "val", small)
    monkeypatch.setenv("GENLENS_CACHE_DIR", str(tmp_path))
    first = bf.blockfashion("val")
    path = tmp_path / "blockfashion" / f"{bf.FORMAT_VERSION}-seed0" / "val.npz"
    assert path.exists()
    stamp = path.stat().st_mtime_ns
    second = bf.blockfashion("val")
    assert path.stat().st_mtime_ns == stamp
    np.testing.assert_array_equal(first.masks, second.masks)
    image, label = second[3]
    assert image.shape == (1, 64, 64) and 0 <= float(image.min()) <= float(image.max()) <= 1
    assert label == int(second.labels[3]) and second.mask(3).shape == (1, 64, 64)


def test_unknown_split_and_oversized_count():
    with pytest.raises(DatasetError):
        bf.generate_split("holdout")
    with pytest.raises(DatasetError):
        bf.generate_split("val", count=20_000)
