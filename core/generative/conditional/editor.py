"""The feature editor: standardise + PCA on training features, traversals, interpolation.

Fitted once on the training features and stored as buffers of
:class:`~genlens.core.generative.conditional.nets.ConditionalModel` (numpy/torch only, no sklearn).

Traversals fix the original's PCA aliasing bug (algorithms.md §1.8): every edit starts from a
**fresh copy** of the image's own standardised features and moves **only** component i to its
training q-quantile, ``z' = z + (q_i - <z, v_i>) v_i``. Edits are therefore independent one at a
time (editing PC2 leaves PC1 at the image's own score) and there is no rank-k truncation: the
directions outside v_i keep the image's own values, so "PC1 at the image's own score" is exactly
the image's own features.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from genlens.core.errors import ParameterError
from genlens.core.generative.conditional.nets import ConditionalModel
from genlens.core.params import check_integers

PERCENTILES = torch.arange(101, dtype=torch.float64)


@torch.no_grad()
def fit_editor(model: ConditionalModel, features: torch.Tensor) -> None:
    """Estimate the editor buffers of ``model`` from raw training features (N, c_dim).

    Standardisation uses the population std (floored at 1e-6 for dead units). Components are
    the top-k right singular vectors of the standardised data with a deterministic sign (the
    largest-magnitude loading is positive).
    """
    data = features.double()
    mean, std = data.mean(0), data.std(0, unbiased=False).clamp_min(1e-6)
    scores = (data - mean) / std
    centred = scores - scores.mean(0)
    _, singular, vectors = torch.linalg.svd(centred, full_matrices=False)
    count = model.components.shape[0]
    directions = vectors[:count]
    signs = directions.gather(1, directions.abs().argmax(1, keepdim=True)).sign()
    directions = directions * signs
    projected = scores @ directions.T
    model.feature_mean.copy_(mean.float())
    model.feature_std.copy_(std.float())
    model.components.copy_(directions.float())
    model.explained.copy_((singular[:count] ** 2 / len(data)).float())
    model.score_quantiles.copy_(torch.quantile(projected, PERCENTILES / 100, dim=0).T.float())


MAX_COMPONENTS = 16
"""Most components (and quantiles) one traversal edits."""


def check_traversal(
    traverse: Sequence[int], quantiles: Sequence[float]
) -> tuple[list[int], list[float]]:
    """Validate a traversal without a model: 1 to 16 components (1-based integers) and 1 to
    16 training quantiles in percent within [0.5, 99.5] (the range the stored quantile table
    resolves). Whether a component exists is checked with the model (:func:`traversal_targets`).
    """
    traverse = check_integers(traverse, "traverse", MAX_COMPONENTS, 1, "component numbers")
    if (
        not isinstance(quantiles, Sequence)
        or not 1 <= len(quantiles) <= MAX_COMPONENTS
        or any(isinstance(q, bool) or not isinstance(q, int | float) for q in quantiles)
        or not all(0.5 <= q <= 99.5 for q in quantiles)
    ):
        raise ParameterError(
            f"quantiles must be 1 to {MAX_COMPONENTS} percentages in [0.5, 99.5], got {quantiles!r}"
        )
    return traverse, [float(q) for q in quantiles]


def component_scores(model: ConditionalModel, features: torch.Tensor) -> torch.Tensor:
    """PCA scores (B, k) of raw features (B, c_dim)."""
    return model.standardise(features) @ model.components.T


def quantile_score(model: ConditionalModel, component: int, quantile: float) -> torch.Tensor:
    """Training q-quantile (``quantile`` in [0, 100], interpolated) of 0-based ``component``."""
    if not 0.0 <= quantile <= 100.0:
        raise ParameterError(f"quantile {quantile} is outside [0, 100]")
    table = model.score_quantiles[component]
    low = int(min(quantile, 99.0))
    weight = quantile - low
    return table[low] * (1.0 - weight) + table[low + 1] * weight


def set_component(
    model: ConditionalModel, features: torch.Tensor, component: int, score: torch.Tensor | float
) -> torch.Tensor:
    """Raw features (B, c_dim) with 0-based ``component``'s score set to ``score``, on a copy."""
    standard = model.standardise(features).clone()
    direction = model.components[component]
    shift = torch.as_tensor(score, dtype=standard.dtype) - standard @ direction
    edited = standard + shift[:, None] * direction
    return model.unstandardise(edited)


@dataclass(frozen=True)
class Target:
    """One traversal target: which component (1-based, 0 = none) at which quantile, and label."""

    component: int
    quantile: float | None
    label: str


def traversal_targets(
    model: ConditionalModel,
    features: torch.Tensor,
    components: list[int],
    quantiles: list[float],
) -> tuple[list[Target], torch.Tensor]:
    """Independent edits of each 1-based component at each quantile, then the own features.

    Returns the targets and raw feature vectors (T, B, c_dim), T = len(components) *
    len(quantiles) + 1, the last being the unedited features (reconstruction).
    """
    available = model.components.shape[0]
    for component in components:
        if not 1 <= component <= available:
            raise ParameterError(f"pc{component} does not exist; this model has pc1..pc{available}")
    targets, vectors = [], []
    for component in components:
        for quantile in quantiles:
            score = quantile_score(model, component - 1, float(quantile))
            vectors.append(set_component(model, features, component - 1, score))
            targets.append(Target(component, float(quantile), f"pc{component}@q{quantile:g}"))
    targets.append(Target(0, None, "reconstruction"))
    vectors.append(features.clone())
    return targets, torch.stack(vectors)


def interpolation_path(start: torch.Tensor, end: torch.Tensor, steps: int) -> torch.Tensor:
    """Linear path between feature vectors (B, c_dim): (steps, B, c_dim), both ends included."""
    if steps < 2:
        raise ParameterError("interpolation needs at least 2 steps")
    weights = torch.linspace(0.0, 1.0, steps, device=start.device, dtype=start.dtype)
    return torch.lerp(start[None], end[None], weights[:, None, None])  # exact at both ends
