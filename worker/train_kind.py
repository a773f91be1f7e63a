"""The ``train`` job kind: ``genlens train`` as a queued job (classifier, in-filler, prior, ...).

Each job trains in a folder of its own under ``<data_dir>/runs/<job id>`` and always resumes
from the checkpoint there, so a job re-delivered after a lost worker continues where it stopped
instead of starting over; cancelling stops it at the next step. The weights, model card,
metrics log and the last sample grid become the job's artifacts.
"""

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from genlens.core.errors import ParameterError
from genlens.core.generative import get_world
from genlens.core.models.registry import is_registered
from genlens.core.training import TASKS, TrainConfig, train
from genlens.core.training.config import LIMITS
from genlens.core.training.trainer import TrainResult
from genlens.worker.context import JobContext, SubmitContext
from genlens.worker.kinds import JobKind, check_keys

FIELDS = {
    "task",
    "dataset",
    "steps",
    "batch_size",
    "lr",
    "seed",
    "classifier",
    "options",
    "eval_size",
}


def validate_train(spec: Mapping[str, Any], context: SubmitContext) -> dict[str, Any]:
    """Parameters of a ``train`` job, as the ``genlens train`` options: ``task`` (what to train:
    classifier, infiller, prior, ...), ``dataset`` (world), ``steps``, ``batch_size``, ``lr``,
    ``seed``, ``classifier`` (registered name, for tasks that use one), ``options`` (task
    options, JSON object) and ``eval_size`` (test images for the card's metrics, 0 = all)."""
    check_keys("train", spec, FIELDS)
    task = spec.get("task")
    if task not in TASKS:
        raise ParameterError(f"unknown training task {task!r}; choose from {', '.join(TASKS)}")
    classifier = spec.get("classifier")
    if classifier is not None and (
        not isinstance(classifier, str) or not is_registered(classifier)
    ):
        raise ParameterError(f"classifier must be a registered model name, got {classifier!r}")
    config = TrainConfig(
        kind=task,
        dataset=get_world(spec.get("dataset", "")).name,
        out=Path(),
        steps=spec.get("steps", LIMITS["steps"].default),
        batch_size=spec.get("batch_size", LIMITS["batch_size"].default),
        lr=spec.get("lr", LIMITS["lr"].default),
        seed=spec.get("seed", 0),
        classifier=classifier,
        options=spec.get("options") or {},
        eval_size=spec.get("eval_size", LIMITS["eval_size"].default),
    )
    return {
        "task": config.kind,
        "dataset": config.dataset,
        "steps": config.steps,
        "batch_size": config.batch_size,
        "lr": config.lr,
        "seed": config.seed,
        "classifier": config.classifier,
        "options": json.loads(json.dumps(config.options)),
        "eval_size": config.eval_size,
    }


def run_train(context: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    """Train (resuming this job's own checkpoint); artifacts: weights, card, log, samples."""
    settings = context.settings
    config = TrainConfig(
        kind=params["task"],
        dataset=params["dataset"],
        out=settings.root / "runs" / context.job_id,
        steps=params["steps"],
        batch_size=params["batch_size"],
        lr=params["lr"],
        seed=params["seed"],
        classifier=params["classifier"],
        options=params["options"],
        eval_size=params["eval_size"],
        device=settings.device,
        threads=settings.torch_threads or torch.get_num_threads(),
    )
    result = train(
        config, resume=True, on_step=lambda done, total, _: context.progress(done, total)
    )
    if not result.finished:
        raise ParameterError(f"training stopped at step {result.step} of {config.steps}")
    _save_outputs(context, result)
    return {
        "metrics": result.metrics,
        "wall_time_s": round(result.wall_time_s, 1),
        "run_dir": str(result.out),
        "command": config.command(),
    }


def _save_outputs(context: JobContext, result: TrainResult) -> None:
    out = result.out
    context.save(
        "checkpoint",
        "model.safetensors",
        (out / "model.safetensors").read_bytes(),
        "application/octet-stream",
    )
    context.save("card", "card.json", (out / "card.json").read_bytes(), "application/json")
    context.save("log", "metrics.jsonl", (out / "metrics.jsonl").read_bytes(), "application/jsonl")
    grids = sorted((out / "samples").glob("*.png"))
    if grids:
        context.save("grid", grids[-1].name, grids[-1].read_bytes(), "image/png")


TRAIN_KIND = JobKind(
    "train",
    "gpu",
    validate_train,
    run_train,
    "train a model of a world (classifier, in-filler, generator prior, ...)",
    time_limit=8 * 3600,
)
