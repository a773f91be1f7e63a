"""The worker's Celery application (built from the environment's settings) and its signal
handlers. Importing this module builds the app; clients use :mod:`genlens.worker.celery_config`.
Start a worker with ``genlens worker`` (or ``celery -A genlens.worker.celery_app worker``).
"""

import logging
import threading
import time
from typing import Any

import torch
from celery.signals import task_failure, worker_process_init, worker_ready

from genlens.worker.celery_config import QUEUE_TASKS, create_app
from genlens.worker.context import get_runtime
from genlens.worker.execute import fail_if_unfinished, recover_orphans
from genlens.worker.kinds import get_kind
from genlens.worker.settings import get_settings

app = create_app(get_settings())
log = logging.getLogger(__name__)


@worker_process_init.connect
def _init_process(**_: Any) -> None:
    """In each new worker child: fresh DB connections, then warm the model cache."""
    runtime = get_runtime()
    runtime.after_fork()
    if runtime.settings.torch_threads:
        torch.set_num_threads(runtime.settings.torch_threads)
    for name in runtime.settings.preload_models:
        runtime.classifier(name)


@worker_ready.connect
def _recover(**_: Any) -> None:
    """When a worker starts, re-queue jobs whose previous worker was killed; then keep checking
    every ``orphan_check_interval`` seconds from a daemon thread of the main process (another
    worker may die while this one runs)."""
    runtime = get_runtime()
    recover_orphans(runtime, enqueue)
    interval = runtime.settings.orphan_check_interval
    if interval > 0:
        threading.Thread(target=_keep_recovering, args=(interval,), daemon=True).start()


def _keep_recovering(interval: float) -> None:
    while True:
        time.sleep(interval)
        try:
            recover_orphans(get_runtime(), enqueue)
        except Exception:  # a database or broker hiccup must not end the loop
            log.exception("orphan check failed; retrying in %.0f s", interval)


@task_failure.connect
def _hard_failure(
    sender: Any = None, task_id: str | None = None, exception: Any = None, **_: Any
) -> None:
    """A hard time limit (or a worker loss that was not re-queued) ends the job as failed."""
    if getattr(sender, "name", None) in QUEUE_TASKS.values() and task_id:
        fail_if_unfinished(get_runtime(), task_id, f"{type(exception).__name__}: {exception}")


def enqueue(job_id: str, kind_name: str) -> None:
    """Send the job's task (task id = job id) to its kind's queue, with its time limits."""
    kind = get_kind(kind_name)
    app.send_task(QUEUE_TASKS[kind.queue], args=[job_id], task_id=job_id, **kind.send_options())
