"""``genlens train classifier|infiller|prior|conditional``: train a model of a world, resumable."""

import json
import sys
from enum import StrEnum
from pathlib import Path

import typer

from genlens.core import defaults
from genlens.demo.cli.app import app


class Kind(StrEnum):
    classifier = "classifier"
    infiller = "infiller"
    prior = "prior"
    conditional = "conditional"


class Dataset(StrEnum):
    fmnist = "fmnist"
    blockfashion = "blockfashion"
    oracle_blocks = "oracle-blocks"
    faces = "faces"


@app.command("train")
def train_command(
    kind: Kind = typer.Argument(..., help="What to train."),
    dataset: Dataset = typer.Option(
        ..., "--dataset", help="World: fmnist (32x32), blockfashion, oracle-blocks, faces."
    ),
    out: Path = typer.Option(..., "--out", help="Output folder (weights, card, checkpoint)."),
    steps: int = typer.Option(
        defaults.TRAIN_STEPS, "--steps", min=1, help="Optimisation steps (batches)."
    ),
    batch_size: int = typer.Option(defaults.TRAIN_BATCH_SIZE, "--batch-size", min=1),
    lr: float = typer.Option(
        defaults.TRAIN_LR, "--lr", help="Peak learning rate (warm-up, cosine decay)."
    ),
    seed: int = typer.Option(0, "--seed"),
    classifier: str | None = typer.Option(
        None, "--classifier", help="Classifier name or trained folder (priors invert its features)."
    ),
    option: list[str] = typer.Option(
        [], "--option", "-o", help="Task option KEY=JSON, e.g. -o widths=[32,64,128]."
    ),
    eval_size: int = typer.Option(0, "--eval-size", min=0, help="Test images (0 = all)."),
    sample_every: int = typer.Option(500, "--sample-every", min=0),
    checkpoint_every: int = typer.Option(250, "--checkpoint-every", min=1),
    resume: bool = typer.Option(False, "--resume", help="Continue from OUT/checkpoint."),
    device: str = typer.Option("auto", "--device"),
    threads: int = typer.Option(2, "--threads", min=1),
    precision: str = typer.Option(
        defaults.PRECISION,
        "--precision",
        help=f"{', '.join(defaults.PRECISIONS)}: bf16 autocasts on CPU too (faster on AMX CPUs, "
        "not bitwise reproducible).",
    ),
) -> None:
    """Train a model; Ctrl-C stops after the current step with a checkpoint (resume later)."""
    from tqdm import tqdm

    from genlens.core.training import TrainConfig, train

    config = TrainConfig(
        kind=kind.value,
        dataset=dataset.value,
        out=out,
        steps=steps,
        batch_size=batch_size,
        lr=lr,
        seed=seed,
        classifier=classifier,
        options=dict(parse_option(item) for item in option),
        sample_every=sample_every,
        checkpoint_every=checkpoint_every,
        eval_size=eval_size,
        device=device,
        threads=threads,
        precision=precision,
    )
    with tqdm(total=steps, desc=f"train {kind.value}", unit="step", file=sys.stderr) as bar:

        def on_step(done: int, total: int, losses: dict[str, float]) -> None:
            bar.n = done
            bar.set_postfix({key: f"{value:.4f}" for key, value in losses.items()}, refresh=True)

        result = train(config, resume=resume, on_step=on_step)
    if not result.finished:
        typer.echo(f"stopped at step {result.step}; continue with --resume", err=True)
        raise typer.Exit(130)
    typer.echo(
        json.dumps(
            {"out": str(result.out), "wall_time_s": round(result.wall_time_s, 1), **result.metrics}
        )
    )


def parse_option(item: str) -> tuple[str, object]:
    """``KEY=JSON`` (or ``KEY=text``) from the command line -> ``(key, value)``."""
    key, separator, value = item.partition("=")
    if not separator:
        raise typer.BadParameter(f"expected KEY=VALUE, got {item!r}")
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value
