"""EfficientNet-Lite built-ins: strict weight mapping, labels, and logits against an
independent implementation (the reference `efficientnet_lite_pytorch` package)."""

import pytest
import timm
import torch
from efficientnet_lite_pytorch import EfficientNet

from genlens.core.data import sample_image
from genlens.core.errors import ModelLoadError
from genlens.core.models import load_classifier
from genlens.core.models.efficientnet_lite import convert_keys, weights_path
from genlens.core.models.labels import imagenet_labels

CAT_CLASSES = range(281, 286)  # tabby, tiger cat, Persian, Siamese, Egyptian cat
ESPRESSO = 967


def test_key_mapping_covers_every_key_and_loads_strictly():
    original = torch.load(weights_path("efficientnet_lite0"), map_location="cpu", weights_only=True)
    model = timm.create_model("tf_efficientnet_lite0", pretrained=False)
    converted = convert_keys(original, model)
    assert len(converted) == len(original) == 296
    assert set(converted) == set(model.state_dict())
    model.load_state_dict(converted, strict=True)
    assert torch.equal(
        converted["blocks.2.0.conv_pw.weight"], original["_blocks.3._expand_conv.weight"]
    )
    assert torch.equal(
        converted["blocks.0.0.bn2.running_var"], original["_blocks.0._bn2.running_var"]
    )
    assert torch.equal(converted["bn2.weight"], original["_bn1.weight"])


def test_unknown_weight_key_is_refused():
    original = torch.load(weights_path("efficientnet_lite0"), map_location="cpu", weights_only=True)
    model = timm.create_model("tf_efficientnet_lite0", pretrained=False)
    with pytest.raises(ModelLoadError, match="unexpected"):
        convert_keys({**original, "_blocks.0._mystery.weight": torch.zeros(1)}, model)


def test_imagenet_labels():
    labels = imagenet_labels()
    assert len(labels) == 1000
    assert labels[281] == "tabby, tabby cat"
    assert labels[ESPRESSO] == "espresso"
    assert labels[0] == "tench, Tinca tinca"


def test_predictions_on_shipped_photos(lite0):
    batch = lite0.prepare([sample_image("chelsea"), sample_image("coffee")])
    probabilities = lite0.predict(batch)
    top1 = probabilities.argmax(dim=1).tolist()
    assert top1[0] in CAT_CLASSES
    assert top1[1] == ESPRESSO
    assert probabilities[1, ESPRESSO] > 0.9
    assert probabilities[0, list(CAT_CLASSES)].sum() > 0.8


@pytest.mark.parametrize(
    "variant", ["efficientnet_lite0", "efficientnet_lite1", "efficientnet_lite2"]
)
def test_logits_match_reference_implementation(variant):
    classifier = load_classifier(variant, device="cpu")
    size = classifier.preprocessing.input_size[0]
    reference = EfficientNet.from_pretrained(
        variant.replace("_", "-"), weights_path=str(weights_path(variant))
    ).eval()
    images = classifier.prepare([sample_image("chelsea"), sample_image("rocket")])
    assert images.shape == (2, 3, size, size)
    with torch.no_grad():
        ours = classifier(images)
        theirs = reference(images * 2 - 1)  # reference expects (x - 0.5) / 0.5
    assert (ours - theirs).abs().max() < 1e-4


def test_timm_plain_lite0_is_the_wrong_architecture(lite0):
    """The trap documented in offline-assets.md: same keys, different padding and BN eps."""
    plain = timm.create_model("efficientnet_lite0", pretrained=False)
    plain.load_state_dict(lite0.net.state_dict(), strict=True)
    images = lite0.prepare([sample_image("chelsea")])
    with torch.no_grad():
        difference = (plain.eval()((images - 0.5) / 0.5) - lite0(images)).abs().max()
    assert difference > 0.5


def test_classifier_is_frozen_and_stays_in_eval(lite0):
    assert not any(parameter.requires_grad for parameter in lite0.parameters())
    assert not lite0.training
    lite0.train()
    assert not lite0.training and not lite0.net.training
