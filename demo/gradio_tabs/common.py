"""Helpers shared by the Gradio tabs: user errors as ``gr.Error``, the session's job list and
progress reporting from job rows."""

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import gradio as gr

from genlens.core.errors import GenlensError
from genlens.worker.client import JobStatus

Handler = TypeVar("Handler", bound=Callable[..., Any])
UPLOAD_TYPES = [".png", ".jpg", ".jpeg", ".webp"]


def user_errors(handler: Handler) -> Handler:
    """Show :class:`GenlensError` messages (bad uploads, bad parameters, failed jobs) in the
    page as ``gr.Error``; other exceptions stay server-side errors."""

    @functools.wraps(handler)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            return handler(*args, **kwargs)
        except GenlensError as exc:
            raise gr.Error(str(exc), print_exception=False) from exc

    return wrapped  # type: ignore[return-value]


def remember(my_jobs: list[str] | None, job_id: str) -> list[str]:
    """The session's job ids with ``job_id`` first (no duplicates)."""
    return [job_id, *[known for known in my_jobs or [] if known != job_id]]


def reporter(progress: gr.Progress) -> Callable[[JobStatus], None]:
    """A :func:`genlens.demo.jobs.follow` callback that moves the Gradio progress bar."""

    def report(current: JobStatus) -> None:
        progress(current.progress, desc=f"{current.status}: {current.message or ''}")

    return report
