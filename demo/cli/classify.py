"""``genlens classify``: top-k predictions of a classifier for one or more images."""

from typing import TYPE_CHECKING

import typer

from genlens.core.errors import ParameterError
from genlens.demo.cli.app import app
from genlens.demo.cli.model_options import model_options

if TYPE_CHECKING:
    from genlens.core.models import ModelSpec


@app.command("classify")
@model_options()
def classify(
    images: list[str] = typer.Argument(
        ...,
        help="Image files (PNG, JPEG, WebP) or shipped photos as sample:NAME, e.g. sample:chelsea.",
    ),
    top_k: int = typer.Option(5, "--top-k", "-k", help="Number of classes shown per image."),
    device: str = typer.Option("auto", help="auto (CUDA when available), cpu or cuda."),
    model: "ModelSpec | None" = None,
) -> None:
    """Print the top-k classes and probabilities for each image."""
    from rich.console import Console
    from rich.table import Table

    from genlens.core.data import image_label, resolve_image

    classifier = model.load(device)
    if not 1 <= top_k <= classifier.num_classes:
        raise ParameterError(f"--top-k must be between 1 and {classifier.num_classes}, got {top_k}")
    mode = classifier.preprocessing.pil_mode
    batch = classifier.prepare([resolve_image(reference, mode=mode) for reference in images])
    probabilities, indices = classifier.predict(batch).topk(top_k, dim=1)
    console = Console()
    for reference, probs, classes in zip(images, probabilities, indices, strict=True):
        table = Table(
            "rank",
            "class",
            "label",
            "probability",
            title=f"{image_label(reference)} ({classifier.name})",
        )
        for rank, (prob, index) in enumerate(zip(probs.tolist(), classes.tolist(), strict=True), 1):
            table.add_row(str(rank), str(index), classifier.labels[index], f"{prob:.4f}")
        console.print(table)
