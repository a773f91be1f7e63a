"""Classifier loading, layer hooks and preprocessing.

>>> from core.models import load_classifier
>>> clf = load_classifier("efficientnet_lite0")
>>> x = clf.prepare([image])             # (1, 3, 224, 224) in [0, 1]
>>> clf.predict(x).topk(5)
"""

from core.models import builtins as _builtins  # noqa: F401  (registers the built-in classifiers)
from core.models import fer as _fer  # noqa: F401  (registers fer-mini-xception)
from core.models.classifier import Classifier
from core.models.hooks import Capture, capture, hook_count
from core.models.loading import build_architecture, load_classifier
from core.models.preprocessing import Preprocessing
from core.models.registry import ClassifierEntry, register_classifier, registered_classifiers

__all__ = [
    "Capture",
    "Classifier",
    "ClassifierEntry",
    "Preprocessing",
    "build_architecture",
    "capture",
    "hook_count",
    "load_classifier",
    "register_classifier",
    "registered_classifiers",
]
