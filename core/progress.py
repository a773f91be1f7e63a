"""Progress reporting shared by every long-running core function.

A progress callback is called as ``progress(done, total)`` after each optimization step (or
each chunk of work). It may raise to stop the work cooperatively, e.g. a worker's cancel flag.
"""

from collections.abc import Callable

ProgressCallback = Callable[[int, int], None]


def no_progress(done: int, total: int) -> None:
    """The default callback: report nothing."""
