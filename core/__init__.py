"""genlens core: a pure-PyTorch library for explaining image classifiers.

Sub-packages: :mod:`core.models` (classifier loading, hooks, preprocessing), :mod:`core.data`
(image loading and validation, sample photos, datasets), :mod:`core.saliency` and
:mod:`core.featviz`. No service code lives here.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("genlens")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"
