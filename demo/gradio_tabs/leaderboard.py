"""Leaderboard tab: benchmark tables with 95% bootstrap intervals and one plot per metric,
filtered by model and method; and a form that benchmarks a registered suite (any model, any
sample), its cost estimated first."""

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from genlens.demo.choices import (
    ESTIMATE,
    SUITE_MODEL,
    benchmark_model,
    benchmark_model_choices,
    has_kind,
    infiller_choices,
    method_choices,
    suite_choices,
)
from genlens.demo.gradio_tabs.common import remember, reporter, user_errors
from genlens.demo.job_outputs import estimate_summary, estimate_table
from genlens.demo.jobs import follow
from genlens.demo.leaderboards import (
    export_board,
    leaderboard_table,
    leaderboards,
    method_labels,
    metric_names,
    metric_plot,
    model_names,
    select_rows,
)
from genlens.demo.specs import benchmark_spec
from genlens.evaluation.runner import ResultRow
from genlens.worker.client import JobClient

ALL = "all"
"""The model / method filter value that keeps every row."""


def build(client: JobClient, my_jobs: gr.State) -> None:
    """The tab: a leaderboard picker (database, else shipped), model and method filters, the
    table sorted by the chosen metric and that metric's bar chart with intervals
    (``/leaderboard`` endpoint) and its export (``/export_leaderboard``); then the benchmark
    form (``/estimate_benchmark``, ``/run_benchmark``)."""
    plots = Path(tempfile.mkdtemp(prefix="genlens-leaderboard-"))

    def filtered(name: str | None, model: str, method: str) -> tuple[list[ResultRow], dict]:
        """The rows of board ``name`` that pass the filters, and the filters' choices."""
        boards = leaderboards(client)
        if name not in boards:
            return [], {"models": [ALL], "methods": [ALL]}
        rows = boards[name]()
        models = model_names(rows)
        methods = method_labels(rows)
        shown = select_rows(
            rows,
            models if model == ALL else [model],
            methods if method == ALL else [method],
        )
        return shown, {"models": [ALL, *models], "methods": [ALL, *methods]}

    def ordered_metrics(rows: list[ResultRow], chosen: str | None) -> list[str]:
        """The rows' metrics, ``chosen`` first when it is one of them."""
        metrics = metric_names(rows)
        return sorted(metrics, key=lambda name: name != chosen)

    def board(name: str | None, chosen: str | None, model: str, method: str) -> dict[str, Any]:
        """Table, filter choices, the chosen metric and its plot path for board ``name``."""
        shown, filters = filtered(name, model, method)
        metrics = ordered_metrics(shown, chosen)
        if not metrics:
            return {**filters, "table": pd.DataFrame(), "metrics": [], "metric": None, "plot": None}
        folder = plots / _slug(f"{name}-{model}-{method}")
        return {
            **filters,
            "table": pd.DataFrame(leaderboard_table(shown, metrics)),
            "metrics": metric_names(shown),
            "metric": metrics[0],
            "plot": str(metric_plot(shown, metrics[0], folder)),
        }

    def exported(name: str | None, chosen: str | None, model: str, method: str) -> list[str]:
        """``leaderboard.{csv,json,html}`` of the rows shown."""
        shown, _ = filtered(name, model or ALL, method or ALL)
        if not shown:
            raise gr.Error("no rows to export", print_exception=False)
        folder = Path(tempfile.mkdtemp(prefix="export-", dir=plots))
        return [str(path) for path in export_board(shown, ordered_metrics(shown, chosen), folder)]

    def show(name: str | None, chosen: str | None, model: str, method: str) -> tuple[Any, ...]:
        shown = board(name, chosen, model or ALL, method or ALL)
        model = model if model in shown["models"] else ALL
        method = method if method in shown["methods"] else ALL
        return (
            gr.Dropdown(choices=list(leaderboards(client)), value=name),
            gr.Dropdown(choices=shown["models"], value=model),
            gr.Dropdown(choices=shown["methods"], value=method),
            shown["table"],
            gr.Dropdown(choices=shown["metrics"], value=shown["metric"]),
            shown["plot"],
        )

    names = list(leaderboards(client))
    first = names[0] if names else None
    initial = board(first, None, ALL, ALL)
    with gr.Row():
        # boards, models and methods appear as jobs finish: the handler checks the values
        suite = gr.Dropdown(names, value=first, label="leaderboard", allow_custom_value=True)
        model = gr.Dropdown(
            initial["models"],
            value=ALL,
            label="model (one: compare methods)",
            allow_custom_value=True,
        )
        method = gr.Dropdown(
            initial["methods"],
            value=ALL,
            label="method (one: compare models)",
            allow_custom_value=True,
        )
        chosen = gr.Dropdown(
            initial["metrics"],
            value=initial["metric"],
            label="sort / plot by",
            allow_custom_value=True,
        )
        reload = gr.Button("Reload", size="sm")
    table = gr.Dataframe(
        initial["table"],
        interactive=False,
        elem_id="leaderboard-table",
        label="mean [95% bootstrap interval], best first",
    )
    plot = gr.Image(
        initial["plot"], label="metric plot (its own size: one bar per row)", interactive=False
    )
    inputs = [suite, chosen, model, method]
    outputs = [suite, model, method, table, chosen, plot]
    suite.input(show, inputs, outputs, api_name="leaderboard")
    for control in (chosen, model, method):
        control.input(show, inputs, outputs, api_name=False)
    reload.click(show, inputs, outputs, api_name=False)
    with gr.Row():
        export = gr.Button("Export the rows shown (CSV, JSON, HTML page with plots)", size="sm")
        files = gr.File(label="exported board", file_count="multiple", interactive=False)
    export.click(exported, inputs, files, api_name="export_leaderboard")
    _benchmark_form(client, my_jobs)


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text)


def _benchmark_form(client: JobClient, my_jobs: gr.State) -> None:
    """Estimate, then run, a benchmark of a registered suite; its rows join the boards above."""

    def spec(form: Sequence[Any], estimate: bool = False) -> dict[str, Any]:
        """The benchmark (``estimate``: benchmark-estimate) spec of the form's values: suite,
        model choice, methods, in-filler, images (0: all) and seed."""
        suite, model, methods, infill, limit, seed = form
        sample = (int(limit) or None, int(seed))
        model_name = benchmark_model(model)
        return benchmark_spec(suite, methods, infill, model_name, *sample, estimate=estimate)

    @user_errors
    def estimate(
        suite: str,
        model: str,
        methods: list[str],
        infill: str,
        limit: float,
        seed: float,
        progress: gr.Progress = gr.Progress(),  # Gradio injects it by position: no *args here
    ) -> tuple[str, pd.DataFrame]:
        job_id = client.submit(spec((suite, model, methods, infill, limit, seed), estimate=True))
        result = follow(client, job_id, reporter(progress)).result
        return f"Estimate: {estimate_summary(result)}", pd.DataFrame(estimate_table(result))

    @user_errors
    def run(*values: Any) -> tuple[str, list[str]]:
        *form, jobs = values
        job_id = client.submit(spec(form))
        return (
            f"benchmark {job_id} queued: follow it on the Jobs tab, then press Reload above.",
            remember(jobs, job_id),
        )

    available = has_kind("benchmark") and has_kind(ESTIMATE)
    with gr.Accordion("Benchmark a registered suite", open=False):
        with gr.Row():
            suite = gr.Dropdown(suite_choices(), value=suite_choices()[0], label="suite")
            model = gr.Dropdown(
                benchmark_model_choices(), value=SUITE_MODEL, label="benchmark model"
            )
            methods = gr.Dropdown(
                method_choices(), value=["grad-cam"], multiselect=True, label="methods"
            )
            infill = gr.Dropdown(infiller_choices(), value=infiller_choices()[0], label="infill")
        with gr.Row():
            limit = gr.Number(0, precision=0, minimum=0, label="images (0 = the whole suite)")
            seed = gr.Number(0, precision=0, minimum=0, label="sample seed")
            estimate_button = gr.Button("Estimate cost", interactive=available)
            run_button = gr.Button("Run benchmark", variant="primary", interactive=available)
        summary = gr.Markdown(elem_id="benchmark-summary")
        costs = gr.Dataframe(interactive=False, label="estimated cost per method")
        form = [suite, model, methods, infill, limit, seed]
        estimate_button.click(estimate, form, [summary, costs], api_name="estimate_benchmark")
        run_button.click(run, [*form, my_jobs], [summary, my_jobs], api_name="run_benchmark")
