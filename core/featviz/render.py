"""Activation maximization in pixel or Fourier space (Lucid/Lucent-style ``render_vis``).

>>> from genlens.core.featviz import objectives as obj, visualize
>>> result = visualize(clf, obj.class_logit([1, 207, 954]), steps=64, seed=0)
>>> result.images.shape        # (3, 3, 224, 224), element i shows class i of the list
"""

from collections.abc import Sequence

import torch
from torch import nn

from genlens.core.errors import ParameterError
from genlens.core.featviz.forward import recording
from genlens.core.featviz.objectives import Objective
from genlens.core.featviz.param import make_image
from genlens.core.featviz.result import FeatVizResult
from genlens.core.featviz.transforms import RobustTransforms, resize
from genlens.core.models import Classifier, accepts_modules
from genlens.core.progress import ProgressCallback, no_progress

#: offset between an element's init seed and its transform seed (independent random streams)
TRANSFORM_SEED_OFFSET = 1_000_003


def element_seeds(seed: int, batch: int) -> list[int]:
    """Seed of each batch element: ``seed + i``, so element i equals a single run with that seed."""
    return [seed + index for index in range(batch)]


def transform_generators(seeds: Sequence[int]) -> list[torch.Generator]:
    """One CPU generator per element for its random transforms."""
    return [torch.Generator().manual_seed(seed + TRANSFORM_SEED_OFFSET) for seed in seeds]


def resolve_batch(objective: Objective, batch: int | None) -> int:
    """Batch size from the objective's per-element units, ``batch``, or 1; they must agree."""
    if batch is not None and batch < 1:
        raise ParameterError(f"batch must be >= 1, got {batch}")
    if objective.batch_size is not None and batch is not None and batch != objective.batch_size:
        raise ParameterError(
            f"batch={batch} but the objective targets {objective.batch_size} units"
        )
    return objective.batch_size or batch or 1


def check_steps(steps: int, lr: float) -> None:
    """Raise :class:`ParameterError` for a non-positive step count or learning rate."""
    if steps < 1:
        raise ParameterError(f"steps must be >= 1, got {steps}")
    if not lr > 0:
        raise ParameterError(f"learning rate must be > 0, got {lr}")


@accepts_modules
def visualize(
    classifier: Classifier | nn.Module,
    objective: Objective,
    *,
    method: str = "fourier",
    batch: int | None = None,
    size: tuple[int, int] | None = None,
    steps: int = 128,
    lr: float = 0.05,
    seed: int = 0,
    transforms: RobustTransforms | None = None,
    decorrelate: bool = True,
    progress: ProgressCallback = no_progress,
) -> FeatVizResult:
    """Optimize images with Adam so ``objective`` is maximal.

    Args:
        classifier: the model; its device, channel count and input size are used.
        objective: what to maximize; per-element units set the batch size.
        method: ``"fourier"`` (default) or ``"pixel"`` parameterization.
        batch: number of images when the objective does not imply it (e.g. diversity).
        size: (H, W) of the optimized images; default the classifier's input size. Images are
            resampled to the input size before the forward pass.
        steps: Adam steps; lr: Adam learning rate on the parameterization.
        seed: element ``i`` uses ``seed + i`` for its initialization and its transforms, so
            it reproduces a single-unit run with that seed (bit for bit where the backend's
            kernels are batch-size invariant, e.g. CPU with oneDNN off; otherwise up to float
            round-off, which Adam's sign-like first steps can amplify).
        transforms: robustness transforms; ``None`` means :class:`RobustTransforms` defaults,
            pass ``RobustTransforms(pad=0, jitter=0, scales=(1.0,), degrees=0)`` for none.
        decorrelate: use the decorrelated colour space (3-channel models only).
        progress: called as ``progress(step, steps)`` after every step.

    Returns:
        :class:`FeatVizResult` with images (B, C, H, W) in [0, 1] on the CPU.
    """
    check_steps(steps, lr)
    count = resolve_batch(objective, batch)
    input_size = tuple(classifier.preprocessing.input_size)
    size = tuple(size or input_size)
    transforms = transforms if transforms is not None else RobustTransforms()
    seeds = element_seeds(seed, count)
    param = make_image(
        method, size, classifier.preprocessing.channels, seeds, decorrelate=decorrelate
    ).to(classifier.device)
    generators = transform_generators(seeds)
    optimizer = torch.optim.Adam(param.parameters(), lr=lr, fused=True)
    trace = torch.zeros(steps, count)
    with recording(classifier, objective.output_layers, objective.input_layers) as forward:
        for step in range(steps):
            optimizer.zero_grad(set_to_none=True)
            images = param()
            score = objective(forward(transforms(images, generators, input_size), images))
            (-score.sum()).backward()
            optimizer.step()
            trace[step] = score.detach().cpu()
            progress(step + 1, steps)
        with torch.no_grad():
            images = param()
            scores = objective(forward(resize(images, input_size), images)).cpu()
    return FeatVizResult(
        images=images.detach().cpu(),
        trace=trace,
        scores=scores,
        params={
            "family": "activation-maximization",
            "method": method,
            "objective": objective.description,
            "model": classifier.name,
            "steps": steps,
            "lr": lr,
            "seeds": seeds,
            "size": list(size),
            "transforms": transforms.to_dict(),
            "decorrelate": decorrelate,
        },
    )
