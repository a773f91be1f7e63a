"""The choices the front ends offer in their forms: classifiers, saliency methods, in-fillers,
precisions, conditional generators, sample photos, benchmark suites, and whether a job kind is
available.
Defaults come first where a form preselects them."""

from genlens.core import defaults
from genlens.core.data import sample_names
from genlens.core.registries import CLASSIFIERS, INFILLERS, METHODS
from genlens.core.zoo import zoo_of_kind
from genlens.evaluation.registries import SUITES
from genlens.worker.kinds import KINDS

GENERATE = "generate"
"""The job kind of the conditional generator (optional: a deployment may not register it)."""
ESTIMATE = "benchmark-estimate"
"""The job kind that estimates a benchmark's cost on a worker before it runs."""
SUITE_MODEL = "the suite's own classifier"
"""The model choice of a benchmark form that keeps the suite's classifier."""

WORKER_PRECISION = "worker"
"""The precision choice that leaves a job to the worker's ``GENLENS_PRECISION``."""


def model_choices() -> list[str]:
    """Registered classifier names, the default model first."""
    return sorted(CLASSIFIERS.names(), key=lambda name: (name != defaults.MODEL, name))


def method_choices() -> list[str]:
    """Saliency method names (registry order)."""
    return METHODS.names(sort=False)


def infiller_choices() -> list[str]:
    """In-filler names, the default in-filler first."""
    return sorted(INFILLERS.names(), key=lambda name: (name != defaults.INFILL, name))


def precision_choices() -> list[tuple[str, str]]:
    """(label, value) pairs: the worker's setting first, then each precision of
    :data:`~genlens.core.defaults.PRECISIONS`."""
    notes = {
        "fp32": "exact",
        "bf16": "faster on AMX CPUs and CUDA, slower on AVX2-only CPUs; see README",
    }
    return [("as the worker runs (GENLENS_PRECISION)", WORKER_PRECISION)] + [
        (f"{name} ({notes.get(name, name)})", name) for name in defaults.PRECISIONS
    ]


def generator_choices() -> list[str]:
    """Shipped conditional generators (the models of the ``generate`` kind)."""
    return [model.name for model in zoo_of_kind("conditional")]


def sample_choices() -> list[str]:
    """Shipped photo names, usable as ``sample:NAME``."""
    return sample_names()


def suite_choices() -> list[str]:
    """Benchmark suites (for ``benchmark`` jobs)."""
    return SUITES.names()


def benchmark_model_choices() -> list[str]:
    """A benchmark form's models: :data:`SUITE_MODEL` first, then :func:`model_choices`."""
    return [SUITE_MODEL, *model_choices()]


def benchmark_model(choice: str | None) -> str | None:
    """The ``model`` of a benchmark spec for a :func:`benchmark_model_choices` value."""
    return None if choice in (None, SUITE_MODEL) else choice


def has_kind(name: str) -> bool:
    """Whether job kind ``name`` is registered in this process (workers import the same)."""
    return name in KINDS
