"""Counterfactual saliency (FIDO, BBMP), in-fillers and baseline attribution methods.

>>> from genlens.core.saliency import explain
>>> result = explain(clf, clf.prepare([image]), method="fido-ssr", infill="local-mean")
>>> result.maps.shape          # (1, 224, 224), higher = more salient
"""

from genlens.core.saliency.explain import ExplainRequest, check_explain, explain
from genlens.core.saliency.infill import (
    Infiller,
    LearnedInfiller,
    check_infiller,
    infiller_names,
    make_infiller,
    register_infiller,
)
from genlens.core.saliency.methods import Method, get_method, method_names, register_method
from genlens.core.saliency.result import SaliencyResult

__all__ = [
    "ExplainRequest",
    "Infiller",
    "LearnedInfiller",
    "Method",
    "SaliencyResult",
    "check_explain",
    "check_infiller",
    "explain",
    "get_method",
    "infiller_names",
    "make_infiller",
    "method_names",
    "register_infiller",
    "register_method",
]
