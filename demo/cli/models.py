"""``genlens models``: list the registered classifiers."""

from rich.console import Console
from rich.table import Table

from genlens.core.models import registered_classifiers
from genlens.demo.cli.app import app


@app.command("models")
def list_models() -> None:
    """List the classifiers that can be loaded by name with --model."""
    table = Table("name", "description")
    for entry in registered_classifiers():
        table.add_row(entry.name, entry.description)
    Console().print(table)
