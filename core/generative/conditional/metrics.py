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
* ``reconstruction_l1``: mean |G(x, f(x)) - x| per pixel, in [0, 1] units;
  ``reconstruction_ssim``: mean SSIM of G(x, f(x)) against x (:func:`~.quality.ssim`).
* ``frechet_real``, ``frechet_reconstruction``, ``frechet_edit``: the Frechet distance
  (:func:`~.quality.frechet_distance`) in the classifier's **penultimate** space (the FID idea
  with the domain's own network) between a separate set of real ``reference`` images and,
  respectively, the held-out real images, their reconstructions and their edits G(x, c). Both
  sets are finite samples, so ``frechet_real`` is the floor that sampling alone gives.
  Reported only when ``reference`` images are given.
* ``traversal_<class>`` and ``traversal_<class>_component``: for every class, the PCA
  component whose q10 -> q90 traversal (:func:`~.editor.traversal_targets`) moves the mean
  probability of the class most over the first ``TRAVERSAL_IMAGES`` held-out images, and that
  change oriented along the component's direction of increase (q90 minus q10, so it may be
  negative); the class's "direction" is that component, read from the end that raises it.
* ``toward_target``: among pairs whose predicted classes differ, the fraction where the
  probability of the target's predicted class rises from x to G(x, c);
  ``target_class_rate``: the fraction where G(x, c) is classified as the target's class.
"""

from collections.abc import Callable

import torch
import torch.nn.functional as F

from genlens.core.generative.conditional.editor import traversal_targets
from genlens.core.generative.conditional.features import default_layer, extract, features_and_logits
from genlens.core.generative.conditional.losses import ccc_per_dim
from genlens.core.generative.conditional.nets import ConditionalModel
from genlens.core.generative.conditional.quality import frechet_distance, ssim
from genlens.core.models import Classifier

EVAL_SEED = 20240607
BATCH = 250
TRAVERSAL_IMAGES = 100
TRAVERSAL_QUANTILES = [10.0, 90.0]


def fixed_permutation(count: int) -> torch.Tensor:
    """The permutation that pairs held-out image i with target i (seeded, never identity)."""
    order = torch.randperm(count, generator=torch.Generator().manual_seed(EVAL_SEED))
    permutation = torch.empty_like(order)
    permutation[order] = torch.roll(order, -1)
    return permutation


@torch.no_grad()
def traversal_effects(
    model: ConditionalModel,
    classifier: Classifier,
    layer: str,
    images: torch.Tensor,
    features: torch.Tensor,
) -> dict[str, float]:
    """``traversal_<class>`` and ``traversal_<class>_component`` (1-based) for every class,
    from images (B, C, S, S) in [0, 1] and their raw features (B, c_dim)."""
    components = list(range(1, model.components.shape[0] + 1))
    _, targets = traversal_targets(model, features, components, TRAVERSAL_QUANTILES)
    means = torch.stack(
        [
            extract(classifier, model(images, target, features), layer)[1].softmax(1).mean(0)
            for target in targets[:-1]
        ]
    ).view(len(components), len(TRAVERSAL_QUANTILES), -1)
    changes = means[:, 1] - means[:, 0]
    best = changes.abs().argmax(0)
    result: dict[str, float] = {}
    for index, label in enumerate(classifier.labels):
        result[f"traversal_{label}"] = float(changes[best[index], index])
        result[f"traversal_{label}_component"] = int(best[index]) + 1
    return result


def _penultimate(classifier: Classifier, images: torch.Tensor) -> torch.Tensor:
    """Penultimate features (N, D) of [0, 1] images, in batches."""
    return extract(classifier, images, default_layer(classifier), BATCH)[0]


@torch.no_grad()
def conditional_metrics(
    model: ConditionalModel,
    classifier: Classifier,
    layer: str,
    images: torch.Tensor,
    progress: Callable[[int, int], None] | None = None,
    reference: torch.Tensor | None = None,
) -> dict[str, float]:
    """The metrics above for held-out [0, 1] images (N, C, S, S) (N >= 2); ``reference``: other
    real [0, 1] images (M, C, S, S) (M >= 2) for the Frechet distances."""
    device = model.feature_mean.device
    own_features, own_logits = (part.to(device) for part in extract(classifier, images, layer))
    order = fixed_permutation(len(images)).to(device)
    targets = own_features[order]
    generated, generated_logits, edits, reconstructions = [], [], [], []
    for start in range(0, len(images), BATCH):
        part = slice(start, start + BATCH)
        batch = images[part].to(device)
        own = own_features[part]
        fake = model(batch, targets[part], own)
        features, fake_logits = features_and_logits(classifier, fake, layer)
        generated.append(features)
        generated_logits.append(fake_logits)
        edits.append(fake.cpu())
        reconstructions.append(model(batch, own, own).cpu())
        if progress is not None:
            progress(min(start + BATCH, len(images)), len(images))
    fake_features = torch.cat(generated)
    edited, rebuilt = torch.cat(edits), torch.cat(reconstructions)
    images = images.cpu()
    alive = model.standardise(targets).var(0) > 1e-8
    target_z, fake_z = model.standardise(targets), model.standardise(fake_features)
    source_probs = own_logits.softmax(1)
    fake_probs = torch.cat(generated_logits).softmax(1)
    target_class = own_logits.argmax(1)[order]
    differs = target_class != own_logits.argmax(1)
    rows = torch.arange(len(images), device=device)
    rises = fake_probs[rows, target_class] > source_probs[rows, target_class]
    hits = fake_probs.argmax(1) == target_class
    metrics: dict[str, float] = {
        "feature_ccc": float(ccc_per_dim(fake_z, target_z)[alive].mean()),
        "identity_ccc": float(ccc_per_dim(model.standardise(own_features), target_z)[alive].mean()),
        "feature_cosine": float(F.cosine_similarity(fake_z, target_z, dim=1).mean()),
        "feature_cosine_raw": float(F.cosine_similarity(fake_features, targets, dim=1).mean()),
        "reconstruction_l1": float((rebuilt - images).abs().mean()),
        "reconstruction_ssim": float(ssim(rebuilt, images).mean()),
        "toward_target": float(rises[differs].float().mean()) if differs.any() else float("nan"),
        "target_class_rate": float(hits[differs].float().mean()) if differs.any() else float("nan"),
        "pairs_with_other_class": int(differs.sum()),
        "test_images": len(images),
    }
    if reference is not None:
        real = _penultimate(classifier, reference)
        for name, sample in (("real", images), ("reconstruction", rebuilt), ("edit", edited)):
            metrics[f"frechet_{name}"] = frechet_distance(_penultimate(classifier, sample), real)
    subset = images[:TRAVERSAL_IMAGES].to(device)
    return metrics | traversal_effects(
        model, classifier, layer, subset, own_features[:TRAVERSAL_IMAGES]
    )
