"""The feature source: a classifier layer's output, globally average-pooled to a vector.

By default the layer is the classifier's penultimate layer: ``net.penultimate`` when the network
names it (e.g. the FER mini-Xception), otherwise :data:`genlens.core.generative.nets.PENULTIMATE`
(``pool`` of the genlens :class:`SmallCNN`). Any layer name of ``classifier.layer_names()`` works;
4-D outputs (B, C, h, w) are averaged over h, w to (B, C), others are flattened.
"""

import torch
import torch.nn.functional as F

from genlens.core.generative.nets import PENULTIMATE
from genlens.core.models import Classifier

BATCH = 256


def default_layer(classifier: Classifier) -> str:
    """The penultimate layer's name for ``classifier``."""
    return str(getattr(classifier.net, "penultimate", PENULTIMATE))


def to_classifier_input(images: torch.Tensor, classifier: Classifier) -> torch.Tensor:
    """[0, 1] images resized (bilinear, antialiased) to the classifier's input, on its device."""
    classifier.check_input(images)
    size = classifier.preprocessing.input_size
    images = images.to(classifier.device)
    if tuple(images.shape[-2:]) != tuple(size):
        images = F.interpolate(images, size=size, mode="bilinear", antialias=True).clamp(0, 1)
    return images


def features_and_logits(
    classifier: Classifier, images: torch.Tensor, layer: str
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(features (B, D), logits (B, K))`` of [0, 1] images (B, C, H, W); differentiable."""
    with classifier.capture([layer]) as record:
        logits = classifier(to_classifier_input(images, classifier))
    return classifier.pooled(layer, record.activations[layer]).float(), logits.float()


@torch.no_grad()
def extract(
    classifier: Classifier, images: torch.Tensor, layer: str, batch: int = BATCH
) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`features_and_logits` in batches without gradients; uint8 images are scaled."""
    parts = []
    for start in range(0, len(images), batch):
        chunk = images[start : start + batch]
        chunk = chunk.float() / 255.0 if chunk.dtype == torch.uint8 else chunk
        parts.append(features_and_logits(classifier, chunk.to(classifier.device), layer))
    return torch.cat([p[0] for p in parts]).cpu(), torch.cat([p[1] for p in parts]).cpu()
