"""``genlens visualize``: feature visualizations of classifier units, as a contact sheet."""

import json
from pathlib import Path

import typer

from core.data import image_label, resolve_image, sample_image, sample_names, save_png
from core.errors import ParameterError
from core.featviz import (
    LOGITS,
    ActivationRatio,
    FeatVizResult,
    Octave,
    activation_ratio,
    class_agnostic,
    contact_sheet,
    dgn_am,
    load_prior,
    objectives,
    registered_priors,
    unit_activation_ratio,
    visualize,
)
from core.models import Classifier, load_classifier
from demo.cli.app import app, progress_bar

METHODS = ("fourier", "pixel", "dgn", "class-agnostic")
DEFAULT_STEPS = {"fourier": 128, "pixel": 128, "dgn": 200, "class-agnostic": 200}


@app.command("visualize")
def visualize_command(
    out: Path = typer.Option(..., "--out", "-o", help="Output folder for PNGs and result.json."),
    model: str = typer.Option("efficientnet_lite0", "--model", "-m", help="Registered model name."),
    layer: str = typer.Option(
        LOGITS, "--layer", "-l", help="Layer name (see `genlens models`), or 'logits' for classes."
    ),
    unit: list[int] = typer.Option(
        [], "--unit", "-u", help="Class index (layer logits) or channel; repeat for many units."
    ),
    method: str = typer.Option("fourier", help="fourier, pixel, dgn or class-agnostic."),
    steps: int | None = typer.Option(None, help="Optimization steps (default depends on method)."),
    seed: int = typer.Option(0, help="Random seed; unit i uses seed + i."),
    images: list[str] = typer.Option(
        [],
        "--images",
        help="Image set for class-agnostic: files or sample:NAME (default: all samples).",
    ),
    penalty_layer: str | None = typer.Option(
        None, help="class-agnostic: layer whose input gets the L1 penalty."
    ),
    clusters: int = typer.Option(3, help="class-agnostic: number of facets."),
    prior: str = typer.Option(
        "dcgan_faces", help=f"dgn: generator prior ({', '.join(registered_priors())})."
    ),
    device: str = typer.Option("auto", help="auto (CUDA when available), cpu or cuda."),
) -> None:
    """Optimize one image per unit and write a labelled contact sheet with activation ratios.

    Activation ratios compare each image's response with the strongest response over the shipped
    sample photos (class-agnostic: over the given image set).
    """
    if method not in METHODS:
        raise ParameterError(f"--method must be one of {', '.join(METHODS)}, got {method!r}")
    classifier = load_classifier(model, device=device)
    steps = steps if steps is not None else DEFAULT_STEPS[method]
    layer_name = None if layer == LOGITS else layer
    if method == "class-agnostic":
        result, ratio, names = _class_agnostic(
            classifier, layer_name, images, penalty_layer, clusters, steps, seed
        )
    else:
        if not unit:
            raise ParameterError("give at least one --unit")
        result = _optimize(classifier, method, layer_name, unit, steps, seed, prior)
        reference = classifier.prepare([sample_image(name) for name in sample_names()])
        ratio = unit_activation_ratio(classifier, result.images, layer_name, unit, reference)
        names = [
            f"{u} {classifier.labels[u]}" if layer_name is None else f"{layer}:{u}" for u in unit
        ]
    _write(out, result, ratio, names)


def _objective(layer: str | None, units: list[int]) -> objectives.Objective:
    if layer is None:
        return objectives.class_logit(units)
    return objectives.channel(layer, units)


def _optimize(
    classifier: Classifier,
    method: str,
    layer: str | None,
    units: list[int],
    steps: int,
    seed: int,
    prior_name: str,
) -> FeatVizResult:
    objective = _objective(layer, units)
    with progress_bar(f"{method} x{len(units)}") as progress:
        if method == "dgn":
            prior = load_prior(prior_name, classifier.device)
            return dgn_am(classifier, objective, prior, steps=steps, seed=seed, progress=progress)
        return visualize(
            classifier, objective, method=method, steps=steps, seed=seed, progress=progress
        )


def _class_agnostic(
    classifier: Classifier,
    layer: str | None,
    references: list[str],
    penalty_layer: str | None,
    clusters: int,
    steps: int,
    seed: int,
) -> tuple[FeatVizResult, ActivationRatio, list[str]]:
    if layer is None:
        raise ParameterError("class-agnostic needs --layer (a spatial layer, e.g. bn2)")
    references = references or [f"sample:{name}" for name in sample_names()]
    mode = classifier.preprocessing.pil_mode
    batch = classifier.prepare([resolve_image(reference, mode=mode) for reference in references])
    per_facet = max(1, min(10, batch.shape[0] // clusters))
    with progress_bar(f"class-agnostic x{clusters}") as progress:
        result = class_agnostic(
            classifier,
            batch,
            layer=layer,
            penalty_layer=penalty_layer,
            clusters=clusters,
            per_facet=per_facet,
            octaves=[Octave(steps=steps)],
            seed=seed,
            progress=progress,
        )
    ratio = activation_ratio(result.scores, result.extras["reference_scores"])
    members = result.extras["facets"].members
    names = [
        f"facet {k}: " + ",".join(image_label(references[j]) for j in row[:2])
        for k, row in enumerate(members)
    ]
    return result, ratio, names


def _write(out: Path, result: FeatVizResult, ratio: ActivationRatio, names: list[str]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    labels = []
    for index, name in enumerate(names):
        save_png(result.images[index], out / f"unit_{index:02d}.png")
        stats = f"AR {ratio.ratio[index]:.2f}  p{ratio.percentile[index]:.0f}"
        labels.append(f"{name[:34]}\n{stats}")
        typer.echo(
            f"{name}: activation ratio {ratio.ratio[index]:.2f} "
            f"(response {ratio.responses[index]:.2f}, reference max "
            f"{ratio.reference_max[index]:.2f}, percentile {ratio.percentile[index]:.0f})"
        )
    save_png(contact_sheet(result.images, labels), out / "sheet.png")
    summary = {**result.to_json(), "activation_ratio": ratio.to_dict(), "units": names}
    (out / "result.json").write_text(json.dumps(summary, indent=1))
    typer.echo(f"contact sheet: {out / 'sheet.png'}")
