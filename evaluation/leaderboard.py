"""Leaderboard views of result rows: a sorted table, CSV/JSON export and one plot per metric."""

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

import matplotlib.pyplot as plt
from rich.console import Console
from rich.table import Table

from evaluation.metrics import metric
from evaluation.runner import ResultRow


def sort_rows(rows: Sequence[ResultRow], primary: str) -> list[ResultRow]:
    """Best first by ``primary`` (respecting its direction)."""
    sign = -1 if metric(primary).higher_is_better else 1
    return sorted(rows, key=lambda row: sign * row.metrics[primary].value)


def leaderboard_table(rows: Sequence[ResultRow], metrics: Sequence[str]) -> Table:
    """A rich table: one row per method, each metric as ``value [low, high]``, best first."""
    table = Table(title=f"{rows[0].suite} leaderboard" if rows else "leaderboard")
    table.add_column("rank")
    table.add_column(
        "method", no_wrap=True, min_width=max((len(row.label) for row in rows), default=6)
    )
    for name in metrics:
        table.add_column(f"{name} {'↑' if metric(name).higher_is_better else '↓'}")
    table.add_column("s/image")
    for rank, row in enumerate(sort_rows(rows, metrics[0]), 1):
        cells = [
            f"{row.metrics[n].value:.3f} [{row.metrics[n].low:.3f}, {row.metrics[n].high:.3f}]"
            for n in metrics
        ]
        table.add_row(str(rank), row.label, *cells, f"{row.seconds_per_image:.2f}")
    return table


def write_outputs(rows: Sequence[ResultRow], metrics: Sequence[str], out: str | Path) -> list[Path]:
    """Write ``leaderboard.{json,csv,txt}`` and ``<metric>.png`` under ``out``."""
    out = Path(out)
    ordered = sort_rows(rows, metrics[0])
    console = Console(record=True, width=200, file=io.StringIO())
    console.print(leaderboard_table(rows, metrics))
    (out / "leaderboard.txt").write_text(console.export_text())
    (out / "leaderboard.json").write_text(json.dumps([asdict(row) for row in ordered], indent=2))
    with (out / "leaderboard.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "suite",
                "method",
                "infill",
                *[f"{n}{s}" for n in metrics for s in ("", "_low", "_high")],
                "seconds_per_image",
                "images",
            ]
        )
        for row in ordered:
            values = [
                v
                for n in metrics
                for v in (row.metrics[n].value, row.metrics[n].low, row.metrics[n].high)
            ]
            writer.writerow(
                [row.suite, row.method, row.infill, *values, row.seconds_per_image, row.images]
            )
    return [
        out / "leaderboard.json",
        out / "leaderboard.csv",
        *(plot_metric(ordered, n, out) for n in metrics),
    ]


def plot_metric(rows: Sequence[ResultRow], name: str, out: Path) -> Path:
    """Horizontal bar chart of one metric with 95% intervals, best at the top."""
    ordered = sort_rows(rows, name)[::-1]
    values = [row.metrics[name].value for row in ordered]
    errors = [
        [row.metrics[name].value - row.metrics[name].low for row in ordered],
        [row.metrics[name].high - row.metrics[name].value for row in ordered],
    ]
    figure, axes = plt.subplots(figsize=(7, 0.4 * len(ordered) + 1.2))
    axes.barh([row.label for row in ordered], values, xerr=errors, color="#4c72b0", capsize=3)
    direction = "higher is better" if metric(name).higher_is_better else "lower is better"
    axes.set_title(
        f"{ordered[0].suite if ordered else ''}: {name}\n{direction}, 95% bootstrap CI", fontsize=10
    )
    figure.tight_layout()
    path = out / f"{name}.png"
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path
