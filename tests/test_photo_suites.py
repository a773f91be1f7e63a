"""The photo suites follow their rule: test = every shipped photo EfficientNet-Lite0 classifies
with top-1 probability >= 0.2, validation = the rest, no photo in both."""

import pytest
import torch

from genlens.core.data import resolve_image, sample_names
from genlens.core.models import load_classifier
from genlens.evaluation.suites import get_suite
from genlens.evaluation.suites.builtin import (
    IMAGENET_PHOTOS,
    IMAGENET_PHOTOS_VAL,
    PHOTO_CONFIDENCE,
)

# fp32 results differ by ~1e-6 between CPUs; brick sits 6e-5 above the threshold.
TOLERANCE = 1e-3


@pytest.fixture(scope="module")
def confidence() -> dict[str, float]:
    classifier = load_classifier("efficientnet_lite0")
    names = sample_names()
    images = classifier.prepare([resolve_image(f"sample:{name}") for name in names])
    with torch.no_grad():
        top = classifier.predict(images).max(dim=1).values.tolist()
    return dict(zip(names, top, strict=True))


def test_the_splits_partition_the_shipped_photos() -> None:
    assert not set(IMAGENET_PHOTOS) & set(IMAGENET_PHOTOS_VAL)
    assert set(IMAGENET_PHOTOS) | set(IMAGENET_PHOTOS_VAL) == set(sample_names())
    assert len(IMAGENET_PHOTOS) >= 12


def test_the_test_split_is_the_confident_photos(confidence: dict[str, float]) -> None:
    for name in IMAGENET_PHOTOS:
        assert confidence[name] >= PHOTO_CONFIDENCE - TOLERANCE, name
    for name in IMAGENET_PHOTOS_VAL:
        assert confidence[name] < PHOTO_CONFIDENCE + TOLERANCE, name


def test_the_suites_load_their_photos_with_the_predicted_class() -> None:
    classifier = load_classifier("efficientnet_lite0")
    data = get_suite("imagenet-photos-val").load(classifier)
    assert data.images.shape == (len(IMAGENET_PHOTOS_VAL), 3, 224, 224)
    assert data.target.tolist() == classifier.predict(data.images).argmax(dim=1).tolist()
