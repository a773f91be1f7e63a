"""``genlens models``: every registered name, without importing any model."""

import typer
from rich.console import Console
from rich.table import Table

from genlens.core.registries import CLASSIFIERS, INFILLERS, METHODS, PRIORS
from genlens.core.registry import Registry
from genlens.demo.cli.app import app
from genlens.evaluation.registries import METRICS, SUITES
from genlens.worker.kinds import KINDS

FAMILIES: dict[str, Registry] = {
    "methods": METHODS,
    "infillers": INFILLERS,
    "priors": PRIORS,
    "metrics": METRICS,
    "suites": SUITES,
    "kinds": KINDS,
}


@app.command("models")
def list_models(
    everything: bool = typer.Option(
        False, "--all", help="Also list saliency methods, in-fillers, priors, metrics, suites."
    ),
) -> None:
    """List the classifiers that load by name with --model (and, with --all, every registry)."""
    table = Table("name", "description", title="classifiers")
    for name in CLASSIFIERS.names():
        table.add_row(name, CLASSIFIERS.get(name).description)
    console = Console()
    console.print(table)
    if everything:
        for family, registry in FAMILIES.items():
            console.print(f"[bold]{family}[/bold]: {', '.join(registry.names(sort=False))}")
