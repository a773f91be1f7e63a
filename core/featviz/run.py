"""One entry point for the four feature-visualization methods, as the CLI, the worker and the
front ends use them: an optimised image per unit (Fourier, pixel, DGN-AM with a generator
prior) or per facet of an image set (class-agnostic), with labels and activation ratios.

>>> from genlens.core.featviz.run import run_visualization
>>> shown = run_visualization(classifier, "fourier", units=[1, 130], steps=128)
>>> shown.result.images.shape, shown.names, shown.ratio.ratio   # (2, 3, H, W) in [0, 1]
"""

from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image
from torch import nn

from genlens.core import defaults
from genlens.core.data import sample_image, sample_names
from genlens.core.errors import ParameterError
from genlens.core.featviz import objectives
from genlens.core.featviz.class_agnostic import Octave, class_agnostic
from genlens.core.featviz.dgn_am import dgn_am
from genlens.core.featviz.generator_prior import GeneratorPrior, load_prior
from genlens.core.featviz.metrics import ActivationRatio, activation_ratio, unit_activation_ratio
from genlens.core.featviz.render import visualize
from genlens.core.featviz.result import FeatVizResult
from genlens.core.models import Classifier, accepts_modules
from genlens.core.params import Param, check_integers, check_seed, resolve_params
from genlens.core.progress import ProgressCallback, no_progress
from genlens.core.registries import PRIORS

MAX_UNITS = 64
MAX_STEPS = 10_000
MAX_CLUSTERS = 16


@dataclass(frozen=True)
class VisualizeRequest:
    """Checked feature-visualization parameters (the one declaration the library, the CLI, the
    visualize job and the front ends validate through).

    Attributes:
        method: one of :data:`genlens.core.defaults.VISUALIZE_METHODS`.
        layer: a layer name, or ``None`` for the class logits.
        units: class or channel indices, one image each (empty for class-agnostic).
        steps: optimisation steps in ``[1, 10000]`` (default per method).
        seed: in ``[0, 2**62)``; unit ``i`` uses ``seed + i``.
        prior: DGN-AM's generator prior, a registered name or a :class:`GeneratorPrior`.
        penalty_layer: class-agnostic: the layer whose activation is penalised (or ``None``).
        clusters: class-agnostic: facets in ``[1, 16]``.
    """

    method: str
    layer: str | None
    units: tuple[int, ...]
    steps: int
    seed: int
    prior: str | GeneratorPrior
    penalty_layer: str | None
    clusters: int


def check_visualize(
    method: str = defaults.VISUALIZE_METHOD,
    layer: str | None = None,
    units: Sequence[int] = (),
    steps: int | None = None,
    seed: int = 0,
    prior: str | GeneratorPrior = defaults.PRIOR,
    penalty_layer: str | None = None,
    clusters: int = defaults.CLUSTERS,
) -> VisualizeRequest:
    """Validate visualization parameters without a model or any compute (layer names and unit
    ranges need the model: :func:`run_visualization` checks those)."""
    if method not in defaults.VISUALIZE_METHODS:
        raise ParameterError(
            f"visualize method must be one of {', '.join(defaults.VISUALIZE_METHODS)}, "
            f"got {method!r}"
        )
    if layer is not None and (not isinstance(layer, str) or not layer):
        raise ParameterError(f"layer must be a layer name or None (logits), got {layer!r}")
    if method == "class-agnostic":
        if layer is None:
            raise ParameterError("class-agnostic needs a spatial layer (e.g. bn2), not the logits")
        units = ()
    else:
        units = check_integers(units, "units", MAX_UNITS, 0, "class or channel indices")
    declared = {
        "steps": Param(
            defaults.VISUALIZE_STEPS[method], low=1, high=MAX_STEPS, doc="optimization steps"
        ),
        "clusters": Param(defaults.CLUSTERS, low=1, high=MAX_CLUSTERS, doc="facets"),
    }
    given = {"clusters": clusters} if steps is None else {"steps": steps, "clusters": clusters}
    params = resolve_params("visualize", declared, given)
    if method == "dgn" and not isinstance(prior, GeneratorPrior):
        PRIORS.get(prior)
    if penalty_layer is not None and (not isinstance(penalty_layer, str) or not penalty_layer):
        raise ParameterError(f"penalty_layer must be a layer name or None, got {penalty_layer!r}")
    return VisualizeRequest(
        method,
        layer,
        tuple(units),
        params["steps"],
        check_seed(seed),
        prior,
        penalty_layer,
        params["clusters"],
    )


@dataclass(frozen=True)
class Visualization:
    """``result.images`` (U, C, H, W) in [0, 1], one ``names`` entry and activation ratio per
    image (ratios compare with the strongest response over the reference photos)."""

    result: FeatVizResult
    ratio: ActivationRatio
    names: list[str]


@accepts_modules
def run_visualization(
    classifier: Classifier | nn.Module,
    method: str,
    layer: str | None = None,
    units: Sequence[int] = (),
    steps: int | None = None,
    seed: int = 0,
    prior: str | GeneratorPrior = defaults.PRIOR,
    images: Sequence[Image.Image] = (),
    image_names: Sequence[str] = (),
    penalty_layer: str | None = None,
    clusters: int = defaults.CLUSTERS,
    progress: ProgressCallback = no_progress,
) -> Visualization:
    """Visualize ``units`` of ``layer`` (``None`` = class logits) with ``method``.

    ``fourier``/``pixel``/``dgn`` optimise one image per unit (``dgn`` in the code space of the
    generator ``prior``); ratios are against the shipped sample photos. ``class-agnostic``
    clusters ``images`` (default: the shipped photos) at ``layer`` into ``clusters`` facets and
    visualizes each; ratios are against that image set. ``steps=None`` takes the method's
    default (:data:`genlens.core.defaults.VISUALIZE_STEPS`); every parameter is checked by
    :func:`check_visualize` before any compute.
    """
    request = check_visualize(method, layer, units, steps, seed, prior, penalty_layer, clusters)
    steps, seed, units = request.steps, request.seed, list(request.units)
    if method == "class-agnostic":
        return _class_agnostic(
            classifier,
            layer,
            images,
            image_names,
            penalty_layer,
            request.clusters,
            steps,
            seed,
            progress,
        )
    objective = objectives.class_logit(units) if layer is None else objectives.channel(layer, units)
    if method == "dgn":
        generator = load_prior(prior, classifier.device)
        result = dgn_am(classifier, objective, generator, steps=steps, seed=seed, progress=progress)
    else:
        result = visualize(
            classifier, objective, method=method, steps=steps, seed=seed, progress=progress
        )
    reference = classifier.prepare([sample_image(name) for name in sample_names()])
    ratio = unit_activation_ratio(classifier, result.images, layer, list(units), reference)
    names = [f"{u} {classifier.labels[u]}" if layer is None else f"{layer}:{u}" for u in units]
    return Visualization(result, ratio, names)


def _class_agnostic(
    classifier: Classifier,
    layer: str,
    images: Sequence[Image.Image],
    image_names: Sequence[str],
    penalty_layer: str | None,
    clusters: int,
    steps: int,
    seed: int,
    progress: ProgressCallback,
) -> Visualization:
    if not images:
        image_names = sample_names()
        images = [sample_image(name) for name in image_names]
    names = list(image_names) or [f"image {index}" for index in range(len(images))]
    mode = classifier.preprocessing.pil_mode
    batch = classifier.prepare([image.convert(mode) for image in images])
    result = class_agnostic(
        classifier,
        batch,
        layer=layer,
        penalty_layer=penalty_layer,
        clusters=clusters,
        per_facet=max(1, min(10, batch.shape[0] // clusters)),
        octaves=[Octave(steps=steps)],
        seed=seed,
        progress=progress,
    )
    ratio = activation_ratio(result.scores, result.extras["reference_scores"])
    members = result.extras["facets"].members
    labels = [f"facet {k}: " + ",".join(names[j] for j in row[:2]) for k, row in enumerate(members)]
    return Visualization(result, ratio, labels)
