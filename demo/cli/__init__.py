"""``genlens`` command line. Each module listed here registers its commands on ``app``."""

from genlens.demo.cli import (  # noqa: F401  (command registration)
    bench,
    classify,
    explain,
    generate,
    models,
    service_commands,
    status,
    train,
    ui,
    visualize,
)
from genlens.demo.cli.app import app, main

__all__ = ["app", "main"]
