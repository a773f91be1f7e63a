"""``genlens visualize``: what a unit responds to (heavy imports on run)."""

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from genlens.core import defaults
from genlens.core.registries import PRIORS
from genlens.demo.cli.app import app, progress_bar
from genlens.demo.cli.model_options import model_options

if TYPE_CHECKING:
    from genlens.core.featviz import ActivationRatio, FeatVizResult
    from genlens.core.models import ModelSpec


@app.command("visualize")
@model_options()
def visualize_command(
    out: Path = typer.Option(..., "--out", "-o", help="Output folder for PNGs and result.json."),
    layer: str = typer.Option(
        defaults.LOGITS,
        "--layer",
        "-l",
        help="Layer name (see `genlens models`), or 'logits' for classes.",
    ),
    unit: list[int] = typer.Option(
        [], "--unit", "-u", help="Class index (layer logits) or channel; repeat for many units."
    ),
    method: str = typer.Option(
        defaults.VISUALIZE_METHOD, help=f"{', '.join(defaults.VISUALIZE_METHODS)}."
    ),
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
    clusters: int = typer.Option(defaults.CLUSTERS, help="class-agnostic: number of facets."),
    prior: str = typer.Option(
        defaults.PRIOR, help=f"dgn: generator prior ({', '.join(PRIORS.names(sort=False))})."
    ),
    device: str = typer.Option("auto", help="auto (CUDA when available), cpu or cuda."),
    model: "ModelSpec | None" = None,
) -> None:
    """Optimize one image per unit and write a labelled contact sheet with activation ratios.

    Activation ratios compare each image's response with the strongest response over the shipped
    sample photos (class-agnostic: over the given image set).
    """
    from genlens.core.data import image_label, resolve_image
    from genlens.core.featviz.run import check_visualize, run_visualization

    layer_name = None if layer == defaults.LOGITS else layer
    check_visualize(method, layer_name, unit, steps, seed, prior, penalty_layer, clusters)
    classifier = model.load(device)
    mode = classifier.preprocessing.pil_mode
    with progress_bar(f"{method} x{len(unit) or clusters}") as progress:
        shown = run_visualization(
            classifier,
            method,
            layer=layer_name,
            units=unit,
            steps=steps,
            seed=seed,
            prior=prior,
            images=[resolve_image(reference, mode=mode) for reference in images],
            image_names=[image_label(reference) for reference in images],
            penalty_layer=penalty_layer,
            clusters=clusters,
            progress=progress,
        )
    _write(out, shown.result, shown.ratio, shown.names)


def _write(out: Path, result: "FeatVizResult", ratio: "ActivationRatio", names: list[str]) -> None:
    from genlens.core.data import save_png
    from genlens.core.featviz import contact_sheet

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
