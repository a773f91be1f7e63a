"""The one training loop every genlens model uses.

A :class:`TrainTask` owns the networks, optimisers and losses; the :class:`Trainer` owns
everything around them: seeding, data order, the learning-rate schedule, AMP on CUDA,
resumable checkpoints, metrics log, sample grids, graceful stop on Ctrl-C and the model card.

Determinism: the data order of epoch ``e`` is a permutation drawn from ``seed`` and ``e``,
and every step ``s`` reseeds torch's global RNG and the task's generator from ``seed`` and
``s``. A checkpoint therefore only needs weights, optimiser state and the step counter, and a
resumed run continues exactly like an uninterrupted one.
"""

import json
import math
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torchvision.utils import make_grid

import genlens
from genlens.core import defaults
from genlens.core.data.images import save_png
from genlens.core.device import resolve_device, reuse_freed_memory, warn_if_emulated_bf16
from genlens.core.errors import ParameterError
from genlens.core.training.checkpoint import (
    data_hash,
    load_training_state,
    save_card,
    save_training_state,
    save_weights,
)
from genlens.core.training.config import TrainConfig

StepCallback = Callable[[int, int, dict[str, float]], None]
"""``on_step(done, total, losses)`` after every optimisation step."""

_STEP_SEED_STRIDE = 1_000_003
CHECKPOINT_DIR = "checkpoint"


def autocast(
    device: torch.device, precision: str = defaults.PRECISION
) -> AbstractContextManager[Any]:
    """bfloat16 autocast on CUDA (no loss scaling needed) and, with ``precision="bf16"``, on
    CPU (AMX / AVX-512-BF16); nothing for fp32 on CPU (bitwise-reproducible weights). Warns
    where the device has no native bfloat16 kernels (:func:`warn_if_emulated_bf16`)."""
    if device.type == "cuda" or precision == "bf16":
        warn_if_emulated_bf16(device)
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return nullcontext()


class TrainTask:
    """What is trained and how. Subclasses set the attributes and implement the methods.

    Attributes:
        modules: every network whose weights belong in the checkpoint, by name.
        optimizers: every optimiser, by name; their ``lr`` is the *peak* learning rate and the
            trainer rescales it each step.
        export: the name in ``modules`` of the network shipped as ``model.safetensors``.
        train_arrays: the training data held in memory, tensors sharing their first dimension;
            a batch is the same rows of each.
    """

    modules: dict[str, nn.Module]
    optimizers: dict[str, torch.optim.Optimizer]
    export: str
    train_arrays: tuple[torch.Tensor, ...]

    def step(self, batch: tuple[torch.Tensor, ...], generator: torch.Generator) -> dict[str, float]:
        """One optimisation step on ``batch`` (rows of ``train_arrays``, on the device).

        ``generator`` (on the device) is the only source of randomness the step may use besides
        torch's global RNG (which the trainer reseeds). Returns the losses to log.
        """
        raise NotImplementedError

    def samples(self) -> torch.Tensor:
        """Images (N, C, H, W) in [0, 1] that show progress (a grid is written from them)."""
        raise NotImplementedError

    def evaluate(self) -> dict[str, float]:
        """Final metrics on held-out data (test accuracy, masked L1, agreement...)."""
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        """Card fields specific to the task: ``world``, architecture settings, labels..."""
        raise NotImplementedError


@dataclass
class TrainResult:
    """Outcome of :meth:`Trainer.fit`."""

    step: int
    finished: bool
    metrics: dict[str, float]
    wall_time_s: float
    out: Path


class Trainer:
    """Runs a :class:`TrainTask` under a :class:`TrainConfig`.

    Files written under ``config.out``: ``checkpoint/`` (resumable state), ``metrics.jsonl``
    (one JSON object per logged step and a final ``{"final": ...}`` line), ``samples/*.png``,
    and when finished ``model.safetensors`` + ``card.json``.
    """

    def __init__(
        self,
        config: TrainConfig,
        task_factory: Callable[[TrainConfig, torch.device], TrainTask],
        command: str | None = None,
    ):
        self._created = time.monotonic()
        self.config = config
        self.device = resolve_device(config.device)
        reuse_freed_memory()
        torch.set_num_threads(config.threads)
        torch.manual_seed(config.seed)
        self.task = task_factory(config, self.device)
        if config.precision == "bf16":
            for module in self.task.modules.values():
                module.to(memory_format=torch.channels_last)
        self.command = command if command is not None else config.command()
        self._stop_requested = False

    @property
    def checkpoint_dir(self) -> Path:
        return self.config.out / CHECKPOINT_DIR

    def fit(
        self, resume: bool = False, on_step: StepCallback | None = None, until: int | None = None
    ) -> TrainResult:
        """Train to ``config.steps`` (or stop after step ``until``), then write weights + card.

        Args:
            resume: continue from ``out/checkpoint`` when present (same config identity).
            on_step: progress callback ``(done, total, losses)``.
            until: stop (with a checkpoint, no card) after this step; for tests and budgets.

        Ctrl-C finishes the current step, saves a checkpoint and returns ``finished=False``.
        Wall time counts from the trainer's creation (data loading and setup included) and
        accumulates over resumed runs.
        """
        config = self.config
        config.out.mkdir(parents=True, exist_ok=True)
        start, wall = 0, 0.0
        if resume and (self.checkpoint_dir / "state.json").exists():
            start, wall = load_training_state(self.checkpoint_dir, self.task, config.identity())
        elif not resume and (config.out / "metrics.jsonl").exists():
            (config.out / "metrics.jsonl").unlink()
        self._truncate_log(start)
        last = min(config.steps, until) if until is not None else config.steps
        step, began = start, self._created
        with self._graceful_stop():
            for step in range(start + 1, last + 1):
                losses = self._train_step(step)
                if on_step is not None:
                    on_step(step, config.steps, losses)
                if step % 25 == 0 or step == config.steps:
                    self._log({"step": step, **losses})
                if config.sample_every and step % config.sample_every == 0:
                    self._write_samples(step)
                if self._stop_requested or step % config.checkpoint_every == 0 or step == last:
                    elapsed = wall + time.monotonic() - began
                    save_training_state(
                        self.checkpoint_dir, self.task, step, elapsed, config.identity()
                    )
                if self._stop_requested:
                    break
        wall += time.monotonic() - began
        finished = step >= config.steps
        metrics: dict[str, float] = {}
        if finished:
            metrics = self._finish(wall)
        return TrainResult(step, finished, metrics, wall, config.out)

    def _train_step(self, step: int) -> dict[str, float]:
        config = self.config
        seed = config.seed * _STEP_SEED_STRIDE + step
        torch.manual_seed(seed)
        generator = torch.Generator(device=self.device).manual_seed(seed)
        scale = lr_scale(step - 1, config.steps)
        for optimizer in self.task.optimizers.values():
            for group in optimizer.param_groups:
                group.setdefault("peak_lr", group["lr"])
                group["lr"] = group["peak_lr"] * scale
        for module in self.task.modules.values():
            module.train()
        batch = tuple(array[self._batch_indices(step)] for array in self.task.train_arrays)
        return self.task.step(tuple(t.to(self.device) for t in batch), generator)

    def _batch_indices(self, step: int) -> torch.Tensor:
        """Rows of the training data for ``step`` (1-based): epoch-wise seeded permutations."""
        size, batch = len(self.task.train_arrays[0]), self.config.batch_size
        per_epoch = max(size // batch, 1)
        epoch, position = divmod(step - 1, per_epoch)
        order = torch.randperm(
            size, generator=torch.Generator().manual_seed(self.config.seed + 7919 * epoch)
        )
        return order[position * batch : (position + 1) * batch]

    def _finish(self, wall: float) -> dict[str, float]:
        for module in self.task.modules.values():
            module.eval()
        self._write_samples(self.config.steps)
        with torch.no_grad():
            metrics = self.task.evaluate()
        self._log({"final": metrics})
        export = self.task.modules[self.task.export]
        save_weights(export, self.config.out / "model.safetensors")
        card = {
            "kind": self.config.kind,
            **self.task.describe(),
            "dataset": self.config.dataset,
            "data_hash": data_hash(self.task.train_arrays),
            "seed": self.config.seed,
            "config": self.config.to_json(),
            "metrics": metrics,
            "parameters": sum(p.numel() for p in export.parameters()),
            "genlens_version": genlens.__version__,
            "torch_version": torch.__version__,
            "device": self.device.type,
            "command": self.command,
            "wall_time_s": round(wall, 1),
        }
        save_card(card, self.config.out / "card.json")
        return metrics

    def _write_samples(self, step: int) -> None:
        with torch.no_grad():
            images = self.task.samples().float().clamp(0, 1).cpu()
        grid = make_grid(images, nrow=max(int(math.sqrt(len(images))), 1), padding=1)
        save_png(grid, self.config.out / "samples" / f"step_{step:06d}.png")

    def _log(self, record: dict[str, Any]) -> None:
        with (self.config.out / "metrics.jsonl").open("a") as handle:
            handle.write(json.dumps(record) + "\n")

    def _truncate_log(self, step: int) -> None:
        """Drop log lines written after the checkpoint being resumed (they will be redone)."""
        path = self.config.out / "metrics.jsonl"
        if not path.exists():
            return
        kept = [
            line
            for line in path.read_text().splitlines()
            if line and json.loads(line).get("step", math.inf) <= step
        ]
        path.write_text("".join(line + "\n" for line in kept))

    @contextmanager
    def _graceful_stop(self) -> Iterator[None]:
        """While training, SIGINT asks the loop to stop after the current step."""

        def request_stop(signum: int, frame: object) -> None:
            if self._stop_requested:
                raise KeyboardInterrupt
            self._stop_requested = True

        try:
            previous = signal.signal(signal.SIGINT, request_stop)
        except ValueError:  # not the main thread: no handler, Ctrl-C behaves as usual
            yield
            return
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)


def lr_scale(step: int, total: int, warmup_fraction: float = 0.05) -> float:
    """Learning-rate multiplier in [0, 1] at 0-based ``step`` of ``total``: warm-up, cosine."""
    if total < 1:
        raise ParameterError("total steps must be positive")
    warmup = max(int(total * warmup_fraction), 1)
    if step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(total - warmup, 1)
    return 0.5 * (1.0 + math.cos(math.pi * min(progress, 1.0)))
