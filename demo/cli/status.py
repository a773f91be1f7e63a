"""``genlens status``: is the deployment healthy? Database (migrated to head), broker, artifact
store and a live worker per queue; exit code 1 when any check fails (for container
healthchecks and monitoring)."""

import json

import typer

from genlens.demo.cli.app import app
from genlens.worker.settings import get_settings


@app.command("status")
def status(
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    queues: str = typer.Option(
        "gpu,cpu", "--queues", "-Q", help="Queues that need a live worker (comma-separated)."
    ),
    timeout: float = typer.Option(3.0, min=0.1, help="Seconds allowed to each check."),
    no_workers: bool = typer.Option(False, "--no-workers", help="Skip the worker check."),
) -> None:
    """Check database, broker, artifact store and workers; exit 1 when unhealthy."""
    from rich.console import Console
    from rich.table import Table

    from genlens.worker.health import health_report

    wanted = [queue.strip() for queue in queues.split(",") if queue.strip()]
    report = health_report(get_settings(), queues=wanted, timeout=timeout, workers=not no_workers)
    if as_json:
        typer.echo(json.dumps(report, indent=2, sort_keys=True))
    else:
        table = Table("check", "ok", "detail", title="genlens status")
        for name, check in report["checks"].items():
            table.add_row(name, "ok" if check["ok"] else "FAIL", check["detail"])
        Console(width=160).print(table)
    if not report["ok"]:
        raise typer.Exit(1)
