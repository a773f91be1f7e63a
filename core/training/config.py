"""Configuration of one training run."""

import json
import shlex
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from genlens.core.errors import ParameterError


@dataclass
class TrainConfig:
    """Everything that determines a training run (same config + seed -> same weights).

    Attributes:
        kind: what is trained: ``"classifier"``, ``"infiller"`` or ``"prior"``.
        dataset: the world: ``"fmnist"`` (Fashion-MNIST, 32x32) or ``"blockfashion"`` (64x64).
        out: output folder (weights, card, checkpoint, metrics, sample grids).
        steps: optimisation steps in total (one step = one batch).
        batch_size: images per step.
        lr: peak learning rate (linear warm-up over 5% of the steps, then cosine decay to 0).
        seed: seeds data order, initialisation and every random draw of every step.
        classifier: the world's classifier (registered name or trained folder); in-fillers use
            it for reporting, priors invert its penultimate features. ``None`` for classifiers.
        options: task-specific settings (e.g. network widths, loss weights).
        sample_every: write a sample grid PNG every this many steps (0 = only at the end).
        checkpoint_every: save a resumable checkpoint every this many steps.
        eval_size: test images used for the final metrics (0 = the whole test split).
        device: ``"auto"`` (CUDA when present), ``"cpu"`` or ``"cuda"``; AMP is used on CUDA.
        threads: CPU threads for torch (``torch.set_num_threads``). On CPU the weights are
            bitwise reproducible only with the same count (it changes reduction order).
    """

    kind: str
    dataset: str
    out: Path
    steps: int
    batch_size: int = 128
    lr: float = 2e-3
    seed: int = 0
    classifier: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    sample_every: int = 500
    checkpoint_every: int = 250
    eval_size: int = 0
    device: str = "auto"
    threads: int = 2

    def __post_init__(self) -> None:
        self.out = Path(self.out)
        if self.steps < 1 or self.batch_size < 1:
            raise ParameterError("steps and batch_size must be positive")
        if self.lr <= 0:
            raise ParameterError("lr must be positive")

    def to_json(self) -> dict[str, Any]:
        """A JSON-serialisable dict (``out`` as a string)."""
        data = asdict(self)
        data["out"] = str(self.out)
        return data

    def command(self) -> str:
        """The ``genlens train`` command line that reproduces this run."""
        words = [
            "genlens",
            "train",
            self.kind,
            "--dataset",
            self.dataset,
            "--out",
            str(self.out),
            "--steps",
            str(self.steps),
            "--batch-size",
            str(self.batch_size),
            "--lr",
            repr(self.lr),
            "--seed",
            str(self.seed),
            "--threads",
            str(self.threads),
        ]
        if self.classifier:
            words += ["--classifier", self.classifier]
        for key, value in self.options.items():
            words += ["-o", f"{key}={json.dumps(value, separators=(',', ':'))}"]
        if self.eval_size:
            words += ["--eval-size", str(self.eval_size)]
        return shlex.join(words)

    def identity(self) -> dict[str, Any]:
        """The fields that must match for a checkpoint to be resumed under this config."""
        data = self.to_json()
        for free in ("out", "sample_every", "checkpoint_every", "device", "threads"):
            data.pop(free)
        return data
