"""Configuration of one training run."""

import json
import shlex
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from genlens.core import defaults
from genlens.core.errors import ParameterError
from genlens.core.params import Param, check_precision, check_seed, resolve_params

LIMITS: dict[str, Param] = {
    "steps": Param(defaults.TRAIN_STEPS, low=1, high=1_000_000, doc="optimisation steps"),
    "batch_size": Param(defaults.TRAIN_BATCH_SIZE, low=1, high=4096, doc="images per step"),
    "lr": Param(defaults.TRAIN_LR, high=1.0, positive=True, doc="peak learning rate"),
    "sample_every": Param(500, low=0, high=10_000_000, doc="steps between sample grids"),
    "checkpoint_every": Param(250, low=1, high=10_000_000, doc="steps between checkpoints"),
    "eval_size": Param(0, low=0, high=10_000_000, doc="test images for the card (0 = all)"),
    "threads": Param(2, low=1, high=1024, doc="CPU threads"),
}
"""The declared numeric settings of a run (defaults and ranges), checked by :class:`TrainConfig`."""


@dataclass
class TrainConfig:
    """Everything that determines a training run (same config + seed -> same weights).

    Attributes:
        kind: what is trained: ``"classifier"``, ``"infiller"`` or ``"prior"``.
        dataset: the world: ``"fmnist"`` (Fashion-MNIST, 32x32), ``"blockfashion"`` (64x64),
            ``"oracle-blocks"`` (32x32) or ``"faces"`` (64x64 RGB).
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
        precision: ``"fp32"`` (default; bitwise-reproducible on CPU) or ``"bf16"`` (autocast
            on CPU too, networks in channels_last; faster on AMX CPUs, not bitwise stable).
    """

    kind: str
    dataset: str
    out: Path
    steps: int
    batch_size: int = defaults.TRAIN_BATCH_SIZE
    lr: float = defaults.TRAIN_LR
    seed: int = 0
    classifier: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    sample_every: int = 500
    checkpoint_every: int = 250
    eval_size: int = 0
    device: str = "auto"
    threads: int = 2
    precision: str = defaults.PRECISION

    def __post_init__(self) -> None:
        """Check every setting (the one declaration the CLI and the train job go through)."""
        self.out = Path(self.out)
        if not isinstance(self.kind, str) or not self.kind:
            raise ParameterError(f"training task must be a name, got {self.kind!r}")
        given = {name: getattr(self, name) for name in LIMITS}
        for name, value in resolve_params("train", LIMITS, given).items():
            setattr(self, name, value)
        self.seed = check_seed(self.seed)
        if self.classifier is not None and (
            not isinstance(self.classifier, str) or not self.classifier
        ):
            raise ParameterError(f"classifier must be a name or folder, got {self.classifier!r}")
        if not isinstance(self.options, dict):
            raise ParameterError(f"options must be a JSON object, got {self.options!r}")
        check_precision(self.precision)

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
        if self.precision != defaults.PRECISION:
            words += ["--precision", self.precision]
        return shlex.join(words)

    def identity(self) -> dict[str, Any]:
        """The fields that must match for a checkpoint to be resumed under this config."""
        data = self.to_json()
        for free in ("out", "sample_every", "checkpoint_every", "device", "threads"):
            data.pop(free)
        if data["precision"] == defaults.PRECISION:
            data.pop("precision")  # checkpoints written before the field existed are fp32
        return data
