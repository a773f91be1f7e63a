"""Automatic quality metrics for visualizations (feature-visualization.md §3).

* **Activation ratio** ``AR_u(v) = a_u(v) / max_{x in D} a_u(x)`` and the **natural percentile**
  ``100 * |{x in D: a_u(x) < a_u(v)}| / |D|`` against a reference image set D, where a_u is the
  unit's clean response (class logit, or the spatial mean of a channel).
* **Transferability@k**: the fraction of (visualization, evaluator) pairs where another
  classifier puts the visualized class in its top-k.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from genlens.core import defaults
from genlens.core.errors import ParameterError
from genlens.core.featviz.transforms import resize
from genlens.core.models import Classifier

#: layer name meaning "the classifier's output logits"
LOGITS = defaults.LOGITS


def unit_responses(
    classifier: Classifier,
    images: torch.Tensor,
    layer: str | None,
    units: Sequence[int],
    chunk: int = 16,
) -> torch.Tensor:
    """Clean responses (N, U) of ``units`` to images (N, C, H, W) in [0, 1].

    ``layer`` ``None`` or ``"logits"`` reads class logits; otherwise the spatial mean of each
    channel of that layer's output. Images are resized to the classifier's input size.
    """
    if not units:
        raise ParameterError("at least one unit is needed")
    classifier.check_input(images)
    index = torch.tensor(list(units), dtype=torch.long)
    rows = []
    with torch.no_grad():
        if layer in (None, LOGITS):
            classifier.check_target(index)
            for start in range(0, images.shape[0], chunk):
                batch = resize(
                    images[start : start + chunk].to(classifier.device).float(),
                    classifier.preprocessing.input_size,
                )
                rows.append(classifier(batch)[:, index.to(classifier.device)].cpu())
        else:
            with classifier.capture([layer]) as record:
                for start in range(0, images.shape[0], chunk):
                    batch = resize(
                        images[start : start + chunk].to(classifier.device).float(),
                        classifier.preprocessing.input_size,
                    )
                    classifier(batch)
                    pooled = classifier.pooled(layer, record.activations[layer])
                    if int(index.max()) >= pooled.shape[1]:
                        raise ParameterError(
                            f"unit {int(index.max())} out of range: {layer} has "
                            f"{pooled.shape[1]} channels"
                        )
                    rows.append(pooled[:, index.to(pooled.device)].float().cpu())
    return torch.cat(rows)


@dataclass
class ActivationRatio:
    """Per-unit activation ratio and natural percentile.

    Attributes:
        responses: (U,) the visualizations' responses a_u(v).
        reference_max: (U,) max over the reference set of a_u(x).
        ratio: (U,) responses / reference_max (> 1: stronger than every reference image).
        percentile: (U,) share of reference images below the visualization, in [0, 100].
    """

    responses: torch.Tensor
    reference_max: torch.Tensor
    ratio: torch.Tensor
    percentile: torch.Tensor

    def to_dict(self) -> dict:
        """Plain lists for JSON."""
        return {
            name: getattr(self, name).tolist()
            for name in ("responses", "reference_max", "ratio", "percentile")
        }


def activation_ratio(responses: torch.Tensor, reference: torch.Tensor) -> ActivationRatio:
    """Ratio and percentile of responses (U,) against reference responses (M, U)."""
    if reference.ndim != 2 or reference.shape[1] != responses.shape[0]:
        raise ParameterError(
            f"reference responses must be (M, {responses.shape[0]}), got {tuple(reference.shape)}"
        )
    best = reference.max(0).values
    ratio = responses / best.where(best.abs() > 1e-12, torch.full_like(best, 1e-12))
    percentile = 100.0 * (reference < responses[None, :]).float().mean(0)
    return ActivationRatio(responses, best, ratio, percentile)


def unit_activation_ratio(
    classifier: Classifier,
    images: torch.Tensor,
    layer: str | None,
    units: Sequence[int],
    reference_images: torch.Tensor,
) -> ActivationRatio:
    """Activation ratio of visualization ``i`` (images[i]) for ``units[i]``."""
    if images.shape[0] != len(units):
        raise ParameterError(f"{images.shape[0]} images for {len(units)} units")
    own = unit_responses(classifier, images, layer, units).diagonal()
    return activation_ratio(own, unit_responses(classifier, reference_images, layer, units))


def transferability(
    images: torch.Tensor, targets: Sequence[int], evaluators: Sequence[Classifier], k: int = 5
) -> tuple[float, torch.Tensor]:
    """T@k of class visualizations images (N, C, H, W) in [0, 1] with classes ``targets``.

    Returns the mean hit rate and the hits (len(evaluators), N) as booleans.
    """
    if images.shape[0] != len(targets):
        raise ParameterError(f"{images.shape[0]} images for {len(targets)} targets")
    if not evaluators:
        raise ParameterError("at least one evaluator classifier is needed")
    hits = []
    for model in evaluators:
        if k < 1 or k > model.num_classes:
            raise ParameterError(f"k must be between 1 and {model.num_classes}, got {k}")
        batch = resize(images.to(model.device).float(), model.preprocessing.input_size)
        top = model.predict(batch).topk(k, dim=1).indices.cpu()
        hits.append((top == torch.tensor(list(targets))[:, None]).any(1))
    table = torch.stack(hits)
    return float(table.float().mean()), table
