"""Benchmark suites: a classifier, a fixed set of images (with ground truth when available),
a metric set and fixed seeds. Registered by name; the runner evaluates methods x suites.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from core.data import resolve_image
from core.models import Classifier
from core.registry import Registry


@dataclass(frozen=True)
class SuiteData:
    """Images (N, C, H, W) in [0, 1], explained classes (N,), GT masks (N, H, W) bool or None."""

    images: torch.Tensor
    target: torch.Tensor
    masks: torch.Tensor | None = None


@dataclass(frozen=True)
class Suite:
    """A benchmark suite.

    Attributes:
        name: registry name.
        classifier: registered classifier name.
        load: ``load(classifier) -> SuiteData`` (deterministic).
        metrics: metric names from :mod:`evaluation.metrics`.
        method_params: per-method overrides (e.g. fewer FIDO steps for small images).
        seed: seed of every explanation and bootstrap.
        batch_size: images per explanation call.
        description: one line for the leaderboard.
        sanity_images: the first ``sanity_images`` images also get the cascading
            model-randomisation test (0 = none); each randomised layer re-explains them.
        sanity_layers: layers randomised cumulatively, output first; empty = every top-level
            module with parameters (:func:`evaluation.metrics.parameter_layers`).
    """

    name: str
    classifier: str
    load: Callable[[Classifier], SuiteData]
    metrics: tuple[str, ...]
    description: str
    method_params: dict[str, dict] = field(default_factory=dict)
    seed: int = 0
    batch_size: int = 8
    sanity_images: int = 0
    sanity_layers: tuple[str, ...] = ()


SUITES: Registry[Suite] = Registry("suite")


def register_suite(suite: Suite) -> Suite:
    return SUITES.register(suite.name, suite)


def get_suite(name: str) -> Suite:
    return SUITES.get(name)


def suite_names() -> list[str]:
    return SUITES.names()


IMAGENET_PHOTOS = (
    "chelsea",
    "coffee",
    "camera",
    "china",
    "flower",
    "rocket",
    "motorcycle",
    "grace_hopper",
)


def _imagenet_photos(classifier: Classifier) -> SuiteData:
    images = classifier.prepare([resolve_image(f"sample:{name}") for name in IMAGENET_PHOTOS])
    return SuiteData(images, classifier.predict(images).argmax(dim=1).cpu())


def _blockfashion_test(classifier: Classifier, count: int = 64) -> SuiteData:
    from core.data.blockfashion import BlockFashion

    dataset = BlockFashion("test")
    indices = range(min(count, len(dataset)))
    images, labels = zip(*(dataset[i] for i in indices), strict=True)
    images = torch.stack(images).to(classifier.device)
    masks = torch.stack([dataset.mask(i).bool().reshape(images.shape[-2:]) for i in indices])
    return SuiteData(images, torch.tensor(labels), masks)


def _fmnist_test(classifier: Classifier, count: int = 64) -> SuiteData:
    from core.data import fashion_mnist

    dataset = fashion_mnist("test")
    size = classifier.preprocessing.input_size
    images, labels = zip(*(dataset[i] for i in range(count)), strict=True)
    images = torch.nn.functional.interpolate(
        torch.stack(images), size=size, mode="bilinear", align_corners=False
    )
    return SuiteData(images.to(classifier.device), torch.tensor(labels))


_SMALL_IMAGE_STEPS = {
    "fido-ssr": {"steps": 100},
    "fido-sdr": {"steps": 100},
    "bbmp-ssr": {"steps": 100},
    "bbmp-sdr": {"steps": 100},
}

for _suite in (
    Suite(
        "imagenet-photos",
        "efficientnet_lite0",
        _imagenet_photos,
        ("deletion", "insertion", "saliency-metric"),
        "EfficientNet-Lite0 on the 8 shipped photos, predicted class",
        batch_size=4,
    ),
    Suite(
        "blockfashion-gt",
        "blockfashion-cnn",
        _blockfashion_test,
        ("pointing-game", "relevance-mass", "relevance-rank", "deletion", "insertion"),
        "BlockFashion test split (64 images), ground-truth item masks, true class",
        method_params={**_SMALL_IMAGE_STEPS, "rise": {"samples": 2000}},
        batch_size=16,
        sanity_images=8,
    ),
    Suite(
        "fmnist",
        "fmnist-cnn",
        _fmnist_test,
        ("deletion-learned", "deletion-blur", "insertion"),
        "Fashion-MNIST test (64 images) at 32x32, true class",
        method_params=_SMALL_IMAGE_STEPS,
        batch_size=16,
    ),
):
    register_suite(_suite)
