"""Composable feature-visualization objectives (to be **maximized**).

An :class:`Objective` maps a :class:`ObjectiveContext` (the classifier's logits, the outputs and
inputs of the layers it asked for, and the images) to one score per batch element, shape (B,).
Objectives combine with ``+``, ``-``, unary ``-`` and multiplication by a number::

    objective = class_logit([1, 207, 954]) - 1e-3 * total_variation()

Unit arguments accept one index (every batch element targets it) or a sequence of length B
(element ``i`` targets ``units[i]``), so a batch of N images optimizes N different units in one
forward pass. Because each element's score depends only on its own image (the classifier is in
eval mode), the gradient of the summed score reaches every element independently.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch

from genlens.core.errors import ParameterError
from genlens.core.models.families import spatial_mean

Units = int | Sequence[int]


@dataclass
class ObjectiveContext:
    """What an objective can read after one forward pass.

    Attributes:
        images: the images being optimized, (B, C, H, W) in [0, 1] (before transforms).
        logits: classifier output, (B, num_classes).
        outputs: layer name -> that layer's output, e.g. (B, C, h, w).
        inputs: layer name -> the first positional input of that layer.
    """

    images: torch.Tensor
    logits: torch.Tensor
    outputs: dict[str, torch.Tensor] = field(default_factory=dict)
    inputs: dict[str, torch.Tensor] = field(default_factory=dict)


ScoreFn = Callable[[ObjectiveContext], torch.Tensor]


class Objective:
    """A score (B,) computed from an :class:`ObjectiveContext`; higher is better.

    Attributes:
        description: human-readable formula, e.g. ``"logit[207] - 0.001*tv"``.
        output_layers: layers whose outputs the objective reads.
        input_layers: layers whose inputs the objective reads.
        batch_size: the batch size implied by per-element units, ``None`` when any size works.
    """

    def __init__(
        self,
        score: ScoreFn,
        description: str,
        output_layers: Sequence[str] = (),
        input_layers: Sequence[str] = (),
        batch_size: int | None = None,
    ):
        self._score = score
        self.description = description
        self.output_layers = tuple(dict.fromkeys(output_layers))
        self.input_layers = tuple(dict.fromkeys(input_layers))
        self.batch_size = batch_size

    def __call__(self, context: ObjectiveContext) -> torch.Tensor:
        """Score per batch element, shape (B,)."""
        score = self._score(context)
        if score.ndim != 1 or score.shape[0] != context.logits.shape[0]:
            raise ParameterError(
                f"objective {self.description} returned shape {tuple(score.shape)}"
            )
        return score

    def __repr__(self) -> str:
        return f"Objective({self.description})"

    def _combine(self, other: "Objective", score: ScoreFn, description: str) -> "Objective":
        sizes = {size for size in (self.batch_size, other.batch_size) if size is not None}
        if len(sizes) > 1:
            raise ParameterError(f"objectives target different batch sizes: {sorted(sizes)}")
        return Objective(
            score,
            description,
            self.output_layers + other.output_layers,
            self.input_layers + other.input_layers,
            sizes.pop() if sizes else None,
        )

    def __add__(self, other: "Objective | float") -> "Objective":
        if isinstance(other, int | float):
            if other == 0:
                return self
            return Objective(
                lambda ctx: self(ctx) + other,
                f"{self.description} + {other:g}",
                self.output_layers,
                self.input_layers,
                self.batch_size,
            )
        if not isinstance(other, Objective):
            return NotImplemented
        return self._combine(
            other, lambda ctx: self(ctx) + other(ctx), f"{self.description} + {other.description}"
        )

    __radd__ = __add__

    def __neg__(self) -> "Objective":
        return -1.0 * self

    def __sub__(self, other: "Objective | float") -> "Objective":
        return self + (-other)

    def __mul__(self, factor: float) -> "Objective":
        if not isinstance(factor, int | float):
            return NotImplemented
        return Objective(
            lambda ctx: factor * self(ctx),
            f"{factor:g}*({self.description})",
            self.output_layers,
            self.input_layers,
            self.batch_size,
        )

    __rmul__ = __mul__

    def __truediv__(self, divisor: float) -> "Objective":
        return self * (1.0 / divisor)


def _unit_index(units: Units, what: str) -> tuple[torch.Tensor, int | None]:
    """Units as a long tensor (B,) or (1,), plus the batch size they imply."""
    values = [units] if isinstance(units, int) else list(units)
    if not values or not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        raise ParameterError(f"{what} must be an int or a non-empty list of ints, got {units!r}")
    if min(values) < 0:
        raise ParameterError(f"{what} must be >= 0, got {min(values)}")
    return torch.tensor(values, dtype=torch.long), None if isinstance(units, int) else len(values)


def _per_element(index: torch.Tensor, batch: int, device: torch.device) -> torch.Tensor:
    if index.numel() not in (1, batch):
        raise ParameterError(f"{index.numel()} units given for a batch of {batch} images")
    return index.to(device).expand(batch)


def _check_range(index: torch.Tensor, size: int, what: str) -> None:
    if int(index.max()) >= size:
        raise ParameterError(f"{what} {int(index.max())} out of range: valid 0..{size - 1}")


def _gather_channel(activation: torch.Tensor, index: torch.Tensor, what: str) -> torch.Tensor:
    """The channel ``index[b]`` of each element: (B, C, ...) -> (B, ...)."""
    _check_range(index, activation.shape[1], what)
    shape = (activation.shape[0], 1, *activation.shape[2:])
    gather = index.view(-1, *([1] * (activation.ndim - 1))).expand(shape)
    return activation.gather(1, gather).squeeze(1)


def class_logit(units: Units) -> Objective:
    """Pre-softmax logit of class ``units`` (per element when a list)."""
    index, batch = _unit_index(units, "class")

    def score(ctx: ObjectiveContext) -> torch.Tensor:
        target = _per_element(index, ctx.logits.shape[0], ctx.logits.device)
        _check_range(target, ctx.logits.shape[1], "class")
        return ctx.logits.gather(1, target[:, None]).squeeze(1)

    return Objective(score, f"logit{list(index.tolist())}", batch_size=batch)


def class_log_prob(units: Units) -> Objective:
    """Log-softmax probability of class ``units`` (pushes other classes down too)."""
    index, batch = _unit_index(units, "class")

    def score(ctx: ObjectiveContext) -> torch.Tensor:
        target = _per_element(index, ctx.logits.shape[0], ctx.logits.device)
        _check_range(target, ctx.logits.shape[1], "class")
        return ctx.logits.log_softmax(dim=1).gather(1, target[:, None]).squeeze(1)

    return Objective(score, f"logprob{list(index.tolist())}", batch_size=batch)


def channel(layer: str, units: Units) -> Objective:
    """Spatial mean of channel ``units`` of ``layer``'s output (B, C, h, w) or (B, C)."""
    index, batch = _unit_index(units, "channel")

    def score(ctx: ObjectiveContext) -> torch.Tensor:
        activation = ctx.outputs[layer]
        target = _per_element(index, activation.shape[0], activation.device)
        return _gather_channel(activation, target, f"channel of {layer}").flatten(1).mean(1)

    return Objective(score, f"{layer}:{list(index.tolist())}", [layer], batch_size=batch)


def neuron(layer: str, units: Units, x: int | None = None, y: int | None = None) -> Objective:
    """Channel ``units`` of ``layer`` at column ``x``, row ``y`` (default: the centre)."""
    index, batch = _unit_index(units, "channel")

    def score(ctx: ObjectiveContext) -> torch.Tensor:
        activation = ctx.outputs[layer]
        if activation.ndim != 4:
            raise ParameterError(f"neuron() needs a spatial layer (B, C, h, w); {layer} is not")
        height, width = activation.shape[2:]
        row = height // 2 if y is None else y
        col = width // 2 if x is None else x
        if not (0 <= row < height and 0 <= col < width):
            raise ParameterError(
                f"neuron position ({col}, {row}) outside {layer}'s {width}x{height}"
            )
        target = _per_element(index, activation.shape[0], activation.device)
        return _gather_channel(activation[:, :, row : row + 1, col : col + 1], target, layer)[
            :, 0, 0
        ]

    return Objective(score, f"{layer}:{list(index.tolist())}@({x},{y})", [layer], batch_size=batch)


def direction(layer: str, vectors: torch.Tensor) -> Objective:
    """Spatial mean of the projection of ``layer``'s channels on a direction.

    ``vectors`` is (C,) for every element or (B, C) for one direction per element; directions are
    normalized to unit length, so the score is in the layer's activation units.
    """
    if vectors.ndim not in (1, 2):
        raise ParameterError(
            f"direction vectors must be (C,) or (B, C), got {tuple(vectors.shape)}"
        )
    unit = vectors.float() / vectors.float().norm(dim=-1, keepdim=True).clamp_min(1e-12)
    batch = unit.shape[0] if unit.ndim == 2 else None

    def score(ctx: ObjectiveContext) -> torch.Tensor:
        activation = ctx.outputs[layer]
        if activation.shape[1] != unit.shape[-1]:
            raise ParameterError(
                f"direction has {unit.shape[-1]} channels, {layer} has {activation.shape[1]}"
            )
        weights = unit.to(activation.device).expand(activation.shape[0], -1)
        return (spatial_mean(activation) * weights).sum(1)

    return Objective(score, f"direction({layer})", [layer], batch_size=batch)


def diversity(layer: str) -> Objective:
    """Negative mean cosine similarity of each element's Gram matrix to the others' (B >= 2).

    Add it with a small weight to a one-unit objective to get several different facets.
    """

    def score(ctx: ObjectiveContext) -> torch.Tensor:
        activation = ctx.outputs[layer]
        batch = activation.shape[0]
        if batch < 2:
            raise ParameterError("diversity needs a batch of at least 2 images")
        flat = activation.flatten(2)
        gram = torch.bmm(flat, flat.transpose(1, 2)).flatten(1)
        gram = gram / gram.norm(dim=1, keepdim=True).clamp_min(1e-12)
        similarity = gram @ gram.T
        off_diagonal = similarity.sum(1) - similarity.diagonal()
        return -off_diagonal / (batch - 1)

    return Objective(score, f"diversity({layer})", [layer])


def _image_term(name: str, term: Callable[[torch.Tensor], torch.Tensor]) -> Objective:
    return Objective(lambda ctx: term(ctx.images), name)


def l1(constant: float = 0.5) -> Objective:
    """Mean |image - constant| per element (a penalty: subtract it)."""
    return _image_term("l1", lambda images: (images - constant).abs().flatten(1).mean(1))


def l2(constant: float = 0.5) -> Objective:
    """Root-mean-square of image - constant per element (a penalty: subtract it)."""
    return _image_term(
        "l2", lambda images: (images - constant).pow(2).flatten(1).mean(1).clamp_min(1e-12).sqrt()
    )


def total_variation() -> Objective:
    """Mean absolute difference of neighbouring pixels per element (a penalty: subtract it)."""

    def term(images: torch.Tensor) -> torch.Tensor:
        rows = (images[:, :, 1:, :] - images[:, :, :-1, :]).abs().flatten(1).mean(1)
        cols = (images[:, :, :, 1:] - images[:, :, :, :-1]).abs().flatten(1).mean(1)
        return rows + cols

    return _image_term("tv", term)


def layer_input_l1(layer: str) -> Objective:
    """Mean |input| of ``layer`` per element (a sparsity penalty on a mid-level representation)."""
    return Objective(
        lambda ctx: ctx.inputs[layer].abs().flatten(1).mean(1),
        f"l1_in({layer})",
        input_layers=[layer],
    )
