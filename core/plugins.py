"""Plugin modules: importing one registers its saliency methods, in-fillers, priors, models,
metrics, suites or job kinds through the ordinary ``register_*`` functions.

Deployments name them in ``GENLENS_PLUGINS`` (a JSON list of module names, see
:class:`genlens.worker.settings.Settings`); the CLI, the job client and every worker import them at
start-up, so a registered name works the same everywhere.
"""

import importlib
from collections.abc import Iterable

from genlens.core.errors import ParameterError


def import_plugins(modules: Iterable[str]) -> None:
    """Import each module once (Python caches modules, so repeated calls are no-ops).

    Raises:
        ParameterError: a module cannot be found or fails while importing.
    """
    for module in modules:
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise ParameterError(f"plugin module {module!r} cannot be imported: {exc}") from exc
