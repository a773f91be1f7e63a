"""``genlens generate``: edit images with a feature-conditioned generator (feature editor).

Writes labelled grids (one row per image: real | edits) and ``outputs.json`` (column labels,
the classifier's top class per tile) to ``--out``:

* ``traversal.png``: PCA traversals ``--traverse pc1,pc2 --quantiles 10,50,90`` (+ own features);
  ``--toward CLASS`` ranks the components by how much they raise CLASS (q10 -> q90) and
  traverses the best one;
* ``render.png`` with ``--target-image``: each image rendered with each target's features;
* ``interpolation.png`` with ``--target-image`` and ``--interpolate N``: N steps from the
  image's own features to the first target's.
"""

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from genlens.core import defaults
from genlens.core.errors import ParameterError
from genlens.demo.cli.app import app, listed, progress_bar

if TYPE_CHECKING:
    from genlens.core.generative.conditional.api import EditResult


def _numbers(text: str, what: str) -> list[float]:
    try:
        return [float(item.strip().removeprefix("pc")) for item in text.split(",") if item.strip()]
    except ValueError:
        raise ParameterError(f"{what} must be comma-separated numbers, got {text!r}") from None


def _save(result: "EditResult", out: Path, name: str, rows: list[str]) -> dict[str, object]:
    from genlens.core.data import save_png
    from genlens.core.generative.conditional.api import grid_image

    grid_image(result).save(out / f"{name}.png")
    save_png(result.grid, out / f"{name}_raw.png")
    top = result.probabilities.argmax(2)
    return {
        "columns": result.labels,
        "rows": rows,
        "top_class": [[result.class_names[int(k)] for k in row] for row in top],
        "input_class": [result.class_names[int(k)] for k in result.input_probabilities.argmax(1)],
    }


@app.command("generate")
def generate_command(
    model: str = typer.Option(..., "--model", help="Conditional model: zoo name or folder."),
    image: list[str] = typer.Option(
        ...,
        "--image",
        help="Image file, sample:NAME, WORLD:SPLIT:INDEX (fmnist:test:12) or faces:photo:NAME.",
    ),
    traverse: str = typer.Option(
        listed(defaults.TRAVERSE, "pc"), "--traverse", help="Components, e.g. pc1,pc2."
    ),
    quantiles: str = typer.Option(
        listed(defaults.QUANTILES), "--quantiles", help="Training percentiles."
    ),
    toward: str | None = typer.Option(
        None, "--toward", help="Traverse the component that raises this class most instead."
    ),
    target_image: list[str] = typer.Option(
        [], "--target-image", help="Render every --image with this image's features."
    ),
    steps: int = typer.Option(0, "--interpolate", min=0, help="Interpolation steps (>= 2)."),
    out: Path = typer.Option(..., "--out", help="Output folder."),
    device: str = typer.Option("auto", "--device"),
) -> None:
    """Traverse principal feature directions, render with other images' features, interpolate."""
    from genlens.core.data import image_label
    from genlens.core.generative.conditional.api import (
        component_effects,
        edit,
        interpolate,
        load_conditional,
        render_with,
        resolve_reference,
    )

    loaded = load_conditional(model, device)
    images = loaded.prepare([resolve_reference(ref) for ref in image])
    rows = [image_label(ref) for ref in image]
    out.mkdir(parents=True, exist_ok=True)
    report: dict[str, object] = {"model": loaded.name, "classifier": loaded.classifier.name}
    components = [int(value) for value in _numbers(traverse, "--traverse")]
    if toward is not None:
        effects = component_effects(loaded, images, toward)
        best = int(effects.abs().argmax()) + 1
        ranking = {f"pc{k}": round(float(v), 4) for k, v in enumerate(effects, 1)}
        report["toward"] = {"class": toward, "q90_minus_q10": ranking, "component": f"pc{best}"}
        change = float(effects[best - 1])
        typer.echo(f"pc{best} moves {toward!r} most (mean change q10 -> q90: {change:+.3f})")
        components = [best]
    with progress_bar("traverse") as progress:
        result = edit(loaded, images, components, _numbers(quantiles, "--quantiles"), progress)
    report["traversal"] = _save(result, out, "traversal", rows)
    if target_image:
        targets = loaded.prepare([resolve_reference(ref) for ref in target_image])
        with progress_bar("render") as progress:
            result = render_with(loaded, images, targets, progress)
        report["render"] = _save(result, out, "render", rows)
        if steps:
            start, end = loaded.features(images), loaded.features(targets[:1])
            with progress_bar("interpolate") as progress:
                result = interpolate(loaded, images, start, end, steps, progress)
            report["interpolation"] = _save(result, out, "interpolation", rows)
    (out / "outputs.json").write_text(json.dumps(report, indent=2) + "\n")
    typer.echo(f"wrote {', '.join(sorted(p.name for p in out.glob('*.png')))} to {out}")
