"""Celery tasks: one thin task per queue; all logic is in :func:`genlens.worker.execute.execute`."""

from celery import shared_task

from genlens.worker.celery_config import TASK_CPU, TASK_GPU
from genlens.worker.context import get_runtime, process_identity
from genlens.worker.execute import execute


def _run(job_id: str) -> str:
    return execute(get_runtime(), job_id, process_identity())


run_gpu_job = shared_task(name=TASK_GPU, acks_late=True, reject_on_worker_lost=True)(_run)
run_cpu_job = shared_task(name=TASK_CPU, acks_late=True, reject_on_worker_lost=True)(_run)
