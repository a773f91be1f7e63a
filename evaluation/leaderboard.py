"""Leaderboard views of result rows: a sorted table, CSV/JSON export, one plot per metric, the
sanity curves (cascading randomisation) when the rows have them, and one self-contained HTML
page holding the table and every plot.
"""

import base64
import csv
import html
import io
import json
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

import matplotlib.pyplot as plt
from rich.console import Console
from rich.table import Table

from genlens.evaluation.metrics import metric
from genlens.evaluation.runner import MetricValue, ResultRow


def sort_rows(rows: Sequence[ResultRow], primary: str) -> list[ResultRow]:
    """Best first by ``primary`` (respecting its direction)."""
    sign = -1 if metric(primary).higher_is_better else 1
    return sorted(rows, key=lambda row: sign * row.metrics[primary].value)


def row_names(rows: Sequence[ResultRow]) -> list[str]:
    """Each row's label, with `` | <model>`` added when the rows come from several models."""
    if len({row.model for row in rows}) < 2:
        return [row.label for row in rows]
    return [f"{row.label} | {row.model or '?'}" for row in rows]


def leaderboard_table(rows: Sequence[ResultRow], metrics: Sequence[str]) -> Table:
    """A rich table: one row per method, each metric as ``value [low, high]``, best first."""
    table = Table(title=f"{rows[0].suite} leaderboard" if rows else "leaderboard")
    ordered = sort_rows(rows, metrics[0])
    names = row_names(ordered)
    table.add_column("rank")
    table.add_column("method", no_wrap=True, min_width=max(map(len, names), default=6))
    for name in metrics:
        table.add_column(f"{name} {'↑' if metric(name).higher_is_better else '↓'}")
    sanity = any(row.sanity for row in rows)
    if sanity:
        table.add_column("sanity rho ↓")
    table.add_column("s/image")
    for rank, (row, label) in enumerate(zip(ordered, names, strict=True), 1):
        cells = [format_interval(row.metrics[n]) for n in metrics]
        if sanity:
            cells.append(format_interval(row.sanity.rho[-1]) if row.sanity else "-")
        table.add_row(str(rank), label, *cells, f"{row.seconds_per_image:.2f}")
    return table


def format_interval(value: MetricValue) -> str:
    """``"value [low, high]"`` with three decimals."""
    return f"{value.value:.3f} [{value.low:.3f}, {value.high:.3f}]"


def write_outputs(rows: Sequence[ResultRow], metrics: Sequence[str], out: str | Path) -> list[Path]:
    """Write ``leaderboard.{json,csv,txt,html}``, ``<metric>.png`` and ``sanity.png`` under
    ``out``.

    The CSV's ``sanity_rho`` columns hold the correlation after randomising every layer; its
    ``model``, ``model_hash`` and ``inputs_hash`` tell rows of other models or samples apart.
    """
    out = Path(out)
    ordered = sort_rows(rows, metrics[0])
    console = Console(record=True, width=200, file=io.StringIO())
    console.print(leaderboard_table(rows, metrics))
    table = console.export_text()
    (out / "leaderboard.txt").write_text(table)
    (out / "leaderboard.json").write_text(json.dumps([asdict(row) for row in ordered], indent=2))
    with (out / "leaderboard.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "suite",
                "method",
                "infill",
                *[f"{n}{s}" for n in metrics for s in ("", "_low", "_high")],
                "sanity_rho",
                "sanity_rho_low",
                "sanity_rho_high",
                "seconds_per_image",
                "images",
                "model",
                "model_hash",
                "inputs_hash",
            ]
        )
        for row in ordered:
            values = [
                v
                for n in metrics
                for v in (row.metrics[n].value, row.metrics[n].low, row.metrics[n].high)
            ]
            last = row.sanity.rho[-1] if row.sanity else MetricValue(*[float("nan")] * 3)
            writer.writerow(
                [
                    row.suite,
                    row.method,
                    row.infill,
                    *values,
                    last.value,
                    last.low,
                    last.high,
                    row.seconds_per_image,
                    row.images,
                    row.model,
                    row.model_hash,
                    row.inputs_hash,
                ]
            )
    paths = [
        out / "leaderboard.json",
        out / "leaderboard.csv",
        *(plot_metric(ordered, n, out) for n in metrics),
    ]
    if any(row.sanity for row in rows):
        paths.append(plot_sanity(ordered, out))
    paths.append(write_html(table, paths[2:], out / "leaderboard.html"))
    return paths


def write_html(table: str, plots: Sequence[Path], path: Path) -> Path:
    """One page with the text table and the PNG ``plots`` embedded (no other files needed)."""
    images = "\n".join(
        f'<figure><img alt="{html.escape(plot.stem)}" src="data:image/png;base64,'
        f'{base64.b64encode(plot.read_bytes()).decode()}"></figure>'
        for plot in plots
    )
    path.write_text(
        '<!doctype html>\n<html><head><meta charset="utf-8"><title>genlens leaderboard</title>'
        "<style>body{font-family:sans-serif;margin:2em}pre{font-size:12px}"
        "img{max-width:100%}</style></head><body>\n"
        f"<h1>genlens leaderboard</h1>\n<pre>{html.escape(table)}</pre>\n{images}\n"
        "</body></html>\n"
    )
    return path


def plot_metric(rows: Sequence[ResultRow], name: str, out: Path) -> Path:
    """Horizontal bar chart of one metric with 95% intervals, best at the top."""
    ordered = sort_rows(rows, name)[::-1]
    values = [row.metrics[name].value for row in ordered]
    errors = [
        [row.metrics[name].value - row.metrics[name].low for row in ordered],
        [row.metrics[name].high - row.metrics[name].value for row in ordered],
    ]
    figure, axes = plt.subplots(figsize=(7, 0.4 * len(ordered) + 1.2))
    axes.barh(row_names(ordered), values, xerr=errors, color="#4c72b0", capsize=3)
    direction = "higher is better" if metric(name).higher_is_better else "lower is better"
    axes.set_title(
        f"{ordered[0].suite if ordered else ''}: {name}\n{direction}, 95% bootstrap CI", fontsize=10
    )
    figure.tight_layout()
    path = out / f"{name}.png"
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path


def plot_sanity(rows: Sequence[ResultRow], out: Path) -> Path:
    """Cascading randomisation curves: mean Spearman rho per method vs layers randomised.

    x = 0 is the trained model (rho = 1 by definition); x = i has ``layers[:i]`` randomised,
    output first. Shaded bands are the 95% bootstrap intervals.
    """
    with_sanity = [row for row in rows if row.sanity]
    figure, axes = plt.subplots(figsize=(8, 4.8))
    colors = plt.get_cmap("tab20").colors
    for index, (row, label) in enumerate(zip(with_sanity, row_names(with_sanity), strict=True)):
        steps = range(len(row.sanity.rho) + 1)
        color = colors[index % len(colors)]
        axes.plot(
            steps,
            [1.0, *(v.value for v in row.sanity.rho)],
            marker="osD^v"[index % 5],
            linestyle=("-", "--", ":")[index // 5 % 3],
            color=color,
            label=label,
        )
        axes.fill_between(
            steps,
            [1.0, *(v.low for v in row.sanity.rho)],
            [1.0, *(v.high for v in row.sanity.rho)],
            color=color,
            alpha=0.08,
        )
    layers = with_sanity[0].sanity.layers
    axes.set_xticks(range(len(layers) + 1), ["trained", *(f"+{name}" for name in layers)])
    axes.set_ylabel("Spearman rho of |map| vs trained model")
    axes.set_xlabel("layers randomised (cumulative, output first)")
    axes.axhline(0.0, color="grey", linewidth=0.8)
    axes.set_title(
        f"{with_sanity[0].suite}: cascading model randomisation (lower = depends on the model)",
        fontsize=10,
    )
    axes.legend(fontsize=7, ncol=2, loc="lower left")
    figure.tight_layout()
    path = out / "sanity.png"
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path
