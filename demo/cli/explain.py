"""``genlens explain``: saliency maps and counterfactuals for images (heavy imports on run)."""

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from genlens.core import defaults
from genlens.core.registries import INFILLERS, METHODS
from genlens.demo.cli.app import app, progress_bar
from genlens.demo.cli.model_options import model_options

if TYPE_CHECKING:
    from genlens.core.models import ModelSpec


@app.command("explain")
@model_options()
def explain(
    images: list[str] = typer.Argument(
        ..., help="Images to explain: files or sample:NAME (e.g. sample:chelsea)."
    ),
    method: str = typer.Option(
        defaults.EXPLAIN_METHOD, help=f"Saliency method: {', '.join(METHODS.names(sort=False))}."
    ),
    infill: str = typer.Option(
        defaults.INFILL, help=f"In-filler: {', '.join(INFILLERS.names(sort=False))}."
    ),
    steps: int | None = typer.Option(None, help="Optimisation steps (FIDO/BBMP; IG points)."),
    samples: int | None = typer.Option(
        None, help="Samples per step (FIDO/BBMP), noisy copies (SmoothGrad) or masks (RISE)."
    ),
    seed: int = typer.Option(0, help="Random seed; image i uses seed + i."),
    target: int | None = typer.Option(None, help="Class index to explain (default: predicted)."),
    out: Path = typer.Option(Path("explain_out"), help="Folder for the PNG and .npy outputs."),
    device: str = typer.Option("auto", help="auto (CUDA when available), cpu or cuda."),
    model: "ModelSpec | None" = None,
) -> None:
    """Explain the classifier's decision: overlay, side-by-side figure and raw map per image."""
    import numpy as np
    from rich.console import Console
    from rich.table import Table

    from genlens.core.data import image_label, resolve_image, save_png
    from genlens.core.saliency import check_explain
    from genlens.core.saliency import explain as explain_images
    from genlens.core.saliency.render import figure, overlay

    check_explain(method, infill, seed, steps, samples)
    classifier = model.load(device)
    mode = classifier.preprocessing.pil_mode
    batch = classifier.prepare([resolve_image(reference, mode=mode) for reference in images])
    with progress_bar(f"{method} x {len(images)} image(s)") as progress:
        result = explain_images(
            classifier,
            batch,
            target=target,
            method=method,
            infill=infill,
            steps=steps,
            samples=samples,
            seed=seed,
            progress=progress,
        )
    out.mkdir(parents=True, exist_ok=True)
    table = Table(
        "image",
        "class",
        "label",
        "p original",
        "p evidence kept",
        "p evidence removed",
        "files",
        title=f"{method} + {infill} on {classifier.name} ({result.seconds:.1f} s)",
    )
    for index, reference in enumerate(images):
        stem = f"{image_label(reference)}_{method}"
        save_png(overlay(batch[index], result.maps[index]), out / f"{stem}_overlay.png")
        save_png(figure(result, batch, index), out / f"{stem}_figure.png")
        np.save(out / f"{stem}_map.npy", result.maps[index].numpy())
        table.add_row(
            image_label(reference),
            str(int(result.target[index])),
            result.target_labels[index],
            f"{float(result.prob_original[index]):.4f}",
            f"{float(result.prob_kept[index]):.4f}",
            f"{float(result.prob_removed[index]):.4f}",
            f"{out / stem}_*",
        )
    Console().print(table)
