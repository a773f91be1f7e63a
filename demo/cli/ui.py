"""Front-end commands: ``genlens ui gradio``, ``genlens ui streamlit`` and ``genlens ui demo``
(worker + both apps on the embedded default, for a local try-out)."""

import os
import sys
from pathlib import Path

import typer

from genlens.demo.cli.app import app
from genlens.worker.settings import get_settings

ui_app = typer.Typer(help="Web front ends (clients of the job service).", no_args_is_help=True)
app.add_typer(ui_app, name="ui")

STREAMLIT_APP = Path(__file__).resolve().parent.parent / "streamlit_app.py"
HOST = typer.Option("127.0.0.1", "--host", help="Interface to listen on (0.0.0.0: all).")


def _offline_env() -> None:
    from genlens.demo.launcher import OFFLINE_ENV

    for key, value in OFFLINE_ENV.items():
        os.environ.setdefault(key, value)


@ui_app.command("gradio")
def gradio(host: str = HOST, port: int = typer.Option(7860, "--port", help="TCP port.")) -> None:
    """Serve the Gradio demo (Explain, Visualize, Generate, Jobs, Leaderboard) and /healthz."""
    _offline_env()
    from genlens.demo.gradio_app import serve

    typer.echo(f"Gradio demo on http://{host}:{port}/", err=True)
    serve(host, port)


@ui_app.command("streamlit")
def streamlit(host: str = HOST, port: int = typer.Option(8501, "--port", help="TCP port.")) -> None:
    """Serve the Streamlit app (batches, results, leaderboard, model cards)."""
    _offline_env()
    settings = get_settings()
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(STREAMLIT_APP),
        "--server.address",
        host,
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--server.fileWatcherType",
        "none",
        "--server.runOnSave",
        "false",
        "--server.maxUploadSize",
        str(settings.ui_batch_upload_mb),
        "--browser.gatherUsageStats",
        "false",
        "--global.developmentMode",
        "false",
        "--client.toolbarMode",
        "minimal",
    ]
    os.execv(sys.executable, command)


@ui_app.command("demo")
def demo(
    host: str = HOST,
    gradio_port: int = typer.Option(7860, "--gradio-port", help="Gradio TCP port."),
    streamlit_port: int = typer.Option(8501, "--streamlit-port", help="Streamlit TCP port."),
) -> None:
    """Start a worker, the Gradio demo and the Streamlit app; print the URLs; Ctrl-C stops all."""
    from genlens.demo.launcher import run_demo

    _offline_env()
    run_demo(host, gradio_port, streamlit_port, echo=typer.echo)
