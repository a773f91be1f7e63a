"""Training precision: bf16 runs the zoo's classifier task with CPU autocast and channels_last
weights, resumes from its own checkpoint, and is recorded in the card's command; fp32 (the
default) keeps the identity checkpoints were written with."""

from pathlib import Path

import pytest
import torch

from genlens.core.errors import ParameterError
from genlens.core.training import TrainConfig, Trainer
from genlens.core.training.tasks import task_factory
from genlens.core.training.trainer import autocast


def _config(out: Path, **changes) -> TrainConfig:
    settings = dict(
        kind="classifier",
        dataset="fmnist",
        out=out,
        steps=6,
        batch_size=16,
        sample_every=0,
        checkpoint_every=3,
        eval_size=32,
        threads=1,
        precision="bf16",
    )
    return TrainConfig(**{**settings, **changes})


def test_bf16_training_runs_resumes_and_is_recorded(tmp_path: Path) -> None:
    assert autocast(torch.device("cpu"), "bf16").fast_dtype == torch.bfloat16
    tasks = task_factory("classifier")
    first = Trainer(_config(tmp_path / "run"), tasks).fit(until=3)
    assert (first.step, first.finished) == (3, False)
    resumed = Trainer(_config(tmp_path / "run"), tasks).fit(resume=True)  # bf16 checkpoint
    assert resumed.finished and resumed.step == 6
    assert 0 <= resumed.metrics["test_accuracy"] <= 1
    card = (tmp_path / "run" / "card.json").read_text()
    assert "--precision bf16" in card


def test_precision_is_checked_and_fp32_keeps_the_old_identity(tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match="precision must be one of fp32, bf16"):
        _config(tmp_path, precision="fp16")
    fp32 = _config(tmp_path, precision="fp32")
    assert "precision" not in fp32.identity() and "--precision" not in fp32.command()
    assert _config(tmp_path).identity()["precision"] == "bf16"
