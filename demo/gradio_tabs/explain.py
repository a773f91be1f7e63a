"""Explain tab: which evidence drives a classifier's decision on one image."""

from typing import Any

import gradio as gr
from PIL import Image

from genlens.core import defaults
from genlens.core.data import ImageLimits, load_image, sample_image
from genlens.core.errors import GenlensError
from genlens.demo.choices import (
    WORKER_PRECISION,
    infiller_choices,
    method_choices,
    model_choices,
    precision_choices,
    sample_choices,
)
from genlens.demo.gradio_tabs.common import UPLOAD_TYPES, remember, reporter, user_errors
from genlens.demo.job_outputs import REGION_COLOURS, explain_view, map_image, salient_regions
from genlens.demo.jobs import follow
from genlens.demo.specs import explain_spec, image_reference, method_steps
from genlens.worker.client import JobClient


def preview(upload: str | None, sample: str | None, limits: ImageLimits) -> Image.Image | None:
    """The image that will be explained (None while there is none or it cannot be read)."""
    try:
        if upload:
            return load_image(upload, limits=limits)
        return sample_image(sample) if sample else None
    except GenlensError as exc:
        gr.Warning(str(exc))
        return None


def build(client: JobClient, my_jobs: gr.State) -> None:
    """The tab's components and its ``/explain`` endpoint (inputs: upload, sample, model,
    method, in-filler, steps, precision (optional, default the worker's); outputs: overlay, raw
    map, counterfactuals, probabilities, summary, raw map file)."""

    @user_errors
    def run(
        upload: str | None,
        sample: str | None,
        model: str,
        method: str,
        infill: str,
        steps: int,
        precision: str,
        jobs: list[str] | None,
        progress: gr.Progress = gr.Progress(),
    ) -> tuple[Any, ...]:
        image = image_reference(upload, sample)
        job_id = client.submit(
            explain_spec(image, model, method, infill, steps, precision=precision)
        )
        jobs = remember(jobs, job_id)
        view = explain_view(follow(client, job_id, reporter(progress)))
        summary = (
            f"**{view.label}** - job `{job_id}`  \n"
            f"probability {view.probabilities['original image']:.3f} on the image, "
            f"{view.probabilities['evidence kept']:.3f} with only the evidence kept, "
            f"{view.probabilities['evidence removed']:.3f} with it removed"
        )
        return (
            (view.image, salient_regions(view.saliency)),
            map_image(view.saliency),
            view.counterfactuals,
            view.probabilities,
            summary,
            view.raw_map,
            jobs,
        )

    with gr.Row():
        with gr.Column(scale=1):
            model = gr.Dropdown(model_choices(), value=defaults.MODEL, label="model")
            upload = gr.File(
                label="upload an image (PNG, JPEG, WebP)", file_types=UPLOAD_TYPES, type="filepath"
            )
            sample = gr.Dropdown(
                sample_choices(),
                value="chelsea",
                label="or a sample photo (used when nothing is uploaded)",
            )
            shown = gr.Image(
                value=sample_image("chelsea"), label="input", interactive=False, height=200
            )
            method = gr.Dropdown(method_choices(), value=defaults.EXPLAIN_METHOD, label="method")
            infill = gr.Dropdown(
                infiller_choices(),
                value=defaults.INFILL,
                label="in-filler (counterfactuals; FIDO/BBMP masks)",
            )
            steps = gr.Slider(
                5,
                300,
                value=method_steps(defaults.EXPLAIN_METHOD),
                step=5,
                label="steps (FIDO, BBMP, integrated gradients; the method's default)",
            )
            precision = gr.Dropdown(
                precision_choices(),
                value=WORKER_PRECISION,
                label="precision (bf16 speeds up Grad-CAM, RISE, occlusion; FIDO on CUDA)",
            )
            button = gr.Button("Explain", variant="primary")
        with gr.Column(scale=2):
            summary = gr.Markdown()
            with gr.Row():
                overlay = gr.AnnotatedImage(
                    label="most salient pixels",
                    format="png",
                    color_map=REGION_COLOURS,
                    elem_id="explain-overlay",
                )
                raw = gr.Image(label="raw map (white = salient)", interactive=False, format="png")
            counterfactuals = gr.Gallery(
                label="counterfactuals (in-filled images)", columns=2, height=320
            )
            probabilities = gr.Label(label="probability of the explained class", show_heading=False)
            raw_file = gr.File(label="raw map (.npy, float32, H x W)")

    def show(upload: str | None, sample: str | None) -> Image.Image | None:
        return preview(upload, sample, client.settings.upload_limits)

    def declared_steps(name: str) -> Any:
        chosen = method_steps(name)
        return gr.update() if chosen is None else gr.update(value=chosen)

    method.change(declared_steps, method, steps, api_name=False)
    for source in (upload, sample):
        source.change(show, [upload, sample], shown, api_name=False)
    button.click(
        run,
        [upload, sample, model, method, infill, steps, precision, my_jobs],
        [overlay, raw, counterfactuals, probabilities, summary, raw_file, my_jobs],
        api_name="explain",
        concurrency_limit=None,
        show_progress_on=overlay,
    )
