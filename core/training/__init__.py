"""One training pattern for every model genlens ships (classifiers, in-fillers, priors).

>>> from genlens.core.training import TrainConfig, train
>>> result = train(TrainConfig("classifier", "fmnist", "runs/fmnist-cnn", steps=2000))
"""

from genlens.core.training import conditional_task as _conditional_task  # noqa: F401  (registers it)
from genlens.core.training.config import TrainConfig
from genlens.core.training.tasks import TASKS, task_factory
from genlens.core.training.trainer import (
    StepCallback,
    Trainer,
    TrainResult,
    TrainTask,
    autocast,
    lr_scale,
)


def train(
    config: TrainConfig,
    resume: bool = False,
    on_step: StepCallback | None = None,
    command: str | None = None,
) -> TrainResult:
    """Train the model ``config.kind`` on ``config.dataset``; see :class:`Trainer`."""
    return Trainer(config, task_factory(config.kind), command).fit(resume, on_step)


__all__ = [
    "TASKS",
    "StepCallback",
    "TrainConfig",
    "TrainResult",
    "TrainTask",
    "Trainer",
    "autocast",
    "lr_scale",
    "task_factory",
    "train",
]
