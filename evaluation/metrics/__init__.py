"""Saliency benchmark metrics, batched in torch, in one registry.

>>> from evaluation.metrics import metric, MetricInput
>>> values = metric("deletion").compute(MetricInput(classifier, images, maps, target))
"""

from evaluation.metrics.curves import CurveResult, perturbation_curve, trapezoid_auc
from evaluation.metrics.localization import (
    box_iou,
    localization_hits,
    mask_box,
    pointing_hits,
    relevance_mass,
    relevance_rank,
    saliency_box,
)
from evaluation.metrics.registry import (
    MetricInput,
    MetricSpec,
    metric,
    metric_names,
    register_metric,
)
from evaluation.metrics.saliency_metric import saliency_metric
from evaluation.metrics.sanity import (
    SanityCurve,
    cascading_randomization,
    parameter_layers,
    spearman_abs,
)


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


for _spec in (
    MetricSpec(
        "deletion",
        _curve("deletion"),
        higher_is_better=False,
        needs_masks=False,
        description="RISE deletion AUC to the mean colour, 224 px/step",
    ),
    MetricSpec(
        "insertion",
        _curve("insertion"),
        higher_is_better=True,
        needs_masks=False,
        description="RISE insertion AUC from an 11x11 sigma-5 blur, 224 px/step",
    ),
    MetricSpec(
        "deletion-blur",
        _curve("deletion", "blur"),
        higher_is_better=False,
        needs_masks=False,
        description="deletion AUC, deleted pixels replaced by a sigma-10 blur",
    ),
    MetricSpec(
        "deletion-learned",
        _curve("deletion", "learned"),
        higher_is_better=False,
        needs_masks=False,
        description="in-filled deletion AUC: deleted pixels filled by the learned in-filler",
    ),
    MetricSpec(
        "saliency-metric",
        lambda m: saliency_metric(m.classifier, m.images, m.maps, m.target),
        higher_is_better=False,
        needs_masks=False,
        description="Dabkowski & Gal SM = log(max(a, 0.05)) - log p(crop)",
    ),
    MetricSpec(
        "localization",
        lambda m: localization_hits(m.maps, m.masks),
        higher_is_better=True,
        needs_masks=True,
        description="box IoU >= 0.5 with the GT box (1 - localization error)",
    ),
    MetricSpec(
        "pointing-game",
        lambda m: pointing_hits(m.maps, m.masks, tolerance=15 * min(m.maps.shape[1:]) / 224),
        higher_is_better=True,
        needs_masks=True,
        description="arg-max within 15 px (at 224, scaled with size) of the GT mask, class mean",
        class_balanced=True,
    ),
    MetricSpec(
        "relevance-mass",
        lambda m: relevance_mass(_positive(m.maps), m.masks),
        higher_is_better=True,
        needs_masks=True,
        description="share of (min-shifted) relevance inside the GT mask",
    ),
    MetricSpec(
        "relevance-rank",
        lambda m: relevance_rank(m.maps, m.masks),
        higher_is_better=True,
        needs_masks=True,
        description="share of the top-K pixels inside the GT mask, K = mask size",
    ),
):
    register_metric(_spec)

__all__ = [
    "CurveResult",
    "MetricInput",
    "MetricSpec",
    "SanityCurve",
    "box_iou",
    "cascading_randomization",
    "localization_hits",
    "mask_box",
    "metric",
    "metric_names",
    "parameter_layers",
    "perturbation_curve",
    "pointing_hits",
    "register_metric",
    "relevance_mass",
    "relevance_rank",
    "saliency_box",
    "saliency_metric",
    "spearman_abs",
    "trapezoid_auc",
]
