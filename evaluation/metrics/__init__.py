"""Saliency benchmark metrics, batched in torch, in one registry.

>>> from genlens.evaluation.metrics import metric, MetricInput
>>> values = metric("deletion").compute(MetricInput(classifier, images, maps, target))
"""

from genlens.evaluation.metrics.curves import CurveResult, perturbation_curve, trapezoid_auc
from genlens.evaluation.metrics.localization import (
    box_iou,
    localization_hits,
    mask_box,
    pointing_hits,
    relevance_mass,
    relevance_rank,
    saliency_box,
)
from genlens.evaluation.metrics.registry import (
    MetricInput,
    MetricSpec,
    metric,
    metric_names,
    register_metric,
)
from genlens.evaluation.metrics.saliency_metric import saliency_metric
from genlens.evaluation.metrics.sanity import (
    SanityCurve,
    cascading_randomization,
    parameter_layers,
    spearman_abs,
)

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
