"""DGN-AM: activation maximization in the code space of a generator prior (Nguyen et al. 2016).

Each step (spec: algorithms.md §4.3) computes the gradient g of the objective with respect to the
code y through ``classifier(prior.to_classifier(G(y)))`` and takes a **normalized** step
``y <- y + lr_i * g / mean|g|`` (per batch element), then applies the L2 decay ``y <- decay * y``
and clips y to per-dimension bounds. The step size falls linearly from ``lr[0]`` to ``lr[1]``.
Decay is applied before the clip so the returned codes always lie within the bounds.

**Bounds.** The original clips codes to [0, u_j] with u_j from activation statistics of real
images' encoder codes. A prior that stores such bounds estimated from its training data
(:meth:`GeneratorPrior.bounds`; genlens' trained priors keep ``[min, mean + 3 std]`` of the real
images' codes) is clipped to its own bounds. For any other prior we use its **sampling
distribution**: ``mean ± multiplier * std`` per dimension over sampled codes
(:func:`sampled_bounds`, 3 standard deviations by default, the original's "3x" setting). For the
DCGAN face prior this is about [-3, 3] per dimension, the region where the generator was trained.
:func:`estimate_bounds` gives the same statistic for any set of codes, e.g. codes of real images
from :func:`invert`.

**Returned iterate.** By default the last iterate, as in the original (bug register row 33);
``keep_best=True`` returns, per element, the iterate with the highest objective score instead.
"""

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from genlens.core.errors import ParameterError
from genlens.core.featviz.forward import recording
from genlens.core.featviz.generator_prior import CodeBounds, GeneratorPrior
from genlens.core.featviz.objectives import Objective
from genlens.core.featviz.render import check_steps, element_seeds, resolve_batch
from genlens.core.featviz.result import FeatVizResult
from genlens.core.featviz.transforms import resize
from genlens.core.models import Classifier, accepts_modules
from genlens.core.progress import ProgressCallback, no_progress


def estimate_bounds(
    codes: torch.Tensor, multiplier: float = 3.0, source: str = "codes"
) -> CodeBounds:
    """``mean ± multiplier * std`` per dimension over codes (N, *code_shape), N >= 2."""
    if codes.shape[0] < 2:
        raise ParameterError("estimating code bounds needs at least 2 codes")
    if not multiplier > 0:
        raise ParameterError(f"bound multiplier must be > 0, got {multiplier}")
    mean, std = codes.mean(0), codes.std(0)
    return CodeBounds(
        mean - multiplier * std, mean + multiplier * std, f"{source} mean ± {multiplier:g} std"
    )


def sampled_bounds(
    prior: GeneratorPrior, count: int = 10_000, multiplier: float = 3.0, seed: int = 0
) -> CodeBounds:
    """Bounds from ``count`` codes of the prior's sampling distribution (see module docstring)."""
    codes = prior.sample_codes(count, torch.Generator().manual_seed(seed))
    return estimate_bounds(codes, multiplier, f"{prior.name} samples")


def invert(
    prior: GeneratorPrior,
    images: torch.Tensor,
    *,
    steps: int = 200,
    lr: float = 0.05,
    code_weight: float = 1e-3,
    seed: int = 0,
    progress: ProgressCallback = no_progress,
) -> torch.Tensor:
    """Codes (B, *code_shape) whose generated images match ``images`` (B, C, H, W) in [0, 1].

    Uses the prior's encoder when it has one; otherwise Adam minimizes the mean squared pixel
    error at the generator's resolution plus ``code_weight`` times the mean squared code
    (keeps codes near the prior's typical set), starting from sampled codes (``seed + i``).
    """
    if prior.has_encoder:
        return prior.encode(images)
    check_steps(steps, lr)
    target = resize(images.to(prior.device).float(), prior.image_size)
    if target.shape[1] != prior.channels:
        target = target.mean(1, keepdim=True).expand(-1, prior.channels, -1, -1)
    seeds = element_seeds(seed, target.shape[0])
    codes = torch.cat([prior.sample_codes(1, torch.Generator().manual_seed(s)) for s in seeds])
    codes.requires_grad_(True)
    optimizer = torch.optim.Adam([codes], lr=lr)
    for step in range(steps):
        optimizer.zero_grad(set_to_none=True)
        error = F.mse_loss(prior.generate(codes), target, reduction="none").flatten(1).mean(1)
        loss = error + code_weight * codes.flatten(1).pow(2).mean(1)
        loss.sum().backward()
        optimizer.step()
        progress(step + 1, steps)
    return codes.detach()


@accepts_modules
def dgn_am(
    classifier: Classifier | nn.Module,
    objective: Objective,
    prior: GeneratorPrior,
    *,
    steps: int = 200,
    lr: tuple[float, float] = (0.5, 0.01),
    l2_decay: float = 0.99,
    bounds: CodeBounds | None = None,
    init_images: torch.Tensor | None = None,
    init_codes: torch.Tensor | None = None,
    keep_best: bool = False,
    batch: int | None = None,
    seed: int = 0,
    progress: ProgressCallback = no_progress,
) -> FeatVizResult:
    """Maximize ``objective`` over generator codes with normalized gradient steps.

    Args:
        classifier: the model being visualized; generated images move to its device.
        objective: what to maximize; per-element units set the batch size.
        prior: the generator; its images are resized/converted to the classifier's input.
        steps: number of code updates.
        lr: (start, end) step size in mean-absolute code units, linear in between.
        l2_decay: multiplicative code shrinkage per step in (0, 1]; 1 disables it.
        bounds: per-dimension code bounds; default the prior's own data bounds
            (:meth:`GeneratorPrior.bounds`), else :func:`sampled_bounds` of the prior.
        init_images: start from these images' codes (B, C, H, W) in [0, 1], via the encoder
            or :func:`invert`; init_codes: start from these codes. Default: sampled codes,
            element ``i`` from seed ``seed + i``.
        keep_best: return each element's highest-scoring iterate instead of the last one.
        progress: called as ``progress(step, steps)``.

    Returns:
        :class:`FeatVizResult` with images (B, C, H, W) in [0, 1] at the generator's resolution;
        ``extras["codes"]`` (B, *code_shape) and ``extras["bounds"]`` (:class:`CodeBounds`).
    """
    check_steps(steps, min(lr))
    if not 0 < l2_decay <= 1:
        raise ParameterError(f"l2_decay must be in (0, 1], got {l2_decay}")
    if init_images is not None and init_codes is not None:
        raise ParameterError("give init_images or init_codes, not both")
    count = resolve_batch(objective, batch)
    seeds = element_seeds(seed, count)
    init = "random" if init_images is None and init_codes is None else "codes"
    init = "images" if init_images is not None else init
    bounds = bounds or prior.bounds() or sampled_bounds(prior)
    codes = _initial_codes(prior, count, seeds, init_images, init_codes)
    codes = bounds.clip(codes.to(prior.device).float())
    schedule = torch.linspace(lr[0], lr[1], steps) if steps > 1 else torch.tensor([lr[0]])
    trace = torch.zeros(steps, count)
    best_scores = torch.full((count,), -torch.inf)
    best_codes = codes.clone()
    with recording(classifier, objective.output_layers, objective.input_layers) as forward:
        for step in range(steps):
            codes.requires_grad_(True)
            images = prior.generate(codes)
            score = objective(forward(prior.to_classifier(images, classifier), images))
            (gradient,) = torch.autograd.grad(score.sum(), codes)
            with torch.no_grad():
                scores = score.detach().cpu()
                trace[step] = scores
                improved = scores > best_scores
                best_scores = torch.where(improved, scores, best_scores)
                best_codes[improved.to(codes.device)] = codes[improved.to(codes.device)]
                codes = bounds.clip(
                    _normalized_step(codes, gradient, float(schedule[step])) * l2_decay
                )
            progress(step + 1, steps)
        with torch.no_grad():
            final_images = prior.generate(codes)
            final = objective(
                forward(prior.to_classifier(final_images, classifier), final_images)
            ).cpu()
            if keep_best:
                better = final < best_scores
                keep = better.to(codes.device).view(-1, *([1] * (codes.ndim - 1)))
                codes = torch.where(keep, best_codes, codes)
                final_images = prior.generate(codes)
                final = torch.maximum(final, best_scores)
    return FeatVizResult(
        images=final_images.cpu(),
        trace=trace,
        scores=final,
        params={
            "family": "dgn-am",
            "prior": prior.name,
            "objective": objective.description,
            "model": classifier.name,
            "steps": steps,
            "lr": list(lr),
            "l2_decay": l2_decay,
            "bounds": bounds.to_dict(),
            "init": init,
            "keep_best": keep_best,
            "seeds": seeds,
        },
        extras={"codes": codes.cpu(), "bounds": bounds},
    )


def _initial_codes(
    prior: GeneratorPrior,
    count: int,
    seeds: Sequence[int],
    init_images: torch.Tensor | None,
    init_codes: torch.Tensor | None,
) -> torch.Tensor:
    if init_codes is not None:
        codes = init_codes
    elif init_images is not None:
        codes = invert(prior, init_images, seed=seeds[0])
    else:
        return torch.cat([prior.sample_codes(1, torch.Generator().manual_seed(s)) for s in seeds])
    prior.check_codes(codes)
    if codes.shape[0] != count:
        raise ParameterError(f"{codes.shape[0]} initial codes for a batch of {count}")
    return codes


def _normalized_step(codes: torch.Tensor, gradient: torch.Tensor, lr: float) -> torch.Tensor:
    """``codes + lr * g / mean|g|`` per element; elements with a zero or NaN gradient stay put."""
    scale = gradient.abs().flatten(1).mean(1)
    usable = torch.isfinite(scale) & (scale > 0)
    factor = torch.where(usable, lr / scale.clamp_min(1e-30), torch.zeros_like(scale))
    step = torch.nan_to_num(gradient) * factor.view(-1, *([1] * (gradient.ndim - 1)))
    return codes + step
