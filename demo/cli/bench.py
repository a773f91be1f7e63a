"""``genlens bench saliency``: run a benchmark suite and print the leaderboard."""

import typer
from rich.console import Console

from genlens.demo.cli.app import app, progress_bar
from genlens.evaluation.leaderboard import leaderboard_table, write_outputs
from genlens.evaluation.runner import run_benchmark
from genlens.evaluation.suites import get_suite, suite_names

bench_app = typer.Typer(help="Benchmark saliency methods on a suite and print the leaderboard.")
app.add_typer(bench_app, name="bench")


@bench_app.command("saliency")
def bench_saliency(
    suite: str = typer.Option(
        "imagenet-photos", help=f"Benchmark suite: {', '.join(suite_names())}."
    ),
    methods: str = typer.Option(
        "grad-cam,integrated-gradients,smoothgrad,rise,occlusion,random,centre,sobel",
        help="Comma-separated saliency methods (see `genlens explain --help`); "
        "METHOD@INFILLER picks the in-filler of a mask method, e.g. fido-ssr@learned.",
    ),
    infill: str = typer.Option("local-mean", help="In-filler for methods given without @INFILLER."),
    out: str = typer.Option(
        "bench-output", help="Folder for results.jsonl, leaderboard.{json,csv} and plots."
    ),
    device: str = typer.Option("auto", help="auto (CUDA when available), cpu or cuda."),
) -> None:
    """Evaluate methods on a suite (resumable: rows already in OUT/results.jsonl are kept)."""
    chosen = get_suite(suite)
    names = [name.strip() for name in methods.split(",") if name.strip()]
    with progress_bar(f"{suite}: methods") as progress:
        rows = run_benchmark(
            chosen.name, names, out, infill=infill, device=device, progress=progress
        )
    Console().print(leaderboard_table(rows, chosen.metrics))
    for path in write_outputs(rows, chosen.metrics, out):
        typer.echo(f"wrote {path}")
