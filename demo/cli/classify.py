"""``genlens classify``: top-k predictions of a classifier for one or more images."""

import typer
from rich.console import Console
from rich.table import Table

from genlens.core.data import image_label, resolve_image
from genlens.core.errors import ParameterError
from genlens.core.models import load_classifier
from genlens.demo.cli.app import app


@app.command("classify")
def classify(
    images: list[str] = typer.Argument(
        ...,
        help="Image files (PNG, JPEG, WebP) or shipped photos as sample:NAME, e.g. sample:chelsea.",
    ),
    model: str = typer.Option(
        "efficientnet_lite0",
        "--model",
        "-m",
        help="Registered model name (see `genlens models`) or a weights file (.safetensors/.pt).",
    ),
    arch: str | None = typer.Option(
        None, help="timm/torchvision architecture of a weights file, e.g. resnet18."
    ),
    trust_code: bool = typer.Option(
        False, "--trust-code", help="Allow TorchScript model files (they contain executable code)."
    ),
    top_k: int = typer.Option(5, "--top-k", "-k", help="Number of classes shown per image."),
    device: str = typer.Option("auto", help="auto (CUDA when available), cpu or cuda."),
) -> None:
    """Print the top-k classes and probabilities for each image."""
    classifier = load_classifier(model, arch=arch, trust_code=trust_code, device=device)
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
