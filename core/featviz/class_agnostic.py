"""Class-agnostic feature visualization ("The Mind's Eye", Stergiou 2021; algorithms.md §2).

Given a set of real images and a target layer, one image is synthesized per **facet**:

1. Pool the target layer's activations spatially over every image -> A (N, C).
2. Embed A in 2-D (PCA to 50 dims then t-SNE as the original, or PCA straight to 2-D, the
   default: deterministic and stable for small image sets) and k-means the embedding into K facets.
3. For each centre take the ``per_facet`` images **nearest** to it (the original took the
   farthest, bug row 13), weights w_j = softmax(1 / d_j), target t_k = sum_j w_j a_j, target
   channels S_k = top ``top_channels`` entries of t_k, initial image = sum_j w_j image_j.
4. Optimize the K images together. Per image b the loss is
   ``-sum_{c in S_b} a_bc t_bc  +  mean_c rho(a_bc - t_bc)  +  lambda(i) * mean|P_b|``
   where rho is the Charbonnier loss sqrt(x^2 + 1) - 1 (the effective form of the original's
   non-adapting adaptive loss, row 16), S_b is **only image b's own facet** (row 14) and P_b the
   input of the penalty layer. The loss is summed over images, so an image's gradient does not
   depend on K (the original's K^2 factor on the penalty and distance terms is dropped, row 15).
5. One SGD optimizer (momentum 0.9, Nesterov) for the whole run (row 16); float images, no
   per-step uint8 rounding (row 17); the image gradient is multiplied by a centred radial mask.
   The step is taken on the gradient divided by its mean absolute value per image, so ``lr`` is
   in [0, 1]-pixel units whatever the model's activation scale (the original's raw SGD lr 0.5
   was tuned to one ResNet layer).
6. The octave schedule interpolates lr, blur sigma, TV-denoise weight, mask sigma and lambda
   linearly over the octave's steps. Every 10 steps the centre is blurred and TV-Bregman denoised
   (blended through the mask); every ``brightness_step`` steps 5/255 is added. The images live
   on a ``scale``-times larger canvas: a crop offset is drawn every step (Normal around the
   centre, sd = ``window`` * margin), the working image is re-read from the canvas every
   ``window_step`` steps and written back every step. Masks and blurs are vectorized tensor ops.

Sizes in the octave (mask and blur sigmas) are in pixels of a 512-pixel image, as in the
original, and scale with the working size.
"""

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from skimage.restoration import denoise_tv_bregman
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE
from torch import nn

from genlens.core.errors import ParameterError
from genlens.core.featviz.forward import recording
from genlens.core.featviz.result import FeatVizResult
from genlens.core.featviz.transforms import resize
from genlens.core.models import Classifier, accepts_modules
from genlens.core.models.families import spatial_mean
from genlens.core.progress import ProgressCallback, no_progress

_REFERENCE_SIZE = 512
_LOG_EPS = float(np.log(np.finfo(np.float64).eps))


@dataclass(frozen=True)
class Octave:
    """One octave of the schedule; (start, end) pairs are interpolated linearly over ``steps``.

    Defaults are the original's example (2001 steps there; fewer here).
    """

    steps: int = 200
    scale: float = 1.2
    lr: tuple[float, float] = (0.0015, 0.0003)
    mask_sigma: tuple[float, float] = (420.0, 340.0)
    blur_sigma: tuple[float, float] = (0.9, 0.2)
    denoise_weight: tuple[float, float] = (2.0, 8.0)
    penalty: tuple[float, float] = (1e-4, 5e-4)
    window: float = 0.4
    window_step: int = 400
    brightness_step: int = 50
    blur_every: int = 10

    def __post_init__(self) -> None:
        if (
            self.steps < 1
            or self.window_step < 1
            or self.brightness_step < 1
            or self.blur_every < 1
        ):
            raise ParameterError("octave steps and step intervals must be >= 1")
        if self.scale < 1:
            raise ParameterError(f"octave scale must be >= 1, got {self.scale}")
        if min(self.lr) <= 0 or min(self.mask_sigma) <= 0 or min(self.denoise_weight) <= 0:
            raise ParameterError("octave lr, mask_sigma and denoise_weight must be > 0")

    def schedule(self) -> dict[str, np.ndarray]:
        """Every interpolated parameter as an array of length ``steps``."""
        names = ("lr", "mask_sigma", "blur_sigma", "denoise_weight", "penalty")
        return {name: np.linspace(*getattr(self, name), self.steps) for name in names}


@dataclass
class Facets:
    """The facets found in an image set.

    Attributes:
        embedding: (N, 2) 2-D embedding of the pooled activations.
        labels: (N,) facet of every image.
        centres: (K, 2) k-means centres.
        members: (K, per_facet) indices of the images nearest each centre, nearest first.
        distances: (K, per_facet) their embedding distances.
        weights: (K, per_facet) softmax(1 / distance) weights.
        targets: (K, C) weighted mean pooled activation per facet.
        channels: (K, top_channels) target channels of each facet.
    """

    embedding: np.ndarray
    labels: np.ndarray
    centres: np.ndarray
    members: np.ndarray
    distances: np.ndarray
    weights: np.ndarray
    targets: torch.Tensor
    channels: torch.Tensor
    extra: dict = field(default_factory=dict)


def pooled_activations(
    classifier: Classifier, images: torch.Tensor, layer: str, chunk: int = 16
) -> torch.Tensor:
    """Spatial mean of ``layer``'s output for images (N, C, H, W) in [0, 1] -> (N, channels)."""
    pooled = []
    with torch.no_grad(), classifier.capture([layer]) as record:
        for start in range(0, images.shape[0], chunk):
            classifier(images[start : start + chunk].to(classifier.device))
            pooled.append(classifier.pooled(layer, record.activations[layer]))
    return torch.cat(pooled).float().cpu()


def _facet_dot(
    pooled: torch.Tensor, targets: torch.Tensor, channel_mask: torch.Tensor
) -> torch.Tensor:
    """Per image b: sum over its own facet's channels S_b of a_bc * t_bc, shape (K,)."""
    return (pooled * targets * channel_mask).sum(1)


def embed(pooled: np.ndarray, method: str, seed: int) -> np.ndarray:
    """2-D embedding (N, 2) of pooled activations (N, C) by ``"pca"`` or ``"tsne"``."""
    count = pooled.shape[0]
    if method == "pca":
        return PCA(n_components=2, random_state=seed).fit_transform(pooled)
    if method == "tsne":
        reduced = PCA(
            n_components=min(50, count, pooled.shape[1]), random_state=seed
        ).fit_transform(pooled)
        perplexity = min(30.0, max(1.0, (count - 1) / 3))
        return TSNE(n_components=2, perplexity=perplexity, random_state=seed).fit_transform(reduced)
    raise ParameterError(f"unknown embedding {method!r}; choose pca or tsne")


def nearest_members(
    embedding: np.ndarray, centres: np.ndarray, per_facet: int
) -> tuple[np.ndarray, np.ndarray]:
    """Indices (K, per_facet) of the images nearest each centre, nearest first, and distances."""
    distances = np.linalg.norm(embedding[None, :, :] - centres[:, None, :], axis=2)
    order = np.argsort(distances, axis=1, kind="stable")[:, :per_facet]
    return order, np.take_along_axis(distances, order, axis=1)


def inverse_distance_weights(distances: np.ndarray) -> np.ndarray:
    """softmax(1 / d) along the last axis, stable for d -> 0 (that image then dominates)."""
    inverse = 1.0 / np.maximum(distances, 1e-12)
    inverse = inverse - inverse.max(axis=-1, keepdims=True)
    weights = np.exp(inverse)
    return weights / weights.sum(axis=-1, keepdims=True)


def find_facets(
    pooled: torch.Tensor,
    clusters: int,
    per_facet: int = 10,
    top_channels: int = 50,
    embedding: str = "pca",
    seed: int = 0,
) -> Facets:
    """Cluster pooled activations (N, C) into ``clusters`` facets (steps 2-3 of the method)."""
    count, channels = pooled.shape
    if not 1 <= clusters <= count:
        raise ParameterError(f"clusters must be between 1 and the number of images ({count})")
    if not 1 <= per_facet <= count:
        raise ParameterError(f"per_facet must be between 1 and the number of images ({count})")
    if not 1 <= top_channels <= channels:
        raise ParameterError(f"top_channels must be between 1 and {channels}")
    if count < 3:
        raise ParameterError("class-agnostic visualization needs at least 3 images")
    coordinates = embed(pooled.numpy().astype(np.float64), embedding, seed)
    kmeans = KMeans(n_clusters=clusters, n_init=10, random_state=seed).fit(coordinates)
    members, distances = nearest_members(coordinates, kmeans.cluster_centers_, per_facet)
    weights = inverse_distance_weights(distances)
    targets = torch.einsum("kj,kjc->kc", torch.from_numpy(weights).float(), pooled[members])
    return Facets(
        embedding=coordinates,
        labels=kmeans.labels_,
        centres=kmeans.cluster_centers_,
        members=members,
        distances=distances,
        weights=weights,
        targets=targets,
        channels=targets.topk(top_channels, dim=1).indices,
    )


def radial_mask(size: Sequence[int], sigma: float) -> torch.Tensor:
    """The original's centre mask eps^(0.5((r-1)/sigma)^2), min-max normalized, (H, W) in [0, 1]."""
    height, width = size
    rows = torch.arange(height, dtype=torch.float64)[:, None] - (height - 1) / 2
    cols = torch.arange(width, dtype=torch.float64)[None, :] - (width - 1) / 2
    radius = (rows.square() + cols.square()).sqrt()
    mask = torch.exp(0.5 * ((radius - 1) / sigma).square() * _LOG_EPS)
    mask = (mask - mask.min()) / (mask.max() - mask.min()).clamp_min(1e-12)
    return mask.float()


def gaussian_blur(images: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur of (B, C, H, W) with reflect padding; sigma in pixels."""
    if sigma <= 0:
        return images
    radius = max(1, int(np.ceil(3 * sigma)))
    offsets = torch.arange(-radius, radius + 1, dtype=images.dtype, device=images.device)
    kernel = torch.exp(-0.5 * (offsets / sigma).square())
    kernel = kernel / kernel.sum()
    channels = images.shape[1]
    padded = F.pad(images, [radius] * 4, mode="reflect")
    horizontal = kernel.view(1, 1, 1, -1).expand(channels, 1, 1, -1)
    vertical = kernel.view(1, 1, -1, 1).expand(channels, 1, -1, 1)
    blurred = F.conv2d(padded, horizontal, groups=channels)
    return F.conv2d(blurred, vertical, groups=channels)


def tv_denoise(images: torch.Tensor, weight: float) -> torch.Tensor:
    """TV-Bregman denoising (scikit-image) of each image (B, C, H, W) in [0, 1]."""
    arrays = images.detach().cpu().double().numpy()
    out = []
    for array in arrays:
        if array.shape[0] == 1:
            out.append(
                denoise_tv_bregman(array[0], weight=weight, max_num_iter=100, eps=1e-3)[None]
            )
        else:
            denoised = denoise_tv_bregman(
                array.transpose(1, 2, 0), weight=weight, max_num_iter=100, eps=1e-3, channel_axis=-1
            )
            out.append(denoised.transpose(2, 0, 1))
    return torch.from_numpy(np.stack(out)).to(images)


def charbonnier(difference: torch.Tensor) -> torch.Tensor:
    """sqrt(x^2 + 1) - 1, elementwise."""
    return (difference.square() + 1).sqrt() - 1


@dataclass
class _Canvas:
    """Working images on a larger canvas with per-image crop offsets (window jitter)."""

    pixels: torch.Tensor
    size: tuple[int, int]
    window: float
    generator: torch.Generator
    offsets: list[tuple[int, int]] = field(default_factory=list)

    def draw_offsets(self) -> None:
        margin_y = self.pixels.shape[2] - self.size[0]
        margin_x = self.pixels.shape[3] - self.size[1]
        noise = torch.randn(self.pixels.shape[0], 2, generator=self.generator).numpy()
        rows = np.clip(np.round(margin_y / 2 + noise[:, 0] * margin_y * self.window), 0, margin_y)
        cols = np.clip(np.round(margin_x / 2 + noise[:, 1] * margin_x * self.window), 0, margin_x)
        self.offsets = [(int(r), int(c)) for r, c in zip(rows, cols, strict=True)]

    def read(self) -> torch.Tensor:
        height, width = self.size
        return torch.stack(
            [
                self.pixels[b, :, r : r + height, c : c + width]
                for b, (r, c) in enumerate(self.offsets)
            ]
        )

    def write(self, images: torch.Tensor) -> None:
        height, width = self.size
        for b, (r, c) in enumerate(self.offsets):
            self.pixels[b, :, r : r + height, c : c + width] = images[b]


@accepts_modules
def class_agnostic(
    classifier: Classifier | nn.Module,
    images: torch.Tensor,
    *,
    layer: str,
    penalty_layer: str | None = None,
    clusters: int = 4,
    per_facet: int = 10,
    top_channels: int = 50,
    embedding: str = "pca",
    octaves: Sequence[Octave] = (Octave(),),
    size: tuple[int, int] | None = None,
    distance_weight: float = 1.0,
    seed: int = 0,
    progress: ProgressCallback = no_progress,
) -> FeatVizResult:
    """Synthesize one image per facet of ``images`` at ``layer`` (see the module docstring).

    Args:
        classifier: the model; its device and channel count are used.
        images: the image set (N, C, H, W) in [0, 1], e.g. photos of one class.
        layer: target layer whose pooled activations define facets and targets.
        penalty_layer: layer whose **input** gets the L1 penalty; ``None`` disables it.
        clusters, per_facet, top_channels: K facets, images per facet, channels per facet.
        embedding: ``"pca"`` (default) or ``"tsne"`` 2-D embedding before k-means.
        octaves: the schedule; octaves run one after the other with one optimizer.
        size: (H, W) of the synthesized images; default the classifier's input size.
        distance_weight: weight of the Charbonnier distance term per image.
        seed: seeds the embedding, k-means and the window jitter.
        progress: called as ``progress(step, total_steps)``.

    Returns:
        :class:`FeatVizResult` with images (K, C, H, W) in [0, 1]; ``trace`` (steps, K) is each
        image's facet dot product; ``extras``: ``loss`` (steps,), ``facets`` (:class:`Facets`),
        ``initial`` (K, C, H, W) the weighted-average initial images, ``reference_scores``
        (N, K) every real image's facet dot product (for activation ratios).
    """
    classifier.check_input(images)
    if not octaves:
        raise ParameterError("at least one octave is needed")
    size = tuple(size or classifier.preprocessing.input_size)
    input_size = tuple(classifier.preprocessing.input_size)
    pooled = pooled_activations(classifier, resize(images.float(), input_size), layer)
    facets = find_facets(pooled, clusters, per_facet, top_channels, embedding, seed)
    device = classifier.device
    weights = torch.from_numpy(facets.weights).float()
    initial = torch.einsum(
        "kj,kjchw->kchw", weights, resize(images.float().cpu(), size)[facets.members]
    )
    targets = facets.targets.to(device)
    channel_mask = torch.zeros_like(targets).scatter_(1, facets.channels.to(device), 1.0)
    work = initial.clone().to(device).requires_grad_(True)
    optimizer = torch.optim.SGD([work], lr=octaves[0].lr[0], momentum=0.9, nesterov=True)
    generator = torch.Generator().manual_seed(seed)
    total = sum(octave.steps for octave in octaves)
    trace = torch.zeros(total, clusters)
    losses = torch.zeros(total)
    step = 0
    penalty_layers = [penalty_layer] if penalty_layer else []
    with recording(classifier, [layer], penalty_layers) as forward:
        for octave in octaves:
            schedule = octave.schedule()
            canvas_size = [max(s, round(s * octave.scale)) for s in size]
            canvas = _Canvas(
                resize(work.detach(), canvas_size).clone(), size, octave.window, generator
            )
            factor = size[0] / _REFERENCE_SIZE
            for i in range(octave.steps):
                canvas.draw_offsets()
                if i > 0 and i % octave.window_step == 0:
                    with torch.no_grad():
                        work.copy_(canvas.read())
                mask = radial_mask(size, schedule["mask_sigma"][i] * factor).to(device)
                optimizer.zero_grad(set_to_none=True)
                context = forward(resize(work, input_size), work)
                pooled_now = spatial_mean(context.outputs[layer])
                dot = _facet_dot(pooled_now, targets, channel_mask)
                distance = charbonnier(pooled_now - targets).mean(1)
                loss = -dot + distance_weight * distance
                if penalty_layer:
                    loss = loss + schedule["penalty"][i] * context.inputs[
                        penalty_layer
                    ].abs().flatten(1).mean(1)
                loss.sum().backward()
                with torch.no_grad():
                    gradient = work.grad * mask
                    scale = gradient.abs().flatten(1).mean(1).clamp_min(1e-12)
                    work.grad = gradient / scale.view(-1, 1, 1, 1)
                for group in optimizer.param_groups:
                    group["lr"] = float(schedule["lr"][i])
                optimizer.step()
                with torch.no_grad():
                    work.clamp_(0, 1)
                    _regularize(work, octave, schedule, i, mask, factor)
                    canvas.write(work)
                trace[step] = dot.detach().cpu()
                losses[step] = float(loss.detach().sum())
                step += 1
                progress(step, total)
        with torch.no_grad():
            context = forward(resize(work, input_size), work)
            scores = _facet_dot(spatial_mean(context.outputs[layer]), targets, channel_mask).cpu()
    return FeatVizResult(
        images=work.detach().cpu(),
        trace=trace,
        scores=scores,
        params={
            "family": "class-agnostic",
            "model": classifier.name,
            "layer": layer,
            "penalty_layer": penalty_layer,
            "clusters": clusters,
            "per_facet": per_facet,
            "top_channels": top_channels,
            "embedding": embedding,
            "octaves": [asdict(octave) for octave in octaves],
            "size": list(size),
            "distance_weight": distance_weight,
            "seed": seed,
            "images": int(images.shape[0]),
            "members": facets.members.tolist(),
        },
        extras={
            "loss": losses,
            "facets": facets,
            "initial": initial,
            "reference_scores": torch.einsum(
                "nc,kc->nk", pooled, facets.targets * channel_mask.cpu()
            ),
        },
    )


def _regularize(
    work: torch.Tensor,
    octave: Octave,
    schedule: dict[str, np.ndarray],
    i: int,
    mask: torch.Tensor,
    factor: float,
) -> None:
    """Every ``blur_every`` steps: masked blur, brightness lift and masked TV denoise, in place."""
    step = i + 1
    if step % octave.blur_every:
        return
    inverse = 1 - mask
    work.copy_(work * inverse + gaussian_blur(work, schedule["blur_sigma"][i] * factor) * mask)
    if step % octave.brightness_step == 0:
        work.add_(5 / 255).clamp_(0, 1)
    work.copy_(work * inverse + tv_denoise(work, float(schedule["denoise_weight"][i])) * mask)
