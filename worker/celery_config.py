"""Celery configuration from :class:`~genlens.worker.settings.Settings` (service.md §1.1).

JSON only; late acks + reject on worker loss (the job row counts attempts); prefetch 1;
soft/hard time limits below the broker's visibility timeout; ``gpu`` and ``cpu`` queues.
Building a config has no side effects beyond creating the filesystem broker's folders.
"""

from typing import Any

from celery import Celery

from genlens.core.plugins import import_plugins
from genlens.worker import filesystem_broker
from genlens.worker.settings import Settings

TASK_GPU = "genlens.tasks.gpu.run_job"
TASK_CPU = "genlens.tasks.cpu.run_job"
QUEUE_TASKS = {"gpu": TASK_GPU, "cpu": TASK_CPU}


def filesystem_options(settings: Settings) -> dict[str, Any]:
    """Transport options of the filesystem broker; creates its folders (producer and worker
    must share them) and makes this process write whole message files
    (:mod:`genlens.worker.filesystem_broker`)."""
    filesystem_broker.install()
    queue = settings.broker_folder / "queue"
    control = settings.broker_folder / "control"
    for folder in (queue, control):
        folder.mkdir(parents=True, exist_ok=True)
    return {
        "data_folder_in": str(queue),
        "data_folder_out": str(queue),
        "control_folder": str(control),
        "polling_interval": settings.polling_interval,
    }


def redis_options(settings: Settings) -> dict[str, Any]:
    """Transport options of the Redis broker: redelivery only after the hard time limit."""
    return {"visibility_timeout": settings.visibility_timeout}


TRANSPORT_OPTIONS = {
    "filesystem": filesystem_options,
    "redis": redis_options,
    "rediss": redis_options,
}


def celery_config(settings: Settings) -> dict[str, Any]:
    """The Celery configuration for ``settings``."""
    scheme = settings.broker.partition("://")[0]
    options = TRANSPORT_OPTIONS.get(scheme, redis_options)(settings)
    config: dict[str, Any] = {
        "broker_url": settings.broker,
        "broker_transport_options": options,
        "broker_connection_retry_on_startup": True,
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "task_default_queue": "cpu",
        "task_routes": {
            "genlens.tasks.gpu.*": {"queue": "gpu"},
            "genlens.tasks.cpu.*": {"queue": "cpu"},
        },
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_soft_time_limit": settings.soft_time_limit,
        "task_time_limit": settings.time_limit,
        "visibility_timeout": settings.visibility_timeout,
        "worker_proc_alive_timeout": settings.proc_alive_timeout,
        "worker_lost_wait": 2.0,  # a lost child's job is re-queued after 2 s, not 10 s
        "worker_cancel_long_running_tasks_on_connection_loss": True,
        "worker_send_task_events": True,
        "task_send_sent_event": True,
        "worker_soft_shutdown_timeout": 30.0,
        "worker_hijack_root_logger": False,
        "task_ignore_result": settings.result_backend is None,
    }
    if settings.result_backend:
        config.update(
            result_backend=settings.result_backend,
            result_backend_transport_options={"visibility_timeout": settings.visibility_timeout},
            result_extended=True,
            result_expires=7 * 24 * 3600,
            task_track_started=True,
        )
    return config


def create_app(settings: Settings) -> Celery:
    """A Celery app for ``settings`` with the job tasks and the plugins' kinds registered."""
    import_plugins(settings.plugins)
    celery = Celery("genlens", include=["genlens.worker.tasks"])
    celery.conf.update(celery_config(settings))
    return celery
