"""Plugin modules for tests, imported through ``GENLENS_PLUGINS`` exactly as
docs/extending.md describes (``tests/`` on ``PYTHONPATH``)."""
