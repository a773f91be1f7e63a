"""Generator conditioned on classifier features (StarGAN-style, algorithms.md §1) and the
feature editor.

Modules:

* ``nets``: :class:`ConditionalGenerator` G(x, c) with ``tiled``, ``flat`` or ``film``
  injection, direct or residual output, transposed or resize-conv up-sampling, conditioned on
  the wanted features or their change; :class:`FeatureCritic` (WGAN-GP PatchGAN + feature
  head); :class:`ConditionalModel` (the shipped bundle with the editor statistics).
* ``losses``: CCC with consistent (population) estimators, MSE, gradient penalty.
* ``features``: the feature source (penultimate layer by default, any layer pooled).
* ``editor``: standardise + PCA, independent quantile traversals, interpolation.
* ``metrics``: held-out feature CCC/cosine, reconstruction L1 and SSIM, Frechet distances in
  the classifier's penultimate space, moves toward the target class, traversal effects.
* ``quality``: SSIM and the Frechet distance of two feature sets.
* ``api``: :func:`~.api.load_conditional`, :func:`~.api.edit`, :func:`~.api.render_with`,
  :func:`~.api.interpolate`, :func:`~.api.component_effects`, :func:`~.api.grid_image`,
  :func:`~.api.resolve_reference` (import them from ``genlens.core.generative.conditional.api``;
  this package's namespace holds the networks only, which the loaders need).

Fixes of the original's bugs (algorithms.md §6): injection and boolean options are real
enums/booleans (``"False"`` is rejected, not True); traversals edit a copy of the image's own
features one component at a time with no rank-k truncation; CCC uses population estimators
for variances and covariance alike and is averaged (not summed) over dimensions.
"""

from genlens.core.generative.conditional.nets import (
    ConditionalGenerator,
    ConditionalModel,
    FeatureCritic,
    Injection,
)

__all__ = ["ConditionalGenerator", "ConditionalModel", "FeatureCritic", "Injection"]
