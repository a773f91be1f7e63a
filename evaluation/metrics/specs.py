"""The built-in metrics (registered by name in :mod:`genlens.catalog`); evaluation.md §6, §10."""

from genlens.evaluation.metrics.curves import perturbation_curve
from genlens.evaluation.metrics.localization import (
    localization_hits,
    pointing_hits,
    relevance_mass,
    relevance_rank,
)
from genlens.evaluation.metrics.registry import MetricInput, MetricSpec
from genlens.evaluation.metrics.saliency_metric import saliency_metric


def _curve(direction: str, substrate: str = "mean"):
    """A metric function computing the AUC of one deletion/insertion protocol."""

    def compute(m: MetricInput):
        return perturbation_curve(
            m.classifier, m.images, m.maps, m.target, direction, substrate
        ).auc

    return compute


def _positive(maps):
    """Maps shifted to be non-negative, so mass fractions lie in [0, 1]."""
    return maps - maps.flatten(1).min(dim=1).values.view(-1, 1, 1)


DELETION = MetricSpec(
    "deletion",
    _curve("deletion"),
    higher_is_better=False,
    needs_masks=False,
    description="RISE deletion AUC to the mean colour, 224 px/step",
)


INSERTION = MetricSpec(
    "insertion",
    _curve("insertion"),
    higher_is_better=True,
    needs_masks=False,
    description="RISE insertion AUC from an 11x11 sigma-5 blur, 224 px/step",
)


DELETION_BLUR = MetricSpec(
    "deletion-blur",
    _curve("deletion", "blur"),
    higher_is_better=False,
    needs_masks=False,
    description="deletion AUC, deleted pixels replaced by a sigma-10 blur",
)


DELETION_LEARNED = MetricSpec(
    "deletion-learned",
    _curve("deletion", "learned"),
    higher_is_better=False,
    needs_masks=False,
    description="in-filled deletion AUC: deleted pixels filled by the learned in-filler",
)


SALIENCY_METRIC = MetricSpec(
    "saliency-metric",
    lambda m: saliency_metric(m.classifier, m.images, m.maps, m.target),
    higher_is_better=False,
    needs_masks=False,
    description="Dabkowski & Gal SM = log(max(a, 0.05)) - log p(crop)",
)


LOCALIZATION = MetricSpec(
    "localization",
    lambda m: localization_hits(m.maps, m.masks),
    higher_is_better=True,
    needs_masks=True,
    description="box IoU >= 0.5 with the GT box (1 - localization error)",
)


def _pointing(m: MetricInput):
    """TorchRay's 15 px tolerance at the image's own scale (folder suites), or at 224 px
    scaled with the input size (built-in suites, whose images have no other scale)."""
    if m.pixel_scale is not None:
        return pointing_hits(m.maps, m.masks, tolerance=15 * m.pixel_scale)
    return pointing_hits(m.maps, m.masks, tolerance=15 * min(m.maps.shape[1:]) / 224)


POINTING_GAME = MetricSpec(
    "pointing-game",
    _pointing,
    higher_is_better=True,
    needs_masks=True,
    description="arg-max within 15 px (of the image, or at 224) of the GT mask, class mean",
    class_balanced=True,
)


RELEVANCE_MASS = MetricSpec(
    "relevance-mass",
    lambda m: relevance_mass(_positive(m.maps), m.masks),
    higher_is_better=True,
    needs_masks=True,
    description="share of (min-shifted) relevance inside the GT mask",
)


RELEVANCE_RANK = MetricSpec(
    "relevance-rank",
    lambda m: relevance_rank(m.maps, m.masks),
    higher_is_better=True,
    needs_masks=True,
    description="share of the top-K pixels inside the GT mask, K = mask size",
)
