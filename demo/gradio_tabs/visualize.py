"""Visualize tab: what a unit (class logit or channel) of a classifier responds to: Fourier or
pixel parameterization, DGN-AM in a generator prior's code space, or class-agnostic facets of an
uploaded image set (the four methods of the ``visualize`` job kind)."""

from typing import Any

import gradio as gr
import pandas as pd

from genlens.core import defaults
from genlens.core.registries import PRIORS
from genlens.demo.choices import model_choices
from genlens.demo.gradio_tabs.common import remember, reporter, user_errors
from genlens.demo.job_outputs import artifact_path, artifact_paths, trace_rows
from genlens.demo.jobs import follow
from genlens.demo.specs import parse_indices
from genlens.worker.client import JobClient


def visualize_spec(
    model: str,
    method: str,
    layer: str,
    units: str,
    steps: int,
    prior: str | None = None,
    images: list[str] | None = None,
    clusters: int = 3,
) -> dict[str, Any]:
    """A ``visualize`` job spec (``units``: comma-separated indices; ``images``: file paths of
    the class-agnostic image set, empty = the shipped photos)."""
    spec: dict[str, Any] = {
        "kind": "visualize",
        "model": model,
        "method": method,
        "layer": layer.strip() or defaults.LOGITS,
        "steps": int(steps),
    }
    if method == "class-agnostic":
        return {**spec, "images": list(images or []), "clusters": int(clusters)}
    spec["units"] = parse_indices(units)
    return {**spec, "prior": prior} if method == "dgn" and prior else spec


def build(client: JobClient, my_jobs: gr.State) -> None:
    """The tab and its ``/visualize`` endpoint (outputs: gallery, trace plot, scores)."""

    @user_errors
    def run(
        model: str,
        method: str,
        layer: str,
        units: str,
        steps: int,
        prior: str | None,
        images: list[str] | None,
        clusters: int,
        jobs: list[str] | None,
        progress: gr.Progress = gr.Progress(),
    ) -> tuple[Any, ...]:
        spec = visualize_spec(model, method, layer, units, steps, prior, images, clusters)
        job_id = client.submit(spec)
        jobs = remember(jobs, job_id)
        result = follow(client, job_id, reporter(progress))
        names = (result.result or {}).get("units", [])
        gallery = [
            (path, name)
            for (path, _), name in zip(artifact_paths(result, "visualization"), names, strict=False)
        ]
        trace_file = artifact_path(result, "trace")
        trace = pd.DataFrame(trace_rows(trace_file, names) if trace_file else [])
        scores = pd.DataFrame(
            {"unit": names, "final score": (result.result or {}).get("scores", [None] * len(names))}
        )
        return gallery, trace, scores, f"job `{job_id}`", jobs

    with gr.Row():
        with gr.Column(scale=1):
            model = gr.Dropdown(model_choices(), value=defaults.MODEL, label="model")
            method = gr.Radio(
                list(defaults.VISUALIZE_METHODS), value=defaults.VISUALIZE_METHOD, label="method"
            )
            layer = gr.Textbox(
                defaults.LOGITS,
                label="layer ('logits': units are classes; "
                "class-agnostic needs a spatial layer, e.g. bn2)",
            )
            units = gr.Textbox("1, 130, 207", label="units / classes (comma-separated)")
            steps = gr.Slider(2, 512, value=64, step=2, label="optimization steps")
            prior = gr.Dropdown(
                PRIORS.names(sort=False), value=defaults.PRIOR, label="generator prior (dgn)"
            )
            images = gr.File(
                file_count="multiple",
                type="filepath",
                file_types=["image"],
                label="image set (class-agnostic; empty = shipped photos)",
            )
            clusters = gr.Slider(1, 8, value=3, step=1, label="facets (class-agnostic)")
            button = gr.Button("Visualize", variant="primary")
        with gr.Column(scale=2):
            summary = gr.Markdown()
            gallery = gr.Gallery(label="visualizations", columns=4, height=360)
            trace = gr.LinePlot(
                x="step", y="score", color="unit", label="activation trace (objective per step)"
            )
            scores = gr.Dataframe(
                headers=["unit", "final score"], label="final scores", interactive=False
            )
    button.click(
        run,
        [model, method, layer, units, steps, prior, images, clusters, my_jobs],
        [gallery, trace, scores, summary, my_jobs],
        api_name="visualize",
        concurrency_limit=None,
        show_progress_on=gallery,
    )
