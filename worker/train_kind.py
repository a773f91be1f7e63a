"""The ``train`` job kind: ``genlens train`` as a queued job (classifier, in-filler, prior, ...).

Each job trains in a folder of its own under ``<data_dir>/runs/<job id>`` and always resumes
from the checkpoint there, so a job re-delivered after a lost worker continues where it stopped
instead of starting over; cancelling stops it at the next step. The weights, model card,
metrics log and the last sample grid become the job's artifacts.
"""

import json
from collections.abc import Mapping
from typing import Any

import torch

from genlens.core.errors import ParameterError
from genlens.core.generative import get_world
from genlens.core.models.registry import is_registered
from genlens.core.params import check_seed
from genlens.core.training import TASKS, TrainConfig, train
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
MAX_STEPS = 1_000_000
MAX_BATCH = 4096


def _integer(spec: Mapping[str, Any], name: str, default: int, low: int, high: int) -> int:
    value = spec.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ParameterError(f"{name} must be an integer in [{low}, {high}], got {value!r}")
    return value


def validate_train(spec: Mapping[str, Any], context: SubmitContext) -> dict[str, Any]:
    """Parameters of a ``train`` job, as the ``genlens train`` options: ``task`` (what to train:
    classifier, infiller, prior, ...), ``dataset`` (world), ``steps``, ``batch_size``, ``lr``,
    ``seed``, ``classifier`` (registered name, for tasks that use one), ``options`` (task
    options, JSON object) and ``eval_size`` (test images for the card's metrics, 0 = all)."""
    check_keys("train", spec, FIELDS)
    task = spec.get("task")
    if task not in TASKS:
        raise ParameterError(f"unknown training task {task!r}; choose from {', '.join(TASKS)}")
    dataset = get_world(spec.get("dataset", "")).name
    classifier = spec.get("classifier")
    if classifier is not None and (
        not isinstance(classifier, str) or not is_registered(classifier)
    ):
        raise ParameterError(f"classifier must be a registered model name, got {classifier!r}")
    options = spec.get("options") or {}
    if not isinstance(options, dict):
        raise ParameterError(f"options must be a JSON object, got {options!r}")
    lr = spec.get("lr", 2e-3)
    if isinstance(lr, bool) or not isinstance(lr, int | float) or not 0 < lr <= 1:
        raise ParameterError(f"lr must be a number in (0, 1], got {lr!r}")
    return {
        "task": task,
        "dataset": dataset,
        "steps": _integer(spec, "steps", 2000, 1, MAX_STEPS),
        "batch_size": _integer(spec, "batch_size", 128, 1, MAX_BATCH),
        "lr": float(lr),
        "seed": check_seed(spec.get("seed", 0)),
        "classifier": classifier,
        "options": json.loads(json.dumps(options)),
        "eval_size": _integer(spec, "eval_size", 0, 0, 10_000_000),
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
