"""Leaderboard tab: benchmark tables with 95% bootstrap intervals and one plot per metric."""

import tempfile
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from genlens.demo.leaderboards import leaderboard_table, leaderboards, metric_names, metric_plot
from genlens.worker.client import JobClient


def build(client: JobClient, my_jobs: gr.State) -> None:
    """The tab: a leaderboard picker (database, else shipped), its table sorted by the chosen
    metric and that metric's bar chart with intervals; ``/leaderboard`` endpoint."""
    plots = Path(tempfile.mkdtemp(prefix="genlens-leaderboard-"))

    def board(name: str | None, chosen: str | None) -> tuple[pd.DataFrame, list[str], Any, Any]:
        """Table, metric names, the chosen metric and its plot path for leaderboard ``name``."""
        boards = leaderboards(client)
        if name not in boards:
            return pd.DataFrame(), [], None, None
        rows = boards[name]()
        metrics = metric_names(rows)
        chosen = chosen if chosen in metrics else (metrics[0] if metrics else None)
        if chosen is None:
            return pd.DataFrame(), metrics, None, None
        ordered = [chosen, *[m for m in metrics if m != chosen]]
        table = pd.DataFrame(leaderboard_table(rows, ordered))
        folder = plots / "".join(c if c.isalnum() else "-" for c in name)
        return table, metrics, chosen, str(metric_plot(rows, chosen, folder))

    def show(name: str | None, chosen: str | None) -> tuple[Any, ...]:
        table, metrics, chosen, plot = board(name, chosen)
        names = list(leaderboards(client))
        return (
            gr.Dropdown(choices=names, value=name),
            table,
            gr.Dropdown(choices=metrics, value=chosen),
            plot,
        )

    names = list(leaderboards(client))
    first = names[0] if names else None
    initial_table, initial_metrics, initial_metric, initial_plot = board(first, None)
    with gr.Row():
        suite = gr.Dropdown(names, value=first, label="leaderboard")
        chosen = gr.Dropdown(initial_metrics, value=initial_metric, label="sort by / plot metric")
        reload = gr.Button("Reload", size="sm")
    table = gr.Dataframe(
        initial_table,
        interactive=False,
        elem_id="leaderboard-table",
        label="mean [95% bootstrap interval], best first",
    )
    plot = gr.Image(initial_plot, label="metric plot", interactive=False, height=420)
    outputs = [suite, table, chosen, plot]
    suite.input(show, [suite, chosen], outputs, api_name="leaderboard")
    chosen.input(show, [suite, chosen], outputs, api_name=False)
    reload.click(show, [suite, chosen], outputs, api_name=False)
