"""Leaderboards for the front ends: which boards there are, their rows, and the rows as a table
or a plot.

A suite's rows come from the database (stored by ``benchmark`` jobs,
:mod:`genlens.worker.benchmark_store`); a suite without stored rows falls back to the committed
leaderboard shipped with the package (``leaderboard-data/<suite>.json`` in :mod:`genlens.demo`,
copies of ``bench/results/<suite>/leaderboard.json``), so an installed package shows them too.
"""

import json
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import partial
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from genlens.evaluation.leaderboard import format_interval, plot_metric, sort_rows, write_outputs
from genlens.evaluation.metrics import metric
from genlens.evaluation.runner import ResultRow
from genlens.evaluation.suites import get_suite
from genlens.worker.benchmark_store import leaderboard_rows, stored_suites
from genlens.worker.client import JobClient

SHIPPED_FOLDER = "leaderboard-data"
"""Package-data folder of :mod:`genlens.demo` holding one ``<suite>.json`` per shipped board."""

RowsLoader = Callable[[], list[ResultRow]]


def _shipped_files() -> dict[str, Traversable]:
    folder = resources.files("genlens.demo").joinpath(SHIPPED_FOLDER)
    if not folder.is_dir():
        return {}
    return {
        entry.name.removesuffix(".json"): entry
        for entry in sorted(folder.iterdir(), key=lambda entry: entry.name)
        if entry.name.endswith(".json")
    }


def shipped_suites() -> list[str]:
    """Suites with a leaderboard shipped as package data, sorted."""
    return list(_shipped_files())


def shipped_rows(suite: str) -> list[ResultRow]:
    """The rows of the leaderboard shipped for ``suite`` (empty when none is shipped); rows
    that do not name their model ran on the suite's classifier."""
    entry = _shipped_files().get(suite)
    if entry is None:
        return []
    rows = [ResultRow.from_json(record) for record in json.loads(entry.read_text("utf-8"))]
    return [replace(row, model=row.model or get_suite(suite).classifier) for row in rows]


def stored_rows(client: JobClient, suite: str) -> list[ResultRow]:
    """The newest stored row of each method on ``suite`` in the job database."""
    with client.db.begin() as session:
        return leaderboard_rows(session, suite)


def leaderboards(client: JobClient) -> dict[str, RowsLoader]:
    """Every leaderboard, by display name, with a function reading its rows: one per suite,
    ``"<suite> (database)"`` when the database has rows for it, else ``"<suite> (shipped)"``
    from the package data. Suites with a shipped board come first, then the others."""
    with client.db.begin() as session:
        stored = stored_suites(session)
    shipped = shipped_suites()
    boards: dict[str, RowsLoader] = {}
    for suite in [*shipped, *(suite for suite in stored if suite not in shipped)]:
        if suite in stored:
            boards[f"{suite} (database)"] = partial(stored_rows, client, suite)
        else:
            boards[f"{suite} (shipped)"] = partial(shipped_rows, suite)
    return boards


def model_names(rows: Sequence[ResultRow]) -> list[str]:
    """The models of ``rows``, sorted."""
    return sorted({row.model for row in rows})


def method_labels(rows: Sequence[ResultRow]) -> list[str]:
    """The method labels of ``rows``, in row order without repeats."""
    return list(dict.fromkeys(row.label for row in rows))


def select_rows(
    rows: Sequence[ResultRow], models: Sequence[str], methods: Sequence[str]
) -> list[ResultRow]:
    """The rows of one of ``models`` whose label is one of ``methods``: one model and many
    methods compares methods, one method and many models compares models."""
    return [row for row in rows if row.model in models and row.label in methods]


def metric_names(rows: Sequence[ResultRow]) -> list[str]:
    """Metrics present in every row, in the order of the first row."""
    if not rows:
        return []
    return [name for name in rows[0].metrics if all(name in row.metrics for row in rows)]


def leaderboard_table(rows: Sequence[ResultRow], metrics: Sequence[str]) -> list[dict[str, Any]]:
    """Table rows best first by ``metrics[0]``: rank, method, model, ``value [low, high]`` per
    metric (arrow = direction), the sanity rho after randomising every layer when measured,
    seconds per image and image count."""
    if not rows or not metrics:
        return []
    table = []
    for rank, row in enumerate(sort_rows(rows, metrics[0]), 1):
        cells = {
            f"{name} {'↑' if metric(name).higher_is_better else '↓'}": format_interval(
                row.metrics[name]
            )
            for name in metrics
        }
        if row.sanity:
            cells["sanity rho ↓"] = format_interval(row.sanity.rho[-1])
        table.append(
            {
                "rank": rank,
                "method": row.label,
                "model": row.model,
                **cells,
                "s/image": round(row.seconds_per_image, 3),
                "images": row.images,
            }
        )
    return table


def export_board(rows: Sequence[ResultRow], metrics: Sequence[str], out: Path) -> list[Path]:
    """``leaderboard.{csv,json,html}`` of ``rows`` under ``out`` (the HTML page embeds a plot
    per metric), as ``genlens bench saliency`` writes them."""
    out.mkdir(parents=True, exist_ok=True)
    names = ("leaderboard.csv", "leaderboard.json", "leaderboard.html")
    return [path for path in write_outputs(rows, metrics, out) if path.name in names]


def metric_plot(rows: Sequence[ResultRow], name: str, out: Path) -> Path:
    """The bar chart with 95% intervals of one metric (PNG under ``out``)."""
    out.mkdir(parents=True, exist_ok=True)
    return plot_metric(rows, name, out)
