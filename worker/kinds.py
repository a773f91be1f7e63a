"""The registry of job kinds: a kind name maps to its queue, a spec validator and a runner.

The built-in kinds (explain, visualize, benchmark, train, generate, sleep) are registered by
:mod:`genlens.catalog`; new work plugs in with :func:`register_kind` from its own module, listed
in ``GENLENS_PLUGINS`` so the CLI, the client and every worker import it too.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from genlens.core.errors import ParameterError
from genlens.core.registry import Registry

if TYPE_CHECKING:
    from genlens.worker.context import JobContext, SubmitContext

QUEUES = ("gpu", "cpu")
HARD_LIMIT_MARGIN = 60
Validator = Callable[[Mapping[str, Any], "SubmitContext"], dict[str, Any]]
Runner = Callable[["JobContext", dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class JobKind:
    """A kind of job.

    Attributes:
        name: the ``kind`` of a spec, e.g. ``"explain"``.
        queue: ``"gpu"`` (model work) or ``"cpu"`` (light work).
        validate: ``validate(spec_without_kind, submit_context) -> parameters``; runs in the
            submitting process, raises :class:`~genlens.core.errors.GenlensError` for bad specs and
            returns canonical JSON parameters (defaults filled in, uploads replaced by
            ``artifact:<sha256>``) whose hash is the job's idempotency key.
        run: ``run(job_context, parameters) -> result``; runs in a worker process, reports
            progress through ``job_context.progress`` (which raises when cancelled) and returns
            a small JSON dict; files go through ``job_context.save``.
        description: one line for help texts.
        time_limit: soft time limit in seconds for jobs of this kind (``None``: the settings'
            ``soft_time_limit``); the hard limit is ``HARD_LIMIT_MARGIN`` seconds later.
    """

    name: str
    queue: str
    validate: Validator
    run: Runner
    description: str = ""
    time_limit: int | None = None

    def send_options(self) -> dict[str, Any]:
        """Keyword arguments of Celery's ``send_task`` for a job of this kind."""
        if self.time_limit is None:
            return {"queue": self.queue}
        return {
            "queue": self.queue,
            "soft_time_limit": self.time_limit,
            "time_limit": self.time_limit + HARD_LIMIT_MARGIN,
        }


KINDS: Registry[JobKind] = Registry("job kind", replace=True)


def register_kind(kind: JobKind) -> None:
    """Register ``kind`` under its name; re-registering a name replaces it."""
    if kind.queue not in QUEUES:
        raise ParameterError(f"job kind {kind.name!r}: queue must be one of {QUEUES}")
    KINDS.register(kind.name, kind)


def get_kind(name: str) -> JobKind:
    """The kind called ``name``; unknown names raise :class:`ParameterError` listing the known."""
    return KINDS.get(name)


def kind_names() -> list[str]:
    """Registered kind names, sorted."""
    return KINDS.names()


def check_keys(kind: str, spec: Mapping[str, Any], allowed: set[str]) -> None:
    """Raise :class:`ParameterError` for keys of ``spec`` outside ``allowed``."""
    unknown = sorted(set(spec) - allowed)
    if unknown:
        raise ParameterError(
            f"{kind} job: unknown field(s) {unknown}; valid: {', '.join(sorted(allowed))}"
        )
