"""The Gradio demo: Explain, Visualize, Generate, Jobs and Leaderboard tabs.

The page is a client of the job service: every handler submits a job through
:class:`~genlens.worker.client.JobClient` and polls its row (progress bar) until a worker finishes
it;
no model runs in the web process. It is served by FastAPI (``/`` = the demo, ``/healthz`` =
liveness JSON, HTTP 503 when unhealthy), offline-safe: no analytics, no share link, no
monitoring endpoint, an upload limit (``GENLENS_MAX_UPLOAD_BYTES``), a bounded queue
(``GENLENS_UI_QUEUE_SIZE``) and an optional login (``GENLENS_UI_USER`` /
``GENLENS_UI_PASSWORD``).

>>> app = create_app()            # then: uvicorn.run(app, host="127.0.0.1", port=7860)
"""

import importlib
import importlib.util
from typing import Any

import gradio as gr
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import text

from genlens.demo.gradio_tabs import explain, generate, jobs, leaderboard, visualize
from genlens.demo.jobs import get_client
from genlens.worker.client import JobClient

TITLE = "genlens"
TABS = {
    "Explain": explain.build,
    "Visualize": visualize.build,
    "Generate": generate.build,
    "Jobs": jobs.build,
    "Leaderboard": leaderboard.build,
}
CACHE_LIFETIME = (3600, 24 * 3600)  # check every hour, delete temporary files older than a day
INTRO = (
    "**genlens** shows what an image classifier has learned. Jobs run on the worker processes; "
    "this page submits them and follows their progress."
)


def build_demo(client: JobClient) -> gr.Blocks:
    """The Blocks app (queue configured); ``client`` is shared by every session."""
    with gr.Blocks(title=TITLE, analytics_enabled=False, delete_cache=CACHE_LIFETIME) as demo:
        gr.Markdown(INTRO)
        my_jobs = gr.State([])
        for name, build in TABS.items():
            with gr.Tab(name):
                build(client, my_jobs)
    demo.queue(default_concurrency_limit=1, max_size=client.settings.ui_queue_size)
    return demo


def health(client: JobClient) -> dict[str, Any]:
    """Liveness of the deployment: :func:`genlens.worker.health.health_report` (database, broker,
    artifacts, workers) when that module exists, otherwise whether the database answers."""
    if importlib.util.find_spec("genlens.worker.health") is not None:
        return importlib.import_module("genlens.worker.health").health_report(client.settings)
    try:
        with client.db.begin() as session:
            session.execute(text("SELECT 1"))
        return {"ok": True, "checks": {"database": {"ok": True, "detail": "answers"}}}
    except Exception as exc:
        return {"ok": False, "checks": {"database": {"ok": False, "detail": str(exc)}}}


def create_app(client: JobClient | None = None) -> FastAPI:
    """FastAPI with ``/healthz`` and the demo mounted at ``/``."""
    client = client or get_client()
    settings = client.settings
    app = FastAPI(title=TITLE, docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/healthz")
    def healthz() -> JSONResponse:
        report = health(client)
        return JSONResponse(report, status_code=200 if report["ok"] else 503)

    password = settings.ui_password
    return gr.mount_gradio_app(
        app,
        build_demo(client),
        path="/",
        auth=(settings.ui_user, password.get_secret_value()) if password else None,
        max_file_size=settings.max_upload_bytes,
        enable_monitoring=False,
        show_error=False,
        ssr_mode=False,
        footer_links=["api"],
    )


def serve(host: str = "127.0.0.1", port: int = 7860) -> None:
    """Run the demo with uvicorn until interrupted."""
    import uvicorn

    uvicorn.run(create_app(), host=host, port=port, log_level="warning")
