"""Jobs tab: the session's recent jobs (or everyone's) with status and progress, refreshed every
few seconds; details and cancellation of one job."""

from typing import Any

import gradio as gr
import pandas as pd

from genlens.demo.gradio_tabs.common import user_errors
from genlens.demo.job_outputs import image_outputs
from genlens.demo.jobs import job_rows
from genlens.worker.client import JobClient

REFRESH_SECONDS = 2.0
LIMIT = 50


def build(client: JobClient, my_jobs: gr.State) -> None:
    """The tab and its ``/jobs``, ``/job`` and ``/cancel`` endpoints."""

    def table(jobs: list[str] | None, mine: bool) -> pd.DataFrame:
        if mine:
            snapshots = [client.status(job_id) for job_id in (jobs or [])[:LIMIT]]
        else:
            snapshots = client.list(limit=LIMIT)
        return pd.DataFrame(
            job_rows(snapshots),
            columns=["id", "kind", "status", "progress %", "message", "children", "created"],
        )

    @user_errors
    def details(job_id: str) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        outcome = client.result(job_id.strip())
        summary = {
            "status": outcome.status.status,
            "progress": outcome.status.progress,
            "message": outcome.status.message,
            "error": outcome.status.error,
            "result": outcome.result,
            "children": outcome.children,
            "files": {f"{a.role}/{a.name}": a.path for a in outcome.artifacts},
        }
        return summary, image_outputs(outcome)

    @user_errors
    def cancel(job_id: str, jobs: list[str] | None, mine: bool) -> tuple[str, pd.DataFrame]:
        current = client.cancel(job_id.strip())
        note = "" if current.done else " (stops at its next progress step)"
        return f"job `{current.id}`: {current.status}{note}", table(jobs, mine)

    def pick(frame: pd.DataFrame, event: gr.SelectData) -> str:
        return str(frame.iloc[event.index[0]]["id"])

    with gr.Row():
        mine = gr.Checkbox(True, label="only my jobs (this browser session)")
        refresh = gr.Button("Refresh", size="sm")
    jobs_table = gr.Dataframe(
        label="jobs (click a row to select it)", interactive=False, elem_id="jobs-table"
    )
    with gr.Row():
        job_id = gr.Textbox(label="job id", scale=3)
        show = gr.Button("Details", scale=1)
        stop = gr.Button("Cancel job", variant="stop", scale=1)
    note = gr.Markdown()
    with gr.Row():
        info = gr.JSON(label="job")
        images = gr.Gallery(label="images", columns=3, height=300)
    timer = gr.Timer(REFRESH_SECONDS)
    inputs = [my_jobs, mine]
    for trigger in (refresh.click, mine.change, my_jobs.change, timer.tick):
        trigger(table, inputs, jobs_table, api_name=False, show_progress="hidden")
    jobs_table.select(pick, jobs_table, job_id, api_name=False)
    show.click(details, job_id, [info, images], api_name="job")
    stop.click(cancel, [job_id, my_jobs, mine], [note, jobs_table], api_name="cancel")
