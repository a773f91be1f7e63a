"""A metric and a small suite added as docs/extending.md describes: ``inside-mean`` (mean map
value inside the ground-truth mask) on the first 8 BlockFashion test images, so a benchmark of
a plugin method finishes in seconds."""

import torch

from genlens.core.models import Classifier
from genlens.evaluation.metrics import MetricInput, MetricSpec, register_metric
from genlens.evaluation.suites import Suite, SuiteData, register_suite

IMAGES = 8


def inside_mean(context: MetricInput) -> torch.Tensor:
    """Mean of the map over the ground-truth mask's pixels, per image (B,)."""
    inside = context.masks.flatten(1).float()
    return (context.maps.flatten(1) * inside).sum(dim=1) / inside.sum(dim=1)


def first_blockfashion_images(classifier: Classifier) -> SuiteData:
    """The first ``IMAGES`` BlockFashion test images, their classes and item masks."""
    from genlens.core.data.blockfashion import BlockFashion

    dataset = BlockFashion("test")
    images, labels = zip(*(dataset[index] for index in range(IMAGES)), strict=True)
    stacked = torch.stack(images).to(classifier.device)
    masks = torch.stack(
        [dataset.mask(index).bool().reshape(stacked.shape[-2:]) for index in range(IMAGES)]
    )
    return SuiteData(stacked, torch.tensor(labels), masks)


register_metric(
    MetricSpec(
        "inside-mean",
        inside_mean,
        higher_is_better=True,
        needs_masks=True,
        description="mean map value inside the ground-truth mask",
    )
)
register_suite(
    Suite(
        "tiny-blockfashion",
        "blockfashion-cnn",
        first_blockfashion_images,
        ("inside-mean", "pointing-game"),
        f"first {IMAGES} BlockFashion test images (plugin example)",
        batch_size=IMAGES,
    )
)
