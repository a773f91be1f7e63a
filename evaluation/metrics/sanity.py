"""Cascading model-parameter randomisation test (Adebayo et al., NeurIPS 2018; evaluation.md
§6.4 and §10.6).

Layers are re-initialised from the output towards the input, cumulatively; after each step the
explanation is recomputed and compared with the original by the Spearman rank correlation of
the absolute maps. A method that explains the model (not just the image) shows a correlation
that falls as top layers are randomised.
"""

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from scipy.stats import spearmanr

from genlens.core.errors import ParameterError
from genlens.core.models import Classifier

ExplainFn = Callable[[Classifier, torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class SanityCurve:
    """``correlations[i]`` (B,) after randomising ``layers[: i + 1]`` (output first)."""

    layers: list[str]
    correlations: torch.Tensor  # (L, B)


def spearman_abs(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Spearman rank correlation of |a| and |b| per image, for maps (B, H, W) -> (B,).

    A constant map has no ranking, so its correlation is undefined; it counts as 0 (nothing of
    the original ranking survives). This happens to mask methods such as BBMP: once the
    randomised model's output barely depends on the input, the mask's area and smoothness
    terms drive it to a constant.
    """
    values = [
        spearmanr(x.abs().flatten().cpu().numpy(), y.abs().flatten().cpu().numpy()).statistic
        for x, y in zip(a, b, strict=True)
    ]
    return torch.tensor(values, dtype=torch.float32).nan_to_num(0.0)


def parameter_layers(classifier: Classifier) -> list[str]:
    """Top-level modules of ``classifier.net`` that hold parameters, output first.

    The default cascade of the randomisation test: for a sequential CNN this is head, last
    block, ..., stem. Modules registered in forward order are assumed (as in torchvision/timm).
    """
    names = [
        name
        for name, module in classifier.net.named_children()
        if any(True for _ in module.parameters())
    ]
    return names[::-1]


def cascading_randomization(
    classifier: Classifier,
    images: torch.Tensor,
    target: torch.Tensor,
    explain: ExplainFn,
    layers: Sequence[str],
    seed: int = 0,
) -> SanityCurve:
    """Randomise ``layers`` (names in ``classifier.net``, output first) cumulatively.

    ``explain(classifier, images, target) -> maps (B, H, W)``. The classifier passed in is not
    modified: a deep copy is randomised. Each layer's parameters are re-drawn with its own
    ``reset_parameters`` (Kaiming/uniform defaults), seeded.
    """
    if not layers:
        raise ParameterError("cascading randomisation needs at least one layer with parameters")
    original = explain(classifier, images, target)
    randomized = copy.deepcopy(classifier)
    generator_state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    correlations = []
    try:
        for name in layers:
            for module in randomized.layer(name).modules():
                if hasattr(module, "reset_parameters"):
                    module.reset_parameters()
            for parameter in randomized.parameters():
                parameter.requires_grad_(False)
            correlations.append(spearman_abs(original, explain(randomized, images, target)))
    finally:
        torch.random.set_rng_state(generator_state)
    return SanityCurve(list(layers), torch.stack(correlations))
