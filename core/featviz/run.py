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

from genlens.core.data import sample_image, sample_names
from genlens.core.errors import ParameterError
from genlens.core.featviz import objectives
from genlens.core.featviz.class_agnostic import Octave, class_agnostic
from genlens.core.featviz.dgn_am import dgn_am
from genlens.core.featviz.generator_prior import load_prior
from genlens.core.featviz.metrics import ActivationRatio, activation_ratio, unit_activation_ratio
from genlens.core.featviz.render import visualize
from genlens.core.featviz.result import FeatVizResult
from genlens.core.models import Classifier
from genlens.core.progress import ProgressCallback, no_progress

METHODS = ("fourier", "pixel", "dgn", "class-agnostic")
DEFAULT_STEPS = {"fourier": 128, "pixel": 128, "dgn": 200, "class-agnostic": 200}
DEFAULT_PRIOR = "dcgan_faces"


@dataclass(frozen=True)
class Visualization:
    """``result.images`` (U, C, H, W) in [0, 1], one ``names`` entry and activation ratio per
    image (ratios compare with the strongest response over the reference photos)."""

    result: FeatVizResult
    ratio: ActivationRatio
    names: list[str]


def run_visualization(
    classifier: Classifier,
    method: str,
    layer: str | None = None,
    units: Sequence[int] = (),
    steps: int | None = None,
    seed: int = 0,
    prior: str = DEFAULT_PRIOR,
    images: Sequence[Image.Image] = (),
    image_names: Sequence[str] = (),
    penalty_layer: str | None = None,
    clusters: int = 3,
    progress: ProgressCallback = no_progress,
) -> Visualization:
    """Visualize ``units`` of ``layer`` (``None`` = class logits) with ``method``.

    ``fourier``/``pixel``/``dgn`` optimise one image per unit (``dgn`` in the code space of the
    generator ``prior``); ratios are against the shipped sample photos. ``class-agnostic``
    clusters ``images`` (default: the shipped photos) at ``layer`` into ``clusters`` facets and
    visualizes each; ratios are against that image set. ``steps=None`` takes the method's
    default (``DEFAULT_STEPS``).
    """
    if method not in METHODS:
        raise ParameterError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    steps = DEFAULT_STEPS[method] if steps is None else steps
    if method == "class-agnostic":
        return _class_agnostic(
            classifier, layer, images, image_names, penalty_layer, clusters, steps, seed, progress
        )
    if not units:
        raise ParameterError("give at least one unit (class index or channel)")
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
    layer: str | None,
    images: Sequence[Image.Image],
    image_names: Sequence[str],
    penalty_layer: str | None,
    clusters: int,
    steps: int,
    seed: int,
    progress: ProgressCallback,
) -> Visualization:
    if layer is None:
        raise ParameterError("class-agnostic needs a spatial layer (e.g. bn2), not the logits")
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
