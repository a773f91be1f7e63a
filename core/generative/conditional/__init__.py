"""Generator conditioned on classifier features (StarGAN-style, algorithms.md §1) and the
feature editor.

Modules:

* ``nets``: :class:`ConditionalGenerator` G(x, c) with ``tiled`` or ``flat`` injection,
  :class:`FeatureCritic` (WGAN-GP PatchGAN + feature head), :class:`ConditionalModel` (the
  shipped bundle with the editor statistics).
* ``losses``: CCC with consistent (population) estimators, MSE, gradient penalty.
* ``features``: the feature source (penultimate layer by default, any layer pooled).
* ``editor``: standardise + PCA, independent quantile traversals, interpolation.
* ``metrics``: held-out feature CCC/cosine, reconstruction L1, moves toward the target class.
* ``api``: :func:`load_conditional`, :func:`edit`, :func:`render_with`, :func:`interpolate`,
  :func:`component_effects`, :func:`grid_image`, :func:`resolve_reference` (also importable
  from this package; loaded lazily because ``core.generative.loading`` imports ``nets``).

Fixes of the original's bugs (algorithms.md §6): injection and boolean options are real
enums/booleans (``"False"`` is rejected, not True); traversals edit a copy of the image's own
features one component at a time with no rank-k truncation; CCC uses population estimators
for variances and covariance alike and is averaged (not summed) over dimensions.
"""

from typing import Any

from core.generative.conditional.nets import (
    ConditionalGenerator,
    ConditionalModel,
    FeatureCritic,
    Injection,
)

_API = (
    "ConditionalGAN",
    "EditResult",
    "component_effects",
    "edit",
    "grid_image",
    "interpolate",
    "load_conditional",
    "render_with",
    "resolve_reference",
)


def __getattr__(name: str) -> Any:
    if name in _API:
        from core.generative.conditional import api

        return getattr(api, name)
    raise AttributeError(name)


__all__ = [
    "ConditionalGenerator",
    "ConditionalModel",
    "FeatureCritic",
    "Injection",
    *_API,
]
