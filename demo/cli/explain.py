"""``genlens explain``: saliency maps and counterfactuals for one or more images."""

from pathlib import Path

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

from genlens.core.data import image_label, resolve_image, save_png
from genlens.core.models import load_classifier
from genlens.core.saliency import explain as explain_images
from genlens.core.saliency import infiller_names, method_names
from genlens.core.saliency.render import figure, overlay
from genlens.demo.cli.app import app, progress_bar


@app.command("explain")
def explain(
    images: list[str] = typer.Argument(
        ..., help="Images to explain: files or sample:NAME (e.g. sample:chelsea)."
    ),
    model: str = typer.Option(
        "efficientnet_lite0",
        "--model",
        "-m",
        help="Model name (see `genlens models`) or a weights file.",
    ),
    method: str = typer.Option("fido-ssr", help=f"Saliency method: {', '.join(method_names())}."),
    infill: str = typer.Option(
        "local-mean", help=f"In-filler: {', '.join(infiller_names())} (or a registered one)."
    ),
    steps: int | None = typer.Option(None, help="Optimisation steps (FIDO/BBMP; IG points)."),
    samples: int | None = typer.Option(
        None, help="Samples per step (FIDO/BBMP), noisy copies (SmoothGrad) or masks (RISE)."
    ),
    seed: int = typer.Option(0, help="Random seed; image i uses seed + i."),
    target: int | None = typer.Option(None, help="Class index to explain (default: predicted)."),
    out: Path = typer.Option(Path("explain_out"), help="Folder for the PNG and .npy outputs."),
    device: str = typer.Option("auto", help="auto (CUDA when available), cpu or cuda."),
) -> None:
    """Explain the classifier's decision: overlay, side-by-side figure and raw map per image."""
    classifier = load_classifier(Path(model) if Path(model).exists() else model, device=device)
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
