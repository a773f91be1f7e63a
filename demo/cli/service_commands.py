"""Service commands: ``genlens db upgrade``, ``genlens worker``, ``genlens submit ...``,
``genlens jobs`` and ``genlens cancel``. Configuration comes from ``GENLENS_*`` variables
(see :class:`genlens.worker.settings.Settings`); the default needs no server."""

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from genlens.core import defaults
from genlens.core.errors import ParameterError
from genlens.demo.cli.app import app, listed, progress_bar
from genlens.demo.cli.model_options import model_options
from genlens.demo.cli.train import parse_option
from genlens.worker.settings import get_settings

if TYPE_CHECKING:
    from genlens.core.models import ModelSpec
    from genlens.worker.client import JobClient, JobStatus

db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
submit_app = typer.Typer(
    help="Submit jobs to the workers; prints the job id.", no_args_is_help=True
)
app.add_typer(db_app, name="db")
app.add_typer(submit_app, name="submit")


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head", help="Alembic revision.")) -> None:
    """Create or migrate the job database (GENLENS_DATABASE_URL, default SQLite)."""
    from genlens.db.migrate import upgrade

    settings = get_settings()
    upgrade(settings.database, revision)
    typer.echo(f"database at revision {revision}: {settings.database}")


@app.command("worker")
def worker(
    queues: str = typer.Option("gpu,cpu", "--queues", "-Q", help="Comma-separated queues."),
    concurrency: int = typer.Option(1, "--concurrency", "-c", min=1, help="Pool processes."),
    pool: str = typer.Option(
        "prefork", "--pool", "-P", help="Celery pool; prefork is the one with time limits."
    ),
    name: str = typer.Option("genlens@%h", "--name", "-n", help="Worker node name."),
    loglevel: str = typer.Option("INFO", "--loglevel", "-l", help="Log level."),
) -> None:
    """Start a Celery worker (migrates the database first)."""
    from genlens.db.migrate import upgrade

    settings = get_settings()
    upgrade(settings.database)
    from genlens.worker.celery_app import app as celery

    typer.echo(f"worker {name}: broker {settings.broker}, database {settings.database}", err=True)
    celery.worker_main(
        [
            "worker",
            "-Q",
            queues,
            "-c",
            str(concurrency),
            "-P",
            pool,
            "-n",
            name,
            "-l",
            loglevel,
            "-E",
            "--without-gossip",
            "--without-mingle",
        ]
    )


def _follow(client: "JobClient", job_id: str) -> "JobStatus":
    """Show a progress bar until the job finishes."""
    with progress_bar(f"job {job_id[:8]}") as progress:
        while not (current := client.status(job_id)).done:
            progress(round(current.progress * 1000), 1000)
            time.sleep(0.5)
        progress(round(current.progress * 1000), 1000)
    return current


def _client() -> "JobClient":
    """A job client on a migrated database (a fresh data folder gets its tables, instead of
    a "no such table" traceback)."""
    from genlens.db.migrate import upgrade
    from genlens.worker.client import JobClient

    settings = get_settings()
    upgrade(settings.database)
    return JobClient(settings)


def _submit(specs: list[dict], wait: bool) -> None:
    client = _client()
    try:
        job_id = client.submit(specs[0]) if len(specs) == 1 else client.submit_batch(specs)
        typer.echo(job_id)
        if wait:
            final = _follow(client, job_id)
            _print_result(client, job_id)
            if final.status != "succeeded":
                raise typer.Exit(1)
    finally:
        client.close()


def _reference(value: str) -> str:
    """An existing file as its path; anything else (sample:NAME, ...) as given."""
    return str(Path(value)) if Path(value).is_file() else value


def _job_model(model: "ModelSpec") -> str | dict[str, Any]:
    """A job's ``model``: the registered name, or the weights file's spec (the client stores
    the file in the artifact store; the worker never reads this path). Workers compile as
    their ``GENLENS_COMPILE`` says, so ``--compile`` is refused."""
    if model.compile:
        raise ParameterError(
            "--compile does not apply to queued jobs: workers compile as GENLENS_COMPILE says"
        )
    return model.source if model.registered else model.to_json()


def _job_precision(context: typer.Context, model: "ModelSpec") -> str | None:
    """``--precision`` when it was given (the job then runs in it, fp32 included), else
    ``None``: the worker's ``GENLENS_PRECISION``."""
    source = context.get_parameter_source("precision")
    return None if source is None or source.name == "DEFAULT" else model.precision


def _shortcuts(method: str, **values: int | None) -> dict[str, int]:
    """``steps``/``samples`` given on the command line, for the methods that declare them."""
    from genlens.core.saliency import get_method

    declared = get_method(method).params
    return {key: value for key, value in values.items() if value is not None and key in declared}


@submit_app.command("explain")
@model_options()
def submit_explain(
    context: typer.Context,
    images: list[str] = typer.Argument(..., help="Files or sample:NAME; several = a batch."),
    method: list[str] = typer.Option(
        [defaults.EXPLAIN_METHOD], help="Saliency method (repeat for several)."
    ),
    infill: str = typer.Option(defaults.INFILL, help="In-filler."),
    steps: int | None = typer.Option(None, help="Optimisation steps."),
    samples: int | None = typer.Option(None, help="Samples per step."),
    seed: int = typer.Option(0, help="Random seed."),
    target: int | None = typer.Option(None, help="Class index (default: predicted)."),
    wait: bool = typer.Option(False, "--wait", help="Follow progress, then print artifacts."),
    model: "ModelSpec | None" = None,
) -> None:
    """Queue saliency explanations: one job, or a batch for several images x methods."""
    specs = [
        {
            "kind": "explain",
            "image": _reference(image),
            "model": _job_model(model),
            "method": name,
            "infill": infill,
            "seed": seed,
            "target": target,
            "precision": _job_precision(context, model),
            **_shortcuts(name, steps=steps, samples=samples),
        }
        for image in images
        for name in method
    ]
    _submit(specs, wait)


@submit_app.command("benchmark")
@model_options(default=None)
def submit_benchmark(
    context: typer.Context,
    suite: str = typer.Option(
        ...,
        help="Benchmark suite or a suite folder (zipped and stored with the job, so the "
        "worker never reads this path; see `genlens bench saliency --help`).",
    ),
    methods: str = typer.Option(..., help="Comma-separated methods; METHOD@INFILLER allowed."),
    infill: str = typer.Option(defaults.INFILL, help="In-filler for methods without @INFILLER."),
    limit: int | None = typer.Option(None, min=1, help="Evaluate this many images (--seed)."),
    seed: int = typer.Option(0, help="Seed of the --limit sample."),
    estimate: bool = typer.Option(
        False,
        "--estimate",
        help="Queue a benchmark-estimate job instead (a probe on a worker), wait, print it.",
    ),
    wait: bool = typer.Option(False, "--wait", help="Follow progress, then print artifacts."),
    model: "ModelSpec | None" = None,
) -> None:
    """Queue a benchmark run; its rows go to the database's leaderboard (--model: instead of
    the suite's classifier; required by suite folders)."""
    kind = "benchmark-estimate" if estimate else "benchmark"
    spec = {"kind": kind, "suite": suite, "methods": methods, "infill": infill}
    if limit is not None:
        spec.update(limit=limit, seed=seed)
    if model is not None:
        if _job_precision(context, model) is not None:
            raise ParameterError(
                "benchmark jobs run at the worker's GENLENS_PRECISION; for another precision "
                "run `genlens bench saliency --model ... --precision ...` here"
            )
        spec["model"] = _job_model(model)
    _submit([spec], wait or estimate)


@submit_app.command("train")
def submit_train(
    task: str = typer.Argument(..., help="What to train: classifier, infiller, prior, ..."),
    dataset: str = typer.Option(..., "--dataset", help="World, e.g. fmnist or blockfashion."),
    steps: int = typer.Option(defaults.TRAIN_STEPS, help="Optimisation steps."),
    batch_size: int = typer.Option(
        defaults.TRAIN_BATCH_SIZE, "--batch-size", help="Images per step."
    ),
    lr: float = typer.Option(defaults.TRAIN_LR, help="Peak learning rate."),
    seed: int = typer.Option(0, help="Random seed."),
    classifier: str | None = typer.Option(None, help="Registered classifier the task uses."),
    option: list[str] = typer.Option([], "--option", "-o", help="Task option KEY=JSON."),
    eval_size: int = typer.Option(0, "--eval-size", help="Test images for the card (0 = all)."),
    wait: bool = typer.Option(False, "--wait", help="Follow progress, then print artifacts."),
) -> None:
    """Queue a training run (as `genlens train`); weights and card become artifacts."""
    spec = {
        "kind": "train",
        "task": task,
        "dataset": dataset,
        "steps": steps,
        "batch_size": batch_size,
        "lr": lr,
        "seed": seed,
        "classifier": classifier,
        "options": dict(parse_option(item) for item in option),
        "eval_size": eval_size,
    }
    _submit([spec], wait)


@submit_app.command("generate")
def submit_generate(
    image: str = typer.Argument(..., help="File, sample:NAME or WORLD:SPLIT:INDEX."),
    model: str = typer.Option(
        "fmnist-conditional", "--model", "-m", help="Shipped conditional generator."
    ),
    traverse: str = typer.Option(
        listed(defaults.TRAVERSE), help="Principal components to traverse, e.g. 1,2,3."
    ),
    quantiles: str = typer.Option(
        listed(defaults.QUANTILES), help="Training quantiles (percent) per component."
    ),
    target_image: str | None = typer.Option(
        None, "--target-image", help="Render IMAGE with this image's features instead."
    ),
    wait: bool = typer.Option(False, "--wait", help="Follow progress, then print artifacts."),
) -> None:
    """Queue a conditional-generation job (feature traversals or another image's features)."""

    def numbers(text: str, kind: type) -> list:
        return [kind(part.strip().removeprefix("pc")) for part in text.split(",") if part.strip()]

    spec = {
        "kind": "generate",
        "model": model,
        "image": _reference(image),
        "traverse": numbers(traverse, int),
        "quantiles": numbers(quantiles, float),
    }
    if target_image is not None:
        spec["target_image"] = _reference(target_image)
    _submit([spec], wait)


@submit_app.command("sleep")
def submit_sleep(
    steps: int = typer.Option(10, help="Steps."),
    seconds: float = typer.Option(0.1, help="Seconds per step."),
    tag: str = typer.Option("", help="Free text (distinguishes otherwise equal jobs)."),
    wait: bool = typer.Option(False, "--wait", help="Follow progress."),
) -> None:
    """Queue a diagnostic job that waits in steps (checks that a worker is serving)."""
    _submit([{"kind": "sleep", "steps": steps, "seconds": seconds, "tag": tag}], wait)


def _print_result(client: "JobClient", job_id: str) -> None:
    from rich.console import Console

    outcome = client.result(job_id)
    console = Console()
    console.print(
        f"{outcome.status.kind} {job_id}: {outcome.status.status}"
        + (f" ({outcome.status.error})" if outcome.status.error else "")
    )
    if outcome.result:
        console.print_json(data=outcome.result)
    for artifact in outcome.artifacts:
        console.print(f"  {artifact.role:<15} {artifact.path}")
    for child in outcome.children:
        _print_result(client, child)


@app.command("jobs")
def jobs(
    job_id: str | None = typer.Argument(None, help="Show one job in detail."),
    limit: int = typer.Option(20, help="Most recent jobs to list."),
    status: str | None = typer.Option(None, help="Only jobs with this status."),
) -> None:
    """List recent jobs with status, progress and artifact paths (or one job in detail)."""
    from rich.console import Console
    from rich.table import Table

    client = _client()
    try:
        if job_id is not None:
            _print_result(client, job_id)
            return
        table = Table(
            "id", "kind", "status", "progress", "attempts", "message / error", "artifacts"
        )
        for current in client.list(limit=limit, status=status):
            paths = [
                f"{a.role}: {a.path}"
                for a in client.result(current.id).artifacts
                if a.role != "input"
            ]
            table.add_row(
                current.id,
                current.kind,
                current.status,
                f"{current.progress:.0%}",
                str(current.attempts),
                current.error or current.message or "",
                "\n".join(paths),
            )
        Console(width=250).print(table)
    finally:
        client.close()


@app.command("cancel")
def cancel(job_id: str = typer.Argument(..., help="Job (or batch) to cancel.")) -> None:
    """Cancel a job: queued jobs at once, running ones at their next optimisation step."""
    client = _client()
    try:
        current = client.cancel(job_id)
        typer.echo(
            f"{job_id}: {current.status}" + (" (cancel requested)" if not current.done else "")
        )
    finally:
        client.close()
