"""``genlens`` command line. Each module listed here registers its commands on ``app``."""

from demo.cli import bench, classify, explain, models, service_commands, train, visualize  # noqa: F401  (command registration)
from demo.cli.app import app, main

__all__ = ["app", "main"]
