"""Held-out metrics of a conditional generator (written into the model card).

For test images x with classifier features f(x) and targets c = f(x') of other test images x'
(a fixed permutation):

* ``feature_ccc``: mean over feature dimensions of the CCC (population estimators) between c
  and f(G(x, c)) over the held-out set; dimensions whose target variance is zero (dead units)
  are left out. CCC is invariant to a common affine map per dimension, so standardised and raw
  features give the same value. ``identity_ccc`` is the same with f(x) in place of f(G(x, c)):
  what doing nothing scores.
* ``feature_cosine``: mean cosine between c and f(G(x, c)) in standardised space
  (``feature_cosine_raw``: on the raw, non-negative features, which is inflated by their mean).
* ``reconstruction_l1``: mean |G(x, f(x)) - x| per pixel, in [0, 1] units.
* ``toward_target``: among pairs whose predicted classes differ, the fraction where the
  probability of the target's predicted class rises from x to G(x, c);
  ``target_class_rate``: the fraction where G(x, c) is classified as the target's class.
"""

from collections.abc import Callable

import torch
import torch.nn.functional as F

from genlens.core.generative.conditional.features import features_and_logits
from genlens.core.generative.conditional.losses import ccc_per_dim
from genlens.core.generative.conditional.nets import ConditionalModel
from genlens.core.models import Classifier

EVAL_SEED = 20240607
BATCH = 250


def fixed_permutation(count: int) -> torch.Tensor:
    """The permutation that pairs held-out image i with target i (seeded, never identity)."""
    order = torch.randperm(count, generator=torch.Generator().manual_seed(EVAL_SEED))
    permutation = torch.empty_like(order)
    permutation[order] = torch.roll(order, -1)
    return permutation


@torch.no_grad()
def conditional_metrics(
    model: ConditionalModel,
    classifier: Classifier,
    layer: str,
    images: torch.Tensor,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, float]:
    """The metrics above for held-out [0, 1] images (N, C, S, S) (N >= 2)."""
    device = model.feature_mean.device
    own, logits = [], []
    for start in range(0, len(images), BATCH):
        batch = images[start : start + BATCH].to(device)
        part = features_and_logits(classifier, batch, layer)
        own.append(part[0])
        logits.append(part[1])
    own_features, own_logits = torch.cat(own), torch.cat(logits)
    order = fixed_permutation(len(images)).to(device)
    targets = own_features[order]
    generated, generated_logits, l1 = [], [], 0.0
    for start in range(0, len(images), BATCH):
        part = slice(start, start + BATCH)
        batch = images[part].to(device)
        fake = model(batch, targets[part])
        features, fake_logits = features_and_logits(classifier, fake, layer)
        generated.append(features)
        generated_logits.append(fake_logits)
        l1 += float((model(batch, own_features[part]) - batch).abs().sum())
        if progress is not None:
            progress(min(start + BATCH, len(images)), len(images))
    fake_features = torch.cat(generated)
    alive = model.standardise(targets).var(0) > 1e-8
    target_z, fake_z = model.standardise(targets), model.standardise(fake_features)
    source_probs = own_logits.softmax(1)
    fake_probs = torch.cat(generated_logits).softmax(1)
    target_class = own_logits.argmax(1)[order]
    differs = target_class != own_logits.argmax(1)
    rows = torch.arange(len(images), device=device)
    rises = fake_probs[rows, target_class] > source_probs[rows, target_class]
    hits = fake_probs.argmax(1) == target_class
    return {
        "feature_ccc": float(ccc_per_dim(fake_z, target_z)[alive].mean()),
        "identity_ccc": float(ccc_per_dim(model.standardise(own_features), target_z)[alive].mean()),
        "feature_cosine": float(F.cosine_similarity(fake_z, target_z, dim=1).mean()),
        "feature_cosine_raw": float(F.cosine_similarity(fake_features, targets, dim=1).mean()),
        "reconstruction_l1": l1 / images.numel(),
        "toward_target": float(rises[differs].float().mean()) if differs.any() else float("nan"),
        "target_class_rate": float(hits[differs].float().mean()) if differs.any() else float("nan"),
        "pairs_with_other_class": int(differs.sum()),
        "test_images": len(images),
    }
