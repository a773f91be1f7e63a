"""``genlens bench saliency``: run a benchmark suite and print the leaderboard."""

from typing import TYPE_CHECKING

import typer

from genlens.core import defaults
from genlens.demo.cli.app import app, progress_bar
from genlens.demo.cli.model_options import model_options
from genlens.evaluation.registries import SUITES

if TYPE_CHECKING:
    from genlens.core.models import ModelSpec

bench_app = typer.Typer(help="Benchmark saliency methods on a suite and print the leaderboard.")
app.add_typer(bench_app, name="bench")


@bench_app.command("saliency")
@model_options(default=None)
def bench_saliency(
    suite: str = typer.Option(
        "imagenet-photos",
        help=f"Benchmark suite: {', '.join(SUITES.names())}, or a suite folder (manifest.csv, "
        "manifest.json or LABEL/IMAGE files; docs/folder-suites.md), which needs --model.",
    ),
    limit: int | None = typer.Option(
        None, min=1, help="Evaluate this many images of the suite, drawn with --seed."
    ),
    seed: int = typer.Option(0, help="Seed of the --limit sample."),
    methods: str = typer.Option(
        "grad-cam,integrated-gradients,smoothgrad,rise,occlusion,random,centre,sobel",
        help="Comma-separated saliency methods (see `genlens explain --help`); "
        "METHOD@INFILLER picks the in-filler of a mask method, e.g. fido-ssr@learned.",
    ),
    infill: str = typer.Option(
        defaults.INFILL, help="In-filler for methods given without @INFILLER."
    ),
    out: str = typer.Option(
        "bench-output", help="Folder for results.jsonl, leaderboard.{json,csv} and plots."
    ),
    device: str = typer.Option("auto", help="auto (CUDA when available), cpu or cuda."),
    model: "ModelSpec | None" = None,
) -> None:
    """Evaluate methods on a suite (resumable: rows already in OUT/results.jsonl are kept).

    --model replaces the suite's own classifier (default) with another one of the same input.
    """
    from rich.console import Console

    from genlens.evaluation.entries import parse_entries
    from genlens.evaluation.leaderboard import leaderboard_table, write_outputs
    from genlens.evaluation.runner import Sample, run_benchmark
    from genlens.evaluation.suites.folder import resolve_suite

    chosen = resolve_suite(suite)
    chosen.check_model(model)
    entries = parse_entries(methods, infill)
    sample = None if limit is None else Sample(limit, seed)
    with progress_bar(f"{chosen.name}: methods") as progress:
        rows = run_benchmark(
            suite,
            entries,
            out,
            infill=infill,
            device=device,
            progress=progress,
            model=model,
            sample=sample,
        )
    Console().print(leaderboard_table(rows, chosen.metrics))
    for path in write_outputs(rows, chosen.metrics, out):
        typer.echo(f"wrote {path}")
