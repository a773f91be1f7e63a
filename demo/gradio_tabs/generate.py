"""Generate tab: the feature-conditioned generator. Moves an image's classifier features along
the top principal components (to training quantiles) or borrows a target image's features, and
shows the traversal grid. Runs as the ``generate`` job kind."""

from typing import Any

import gradio as gr
import pandas as pd

from genlens.core import defaults
from genlens.core.errors import ParameterError
from genlens.demo.choices import GENERATE, generator_choices, has_kind
from genlens.demo.gradio_tabs.common import UPLOAD_TYPES, remember, reporter, user_errors
from genlens.demo.job_outputs import artifact_path, artifact_paths
from genlens.demo.jobs import follow
from genlens.worker.client import JobClient

COMPONENTS = list(range(1, 9))
QUANTILES = [1, 5, 10, 25, 50, 75, 90, 95, 99]
DEFAULT_GENERATOR, DEFAULT_REFERENCE = "fmnist-conditional", "fmnist:test:0"
EXAMPLES = [
    ("fmnist-conditional", "fmnist:test:12"),
    ("faces-conditional", "faces:test:0"),
    ("faces-conditional", "faces:photo:astronaut"),
    ("faces-conditional", "faces:photo:grace_hopper"),
    ("faces-conditional-features", "faces:test:1"),
]
"""(generator, image reference) pairs offered as examples when the generator is shipped."""
MISSING = (
    "The `generate` job kind is not registered in this deployment, so the conditional "
    "generator cannot run. The other tabs work."
)


def generate_spec(
    model: str, image: str, traverse: list[int], quantiles: list[int], target: str | None
) -> dict[str, Any]:
    """A ``generate`` job spec: ``traverse`` principal components (1-based) at ``quantiles``
    (percent), or the features of ``target_image`` when one is given."""
    if not has_kind(GENERATE):
        raise ParameterError(MISSING)
    spec: dict[str, Any] = {
        "kind": GENERATE,
        "model": model,
        "image": image,
        "traverse": sorted(int(c) for c in traverse),
        "quantiles": sorted(int(q) for q in quantiles),
    }
    if target:
        spec["target_image"] = target
    return spec


def build(client: JobClient, my_jobs: gr.State) -> None:
    """The tab and its ``/generate`` endpoint (outputs: grid, columns, summary)."""

    @user_errors
    def run(
        model: str,
        upload: str | None,
        reference: str,
        traverse: list[int],
        quantiles: list[int],
        target: str | None,
        jobs: list[str] | None,
        progress: gr.Progress = gr.Progress(),
    ) -> tuple[Any, ...]:
        image = upload or reference.strip()
        if not image:
            raise ParameterError("upload a source image or give an image reference")
        job_id = client.submit(generate_spec(model, image, traverse, quantiles, target))
        jobs = remember(jobs, job_id)
        result = follow(client, job_id, reporter(progress))
        details = result.result or {}
        columns = pd.DataFrame(
            details.get("columns", []), columns=["label", "class", "probability"]
        )
        summary = f"input classified as **{details.get('input_class', '?')}** - job `{job_id}`"
        return (
            artifact_path(result, "grid"),
            artifact_paths(result, "output"),
            columns,
            summary,
            jobs,
        )

    available = has_kind(GENERATE)
    if not available:
        gr.Markdown(f"**{MISSING}**", elem_id="generate-status")
    with gr.Row():
        with gr.Column(scale=1):
            generators = generator_choices()
            default = DEFAULT_GENERATOR if DEFAULT_GENERATOR in generators else None
            model = gr.Dropdown(
                generators,
                value=default or next(iter(generators), None),
                label="conditional generator",
            )
            upload = gr.File(label="source image", file_types=UPLOAD_TYPES, type="filepath")
            reference = gr.Textbox(
                DEFAULT_REFERENCE,
                label="or an image reference "
                "(WORLD:SPLIT:INDEX such as fmnist:test:12, faces:photo:astronaut or sample:NAME)",
            )
            shipped = [list(pair) for pair in EXAMPLES if pair[0] in generators]
            if shipped:
                gr.Examples(shipped, [model, reference], label="examples")
            traverse = gr.CheckboxGroup(
                COMPONENTS, value=list(defaults.TRAVERSE), label="principal components to traverse"
            )
            quantiles = gr.CheckboxGroup(
                QUANTILES,
                value=[int(q) for q in defaults.QUANTILES],
                label="positions (training quantiles, %)",
            )
            target = gr.File(
                label="target image whose features to borrow (optional; replaces the traversal)",
                file_types=UPLOAD_TYPES,
                type="filepath",
            )
            button = gr.Button("Generate", variant="primary", interactive=available)
        with gr.Column(scale=2):
            summary = gr.Markdown()
            grid = gr.Image(
                label="grid: real | edits | reconstruction",
                interactive=False,
                format="png",
                elem_id="generate-grid",
            )
            outputs = gr.Gallery(label="output columns", columns=6, height=200)
            columns = gr.Dataframe(label="classifier's top class per column", interactive=False)
    button.click(
        run,
        [model, upload, reference, traverse, quantiles, target, my_jobs],
        [grid, outputs, columns, summary, my_jobs],
        api_name="generate",
        concurrency_limit=None,
        show_progress_on=grid,
    )
