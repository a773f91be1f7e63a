"""``genlens visualize``: feature visualizations of classifier units, as a contact sheet."""

import json
from pathlib import Path

import typer

from genlens.core.data import image_label, resolve_image, save_png
from genlens.core.featviz import (
    LOGITS,
    ActivationRatio,
    FeatVizResult,
    contact_sheet,
    registered_priors,
)
from genlens.core.featviz.run import DEFAULT_PRIOR, METHODS, run_visualization
from genlens.core.models import load_classifier
from genlens.demo.cli.app import app, progress_bar


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
    method: str = typer.Option("fourier", help=f"{', '.join(METHODS)}."),
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
        DEFAULT_PRIOR, help=f"dgn: generator prior ({', '.join(registered_priors())})."
    ),
    device: str = typer.Option("auto", help="auto (CUDA when available), cpu or cuda."),
) -> None:
    """Optimize one image per unit and write a labelled contact sheet with activation ratios.

    Activation ratios compare each image's response with the strongest response over the shipped
    sample photos (class-agnostic: over the given image set).
    """
    classifier = load_classifier(model, device=device)
    mode = classifier.preprocessing.pil_mode
    with progress_bar(f"{method} x{len(unit) or clusters}") as progress:
        shown = run_visualization(
            classifier,
            method,
            layer=None if layer == LOGITS else layer,
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
