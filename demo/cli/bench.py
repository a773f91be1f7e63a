"""``genlens bench saliency``: run a benchmark suite and print the leaderboard."""

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from genlens.core import defaults
from genlens.demo.cli.app import app, progress_bar
from genlens.demo.cli.model_options import model_options
from genlens.evaluation.registries import SUITES

if TYPE_CHECKING:
    from genlens.core.models import ModelSpec
    from genlens.evaluation.entries import BenchmarkEntry
    from genlens.evaluation.runner import LoadedSuite

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
    estimate: bool = typer.Option(
        False,
        "--estimate",
        help="Print each method's estimated passes and time (a probe on one batch), then stop.",
    ),
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
    The leaderboard files cover every row of OUT/results.jsonl on the same images, so runs with
    other models into one OUT make one board (rows labelled ``method | model``).
    """
    from rich.console import Console

    from genlens.evaluation.entries import parse_entries
    from genlens.evaluation.leaderboard import leaderboard_table, write_outputs
    from genlens.evaluation.runner import LoadedSuite, Sample, load_rows, run_benchmark
    from genlens.evaluation.suites.folder import resolve_suite

    chosen = resolve_suite(suite)
    chosen.check_model(model)
    entries = parse_entries(methods, infill)
    sample = None if limit is None else Sample(limit, seed)
    if estimate:
        _print_estimates(LoadedSuite.load(chosen, device, model, sample), entries)
        return
    with progress_bar(f"{chosen.name}: methods") as progress:
        rows = run_benchmark(
            chosen,
            entries,
            out,
            infill=infill,
            device=device,
            progress=progress,
            model=model,
            sample=sample,
        )
    inputs = {row.inputs_hash for row in rows}
    board = [row for row in load_rows(Path(out) / "results.jsonl") if row.inputs_hash in inputs]
    Console().print(leaderboard_table(board, chosen.metrics))
    for path in write_outputs(board, chosen.metrics, out):
        typer.echo(f"wrote {path}")


def _print_estimates(loaded: "LoadedSuite", entries: "list[BenchmarkEntry]") -> None:
    """The cost table of :func:`genlens.evaluation.cost.estimate_cost`."""
    from rich.console import Console
    from rich.table import Table

    from genlens.demo.job_outputs import duration
    from genlens.evaluation.cost import estimate_cost

    estimates = estimate_cost(loaded, entries)
    table = Table(title=f"{loaded.suite.name}: estimated cost of {estimates[0].images} images")
    for column in ("method", "forwards/image", "backwards/image", "time"):
        table.add_column(column)
    for row in estimates:
        table.add_row(
            row.method,
            f"{row.forwards_per_image:.0f}",
            f"{row.backwards_per_image:.0f}",
            duration(row.seconds),
        )
    Console().print(table)
    total = duration(sum(row.seconds for row in estimates))
    typer.echo(f"total about {total} on this machine (probe: the first images)")
