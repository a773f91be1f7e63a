"""genlens core: a pure-PyTorch library for explaining image classifiers.

Sub-packages: :mod:`genlens.core.models` (classifier loading, hooks, preprocessing),
:mod:`genlens.core.data` (image loading and validation, sample photos, datasets),
:mod:`genlens.core.saliency` and
:mod:`genlens.core.featviz`. No service code lives here.
"""
