"""The ``genlens`` Typer application; command modules attach themselves with ``@app.command``."""

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import typer
from tqdm import tqdm

from genlens.core.errors import GenlensError
from genlens.core.plugins import import_plugins
from genlens.core.progress import ProgressCallback
from genlens.worker.settings import Settings

app = typer.Typer(
    name="genlens",
    help="Show what an image classifier has learned: classify, explain and visualize.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def load_plugins() -> None:
    """Import the modules listed in ``GENLENS_PLUGINS`` before the command modules build their
    help texts, so plugin methods, metrics, suites and job kinds work in every command."""
    try:
        import_plugins(Settings().plugins)
    except GenlensError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)


load_plugins()


@contextmanager
def progress_bar(description: str) -> Iterator[ProgressCallback]:
    """A tqdm bar on stderr exposed as a :data:`ProgressCallback`."""
    bar = tqdm(desc=description, unit="step", file=sys.stderr, dynamic_ncols=True)

    def update(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    try:
        yield update
    finally:
        bar.close()


def listed(values: tuple[float, ...], prefix: str = "") -> str:
    """A default tuple as a comma-separated option value (``(1, 2)`` -> ``"1,2"``)."""
    return ",".join(f"{prefix}{value:g}" for value in values)


def main() -> None:
    """Console-script entry point: user errors become one line on stderr and exit code 2."""
    try:
        app()
    except GenlensError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
