"""Library API of the feature-conditioned generator: load, edit, render with, interpolate.

>>> from genlens.core.generative.conditional import api
>>> model = api.load_conditional("fmnist-conditional")          # zoo name or trained folder
>>> images = model.prepare([api.resolve_reference("fmnist:test:12")])   # (1, 1, 32, 32)
>>> result = api.edit(model, images, traverse=[1, 2, 3], quantiles=[10, 50, 90])
>>> result.outputs.shape           # (1, 10, 1, 32, 32): 9 edits + reconstruction
>>> api.grid_image(result).save("traversal.png")                 # labelled PNG
>>> api.render_with(model, images, model.prepare([other])).outputs  # "A with B's features"

Every function takes images (B, C, S, S) in [0, 1] at the model's size and channels
(:meth:`ConditionalGAN.prepare` resizes PIL images) and returns an :class:`EditResult`:
the outputs (B, T, C, S, S) in [0, 1], one label per column, and the classifier's
probabilities for every output. Grids follow the original: one row per image,
``real | outputs``. All functions are deterministic (no randomness), run without gradients
and report ``progress(done, total)`` per column.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from PIL import Image, ImageDraw
from torchvision.utils import make_grid

from genlens.core import defaults
from genlens.core.data import resolve_image, to_pil
from genlens.core.device import resolve_device
from genlens.core.errors import ImageError, ModelLoadError, ParameterError
from genlens.core.generative.conditional.editor import (
    check_traversal,
    interpolation_path,
    traversal_targets,
)
from genlens.core.generative.conditional.features import extract
from genlens.core.generative.conditional.nets import ConditionalModel
from genlens.core.generative.faces import photo_face
from genlens.core.generative.loading import load_trained, resolve_classifier
from genlens.core.generative.worlds import WORLDS
from genlens.core.models import Classifier, Preprocessing
from genlens.core.progress import ProgressCallback, no_progress
from genlens.core.zoo import ZOO_DIR, zoo_of_kind

WORLD_REFERENCE = re.compile(r"^(?P<world>[a-z]+):(?P<split>train|val|test):(?P<index>\d+)$")
"""``WORLD:SPLIT:INDEX``, e.g. ``fmnist:test:12`` (an image of a genlens world)."""
FACE_PHOTO = re.compile(r"^faces:photo:(?P<name>[a-z0-9_]+)$")
"""``faces:photo:NAME``, e.g. ``faces:photo:astronaut`` (a real face, see ``faces.PHOTO_FACES``)."""


@dataclass
class ConditionalGAN:
    """A trained conditional generator with the classifier whose features condition it."""

    name: str
    model: ConditionalModel
    classifier: Classifier
    layer: str
    card: dict[str, Any]

    @property
    def image_size(self) -> int:
        return int(self.card["arch"]["image_size"])

    @property
    def channels(self) -> int:
        return int(self.card["arch"]["channels"])

    @property
    def device(self) -> torch.device:
        return self.model.feature_mean.device

    @property
    def components(self) -> int:
        """Number of principal components the editor can traverse (pc1..pcK)."""
        return int(self.model.components.shape[0])

    def prepare(self, images: Sequence[Image.Image]) -> torch.Tensor:
        """PIL images resized to (B, channels, S, S) in [0, 1] on the model's device."""
        size, channels = self.image_size, self.channels
        spec = Preprocessing((size, size), (0.5,) * channels, (0.5,) * channels, 1.0, "bilinear")
        return spec.batch(list(images)).to(self.device)

    def check(self, images: torch.Tensor) -> torch.Tensor:
        """``images`` on the model's device; raises :class:`ParameterError` on a wrong shape."""
        expected = (self.channels, self.image_size, self.image_size)
        if images.ndim != 4 or tuple(images.shape[1:]) != expected:
            raise ParameterError(
                f"{self.name} takes images (B, {', '.join(map(str, expected))}), "
                f"got {tuple(images.shape)}"
            )
        return images.to(self.device)

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """Raw classifier features (B, c_dim) of [0, 1] images."""
        return extract(self.classifier, self.check(images), self.layer)[0].to(self.device)

    @torch.no_grad()
    def render(
        self, images: torch.Tensor, features: torch.Tensor, own: torch.Tensor | None = None
    ) -> torch.Tensor:
        """G(x, c): images (B, C, S, S) re-rendered with raw features (B, c_dim); ``own``: the
        images' raw features when the caller has them (computed otherwise)."""
        images = self.check(images)
        own = self.features(images) if own is None else own
        return self.model(images, features.to(self.device), own).clamp(0, 1)

    @torch.no_grad()
    def probabilities(self, images: torch.Tensor) -> torch.Tensor:
        """Classifier probabilities (B, K) of [0, 1] images."""
        return extract(self.classifier, images, self.layer)[1].softmax(1)


@dataclass
class EditResult:
    """Outputs of an edit: ``images`` (B, C, S, S), ``outputs`` (B, T, C, S, S), ``labels`` (T)
    column names, ``probabilities`` (B, T, K) of the classifier on each output and
    ``input_probabilities`` (B, K) on the inputs; ``class_names`` (K)."""

    images: torch.Tensor
    outputs: torch.Tensor
    labels: list[str]
    probabilities: torch.Tensor
    input_probabilities: torch.Tensor
    class_names: list[str]

    @property
    def grid(self) -> torch.Tensor:
        """(C, H, W) in [0, 1]: one row per image, ``real | outputs``, 1 px padding."""
        tiles = torch.cat([self.images[:, None], self.outputs], dim=1)
        return make_grid(tiles.flatten(0, 1).cpu(), nrow=tiles.shape[1], padding=1, pad_value=1)


def load_conditional_network(
    name_or_folder: str | Path,
) -> tuple[torch.nn.Module, Path, dict[str, Any]]:
    """``(network in eval mode, folder, card)`` of a shipped model by name or a trained folder."""
    folder = Path(name_or_folder)
    if not (folder / "card.json").is_file():
        folder = ZOO_DIR / str(name_or_folder)
        if not (folder / "card.json").is_file():
            shipped = ", ".join(model.name for model in zoo_of_kind("conditional"))
            raise ModelLoadError(
                f"no conditional model {str(name_or_folder)!r}; shipped: {shipped or 'none'}"
            )
    network, card = load_trained(folder)
    if card.get("kind") != "conditional":
        raise ModelLoadError(f"{folder} holds a {card.get('kind')!r}, not a conditional generator")
    return network, folder, card


def load_conditional(name_or_folder: str | Path, device: str = "auto") -> ConditionalGAN:
    """A shipped model by name (``fmnist-conditional``) or a trained folder, frozen, in eval."""
    network, folder, card = load_conditional_network(name_or_folder)
    target = resolve_device(device)
    for parameter in network.parameters():
        parameter.requires_grad_(False)
    classifier = resolve_classifier(card["classifier"], str(target))
    return ConditionalGAN(folder.name, network.to(target), classifier, card["feature_layer"], card)


def is_world_reference(reference: object) -> bool:
    """True for the references this module resolves itself: ``WORLD:SPLIT:INDEX`` of a known
    world and ``faces:photo:NAME`` (others are files or ``sample:NAME``)."""
    if not isinstance(reference, str):
        return False
    match = WORLD_REFERENCE.match(reference)
    return FACE_PHOTO.match(reference) is not None or (
        match is not None and match["world"] in WORLDS
    )


def resolve_reference(reference: str | Path) -> Image.Image:
    """A PIL image from a file, ``sample:NAME``, ``WORLD:SPLIT:INDEX`` (``fmnist:test:12``) or
    ``faces:photo:NAME`` (a real face photo cropped like the faces world)."""
    photo = FACE_PHOTO.match(str(reference))
    if photo is not None:
        return photo_face(photo["name"])
    match = WORLD_REFERENCE.match(str(reference))
    if match is None or match["world"] not in WORLDS:
        return resolve_image(reference)
    images = WORLDS[match["world"]].split(match["split"])[0]
    index = int(match["index"])
    if index >= len(images):
        raise ImageError(f"{reference}: index out of range (the split has {len(images)} images)")
    return to_pil(images[index].float() / 255.0)


def _columns(
    model: ConditionalGAN,
    images: torch.Tensor,
    targets: torch.Tensor,
    labels: list[str],
    progress: ProgressCallback,
) -> EditResult:
    """Render every target set (T, B, c_dim) and classify the outputs."""
    outputs, own = [], model.features(images)
    for index, features in enumerate(targets):
        outputs.append(model.render(images, features, own))
        progress(index + 1, len(targets))
    stacked = torch.stack(outputs, dim=1)
    probabilities = model.probabilities(stacked.flatten(0, 1)).view(*stacked.shape[:2], -1)
    return EditResult(
        images,
        stacked,
        labels,
        probabilities,
        model.probabilities(images),
        list(model.classifier.labels),
    )


def edit(
    model: ConditionalGAN,
    images: torch.Tensor,
    traverse: Sequence[int] = defaults.TRAVERSE,
    quantiles: Sequence[float] = defaults.QUANTILES,
    progress: ProgressCallback = no_progress,
) -> EditResult:
    """PCA traversals: each component (1-based) at each training quantile, one at a time.

    Columns: ``pc{i}@q{q}`` for i in ``traverse`` and q in ``quantiles``, then
    ``reconstruction`` (the image's own features). Each edit changes only that component's
    score, starting from a copy of the image's own features (see ``editor``).
    """
    traverse, quantiles = check_traversal(traverse, quantiles)
    images = model.check(images)
    found, targets = traversal_targets(model.model, model.features(images), traverse, quantiles)
    return _columns(model, images, targets, [t.label for t in found], progress)


def render_with(
    model: ConditionalGAN,
    images: torch.Tensor,
    target_images: torch.Tensor,
    progress: ProgressCallback = no_progress,
) -> EditResult:
    """ "Render A with B's features": column j is G(x, f(target_j)) for every image x; last
    column the reconstruction G(x, f(x))."""
    images = model.check(images)
    own, wanted = model.features(images), model.features(target_images)
    targets = torch.stack([*(row.expand_as(own) for row in wanted), own])
    labels = [f"target {index + 1}" for index in range(len(wanted))] + ["reconstruction"]
    return _columns(model, images, targets, labels, progress)


def interpolate(
    model: ConditionalGAN,
    images: torch.Tensor,
    start: torch.Tensor,
    end: torch.Tensor,
    steps: int = 5,
    progress: ProgressCallback = no_progress,
) -> EditResult:
    """Render images along the straight line between raw feature vectors ``start`` and ``end``
    ((B, c_dim) or (c_dim,)); columns ``t=0.00`` ... ``t=1.00``."""
    images = model.check(images)
    shape = (len(images), model.model.c_dim)
    path = interpolation_path(
        start.to(model.device).expand(shape), end.to(model.device).expand(shape), steps
    )
    labels = [f"t={weight:.2f}" for weight in torch.linspace(0, 1, steps).tolist()]
    return _columns(model, images, path, labels, progress)


@torch.no_grad()
def component_effects(model: ConditionalGAN, images: torch.Tensor, class_name: str) -> torch.Tensor:
    """For each component k (index k-1): mean over images of p(class | pc_k@q90 edit) minus
    p(class | pc_k@q10 edit). The largest magnitude is the direction that moves the class most;
    the sign says which end raises it."""
    if class_name not in model.classifier.labels:
        raise ParameterError(
            f"unknown class {class_name!r}; {model.classifier.name} has "
            + ", ".join(model.classifier.labels)
        )
    index = model.classifier.labels.index(class_name)
    result = edit(model, images, range(1, model.components + 1), (10, 90))
    probability = result.probabilities[:, :-1, index].view(len(images), model.components, 2)
    return (probability[..., 1] - probability[..., 0]).mean(0).cpu()


def grid_image(result: EditResult, scale: int = 0, captions: bool = True) -> Image.Image:
    """The grid as a PIL image (L for grayscale models, else RGB) with column labels on top and,
    under each tile, the classifier's top class and probability. ``scale`` enlarges tiles
    (0 = to at least 64 px)."""
    tile = result.images.shape[-1]
    scale = scale or max(1, -(-64 // tile))
    columns = ["real", *result.labels]
    size, header = tile * scale, 14
    cell_w, cell_h = size + 2, size + (12 if captions else 0) + 2
    rows = len(result.images)
    mode = "L" if result.images.shape[1] == 1 else "RGB"
    canvas = Image.new(mode, (cell_w * len(columns), header + cell_h * rows), "white")
    draw = ImageDraw.Draw(canvas)
    for column, label in enumerate(columns):
        draw.text((column * cell_w + 2, 1), label[: size // 6], fill="black")
    tiles = torch.cat([result.images[:, None], result.outputs], dim=1).cpu()
    probabilities = torch.cat([result.input_probabilities[:, None], result.probabilities], dim=1)
    for row in range(rows):
        for column in range(len(columns)):
            picture = to_pil(tiles[row, column]).convert(mode).resize((size, size), Image.NEAREST)
            left, top = column * cell_w + 1, header + row * cell_h + 1
            canvas.paste(picture, (left, top))
            if captions:
                text = _caption(result.class_names, probabilities[row, column], size // 6)
                draw.text((left + 1, top + size), text, fill="black")
    return canvas


def _caption(names: list[str], probabilities: torch.Tensor, characters: int) -> str:
    """``"<top class> 0.87"`` fitting in ``characters`` characters."""
    best = int(probabilities.argmax())
    return f"{names[best][: max(characters - 5, 3)]} {float(probabilities[best]):.2f}"
