"""The worker's Celery application (built from the environment's settings) and its signal
handlers. Importing this module builds the app; clients use :mod:`worker.celery_config`.
Start a worker with ``genlens worker`` (or ``celery -A worker.celery_app worker``).
"""

from typing import Any

import torch
from celery.signals import task_failure, worker_process_init, worker_ready

from worker.celery_config import QUEUE_TASKS, create_app
from worker.context import get_runtime
from worker.execute import fail_if_unfinished, recover_orphans
from worker.settings import get_settings

app = create_app(get_settings())


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
    """When a worker starts, re-queue jobs whose previous worker was killed."""
    recover_orphans(get_runtime(), enqueue)


@task_failure.connect
def _hard_failure(
    sender: Any = None, task_id: str | None = None, exception: Any = None, **_: Any
) -> None:
    """A hard time limit (or a worker loss that was not re-queued) ends the job as failed."""
    if getattr(sender, "name", None) in QUEUE_TASKS.values() and task_id:
        fail_if_unfinished(get_runtime(), task_id, f"{type(exception).__name__}: {exception}")


def enqueue(job_id: str, queue: str) -> None:
    """Send the job's task (task id = job id) to its queue."""
    app.send_task(QUEUE_TASKS[queue], args=[job_id], task_id=job_id, queue=queue)
