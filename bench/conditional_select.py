"""Compare trained conditional generators on the validation split (never the test split).

Each folder written by ``genlens train conditional`` is scored by
:func:`~genlens.core.generative.conditional.metrics.conditional_metrics` on its world's **val**
images, with the first ``--reference`` training images as the real set of the Frechet
distances. Prints a table and writes one JSON row per folder (its options, parameter count,
training wall time and the metrics).

A run still in progress (a folder with ``checkpoint/`` and no card yet) is scored from its
latest checkpoint with ``--like FOLDER``, a finished folder of the same architecture whose card
and classifier are borrowed; the row then names the checkpoint's step.

    python bench/conditional_select.py runs/faces-a runs/faces-b \
        [--out bench/results/faces-conditional-select.json]
    python bench/conditional_select.py runs/faces-long --like runs/faces-a
"""

import argparse
import json
import platform
from pathlib import Path

import torch
from safetensors.torch import load_file

from genlens.core.generative.conditional.api import ConditionalGAN, load_conditional
from genlens.core.generative.conditional.metrics import conditional_metrics
from genlens.core.generative.worlds import WORLDS, to_unit

COLUMNS = (
    "feature_ccc",
    "reconstruction_l1",
    "reconstruction_ssim",
    "frechet_real",
    "frechet_reconstruction",
    "frechet_edit",
    "traversal_happy",
)


MODEL_PREFIX = "module.model."
"""Checkpoint keys of the shipped bundle (``core/training/checkpoint.py``)."""


def from_checkpoint(folder: Path, like: Path) -> tuple[ConditionalGAN, dict]:
    """``like``'s model with the weights of ``folder``'s latest checkpoint, and the
    checkpoint's ``state.json`` (step, wall time)."""
    model = load_conditional(like, "cpu")
    state = load_file(str(folder / "checkpoint" / "state.safetensors"))
    weights = {
        key.removeprefix(MODEL_PREFIX): value
        for key, value in state.items()
        if key.startswith(MODEL_PREFIX)
    }
    model.model.load_state_dict(weights)
    return model, json.loads((folder / "checkpoint" / "state.json").read_text())


def score(folder: Path, reference_count: int, like: Path | None = None) -> dict:
    """The card facts and validation metrics of one trained folder (or checkpoint)."""
    if (folder / "card.json").is_file() or like is None:
        model = load_conditional(folder, "cpu")
        steps, wall = model.card["config"]["steps"], model.card.get("wall_time_s")
    else:
        model, state = from_checkpoint(folder, like)
        steps, wall = state["step"], state["wall_time_s"]
    world = WORLDS[model.card["world"]]
    images = to_unit(world.split("val")[0])
    reference = to_unit(world.split("train")[0][:reference_count])
    metrics = conditional_metrics(
        model.model, model.classifier, model.layer, images, reference=reference
    )
    return {
        "folder": str(folder),
        "options": model.card["options"],
        "parameters": model.card.get("parameters"),
        "wall_time_s": wall,
        "steps": steps,
        "validation": metrics,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--reference", type=int, default=1000, help="training images as real set")
    parser.add_argument("--like", type=Path, help="finished folder for runs scored by checkpoint")
    parser.add_argument("--out", type=Path, default=Path("bench/results/conditional-select.json"))
    args = parser.parse_args()
    torch.set_num_threads(2)
    rows = []
    print(" | ".join(["folder", "min", *COLUMNS]))
    for folder in args.folders:
        row = score(folder, args.reference, args.like)
        rows.append(row)
        values = [f"{row['validation'].get(name, float('nan')):.3f}" for name in COLUMNS]
        minutes = f"{(row['wall_time_s'] or 0) / 60:.0f}"
        print(" | ".join([folder.name, minutes, *values]), flush=True)
        report = {"machine": platform.processor() or platform.machine(), "rows": rows}
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
