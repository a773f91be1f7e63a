"""Classifier loading, layer hooks and preprocessing.

>>> from genlens.core.models import load_classifier
>>> clf = load_classifier("efficientnet_lite0")
>>> x = clf.prepare([image])             # (1, 3, 224, 224) in [0, 1]
>>> clf.predict(x).topk(5)
"""

from genlens.core.models.classifier import Classifier, accepts_modules, borrow
from genlens.core.models.execution import ExecutionPolicy
from genlens.core.models.hooks import Capture, capture, hook_count
from genlens.core.models.loading import build_architecture, load_classifier
from genlens.core.models.preprocessing import Preprocessing
from genlens.core.models.registry import (
    ClassifierEntry,
    register_classifier,
    registered_classifiers,
)
from genlens.core.models.spec import ModelSpec

__all__ = [
    "Capture",
    "Classifier",
    "ClassifierEntry",
    "ExecutionPolicy",
    "ModelSpec",
    "Preprocessing",
    "accepts_modules",
    "borrow",
    "build_architecture",
    "capture",
    "hook_count",
    "load_classifier",
    "register_classifier",
    "registered_classifiers",
]
