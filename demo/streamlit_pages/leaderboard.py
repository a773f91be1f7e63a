"""Leaderboard: a benchmark's table (mean with 95% bootstrap interval) filtered by model, method
and metric (one model: its methods compared; one method: the models compared), and a chart per
metric with the intervals as error bars."""

import tempfile
from pathlib import Path

import altair as alt
import pandas as pd
import streamlit as st

from genlens.demo.leaderboards import (
    export_board,
    leaderboard_table,
    leaderboards,
    method_labels,
    metric_names,
    model_names,
    select_rows,
)
from genlens.demo.streamlit_pages.common import client
from genlens.evaluation.leaderboard import row_names
from genlens.evaluation.metrics import metric

st.title("Leaderboard")
boards = leaderboards(client())
if not boards:
    st.info("No benchmark results yet: submit a benchmark on 'Submit a batch'.")
    st.stop()
name = st.selectbox("leaderboard", list(boards))
rows = boards[name]()
metrics = metric_names(rows)
labels = method_labels(rows)
models = model_names(rows)
chosen_metrics = st.multiselect("metrics (the first sorts the table)", metrics, default=metrics)
st.caption(
    "One model and several methods compares methods; one method and several models "
    "compares the models (a CNN and a ViT on the same suite, say)."
)
chosen_models = st.multiselect("models", models, default=models)
chosen_methods = st.multiselect("methods", labels, default=labels)
shown = select_rows(rows, chosen_models, chosen_methods)
if not shown or not chosen_metrics:
    st.warning("Choose at least one model, method and metric that have rows.")
    st.stop()
st.dataframe(leaderboard_table(shown, chosen_metrics), hide_index=True)
if st.button("Export this table (CSV, JSON, HTML page with the plots)"):
    with tempfile.TemporaryDirectory() as folder:
        exports = [
            (path.name, path.read_bytes())
            for path in export_board(shown, chosen_metrics, Path(folder))
        ]
    for column, (file_name, data) in zip(st.columns(len(exports)), exports, strict=True):
        column.download_button(f"Download {file_name}", data, file_name=file_name)

long = pd.DataFrame(
    [
        {
            "method": name,
            "metric": key,
            "value": value.value,
            "low": value.low,
            "high": value.high,
        }
        for row, name in zip(shown, row_names(shown), strict=True)
        for key, value in row.metrics.items()
        if key in chosen_metrics
    ]
)
for key in chosen_metrics:
    data = long[long.metric == key]
    order = "-x" if metric(key).higher_is_better else "x"
    direction = "higher is better" if metric(key).higher_is_better else "lower is better"
    base = alt.Chart(data, title=f"{key} ({direction}, 95% bootstrap CI)")
    bars = base.mark_bar().encode(x=alt.X("value:Q"), y=alt.Y("method:N", sort=order))
    errors = base.mark_errorbar().encode(
        x=alt.X("low:Q", title=key), x2="high:Q", y=alt.Y("method:N", sort=order)
    )
    st.altair_chart(bars + errors, use_container_width=True)
