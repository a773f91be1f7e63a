"""The trainer: checkpoint + resume continues exactly like an uninterrupted run."""

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from torch import nn

from genlens.core.errors import ModelLoadError
from genlens.core.training import TrainConfig, Trainer, TrainTask, lr_scale


class TinyTask(TrainTask):
    """A two-layer regression net with dropout on fixed random data (uses both RNG sources)."""

    def __init__(self, config: TrainConfig, device: torch.device):
        data = torch.Generator().manual_seed(99)
        self.inputs = torch.rand(40, 1, 4, 4, generator=data)
        self.targets = self.inputs.flatten(1).sum(1, keepdim=True)
        self.net = nn.Sequential(
            nn.Flatten(),
            nn.Linear(16, 8),
            nn.BatchNorm1d(8),
            nn.ReLU(),
            nn.Dropout(0.3),
            nn.Linear(8, 1),
        ).to(device)
        self.modules = {"net": self.net}
        self.optimizers = {"net": torch.optim.Adam(self.net.parameters(), lr=config.lr)}
        self.export = "net"
        self.train_arrays = (self.inputs, self.targets)

    def step(self, batch, generator):
        inputs, targets = batch
        noisy = inputs + 0.01 * torch.randn(inputs.shape, generator=generator)
        loss = (self.net(noisy) - targets).pow(2).mean()
        self.optimizers["net"].zero_grad()
        loss.backward()
        self.optimizers["net"].step()
        return {"loss": loss.item()}

    def samples(self):
        return self.inputs[:4]

    def evaluate(self):
        return {"mse": float((self.net(self.inputs) - self.targets).pow(2).mean())}

    def describe(self):
        return {"world": "tiny"}


def _config(out: Path, **changes) -> TrainConfig:
    settings = dict(
        kind="classifier",
        dataset="tiny",
        out=out,
        steps=12,
        batch_size=8,
        lr=1e-2,
        seed=3,
        sample_every=5,
        checkpoint_every=4,
        device="cpu",
        threads=1,
    )
    return TrainConfig(**{**settings, **changes})


def _weights(out: Path) -> dict[str, torch.Tensor]:
    return load_file(str(out / "model.safetensors"))


def test_resume_continues_identically(tmp_path):
    straight = Trainer(_config(tmp_path / "a"), TinyTask, command="test").fit()
    assert straight.finished and straight.step == 12
    first = Trainer(_config(tmp_path / "b"), TinyTask, command="test").fit(until=6)
    assert not first.finished and not (tmp_path / "b" / "card.json").exists()
    resumed = Trainer(_config(tmp_path / "b"), TinyTask, command="test").fit(resume=True)
    assert resumed.finished
    a, b = _weights(tmp_path / "a"), _weights(tmp_path / "b")
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    log_a = (tmp_path / "a" / "metrics.jsonl").read_text()
    log_b = (tmp_path / "b" / "metrics.jsonl").read_text()
    assert log_a == log_b


def test_graceful_stop_checkpoints_and_resumes(tmp_path):
    trainer = Trainer(_config(tmp_path / "run"), TinyTask, command="test")

    def stop_at_five(done: int, total: int, losses: dict[str, float]) -> None:
        assert total == 12 and "loss" in losses
        if done == 5:
            trainer._stop_requested = True  # what the SIGINT handler does

    stopped = trainer.fit(on_step=stop_at_five)
    assert (stopped.step, stopped.finished) == (5, False)
    state = json.loads((tmp_path / "run" / "checkpoint" / "state.json").read_text())
    assert state["step"] == 5
    Trainer(_config(tmp_path / "run"), TinyTask, command="test").fit(resume=True)
    Trainer(_config(tmp_path / "ref"), TinyTask, command="test").fit()
    for key, value in _weights(tmp_path / "ref").items():
        assert torch.equal(value, _weights(tmp_path / "run")[key])


def test_outputs_and_card(tmp_path):
    out = tmp_path / "run"
    Trainer(_config(out), TinyTask, command="genlens train x").fit()
    card = json.loads((out / "card.json").read_text())
    assert card["seed"] == 3 and card["command"] == "genlens train x"
    assert card["data_hash"].startswith("sha256:") and card["wall_time_s"] >= 0
    assert set(card["metrics"]) == {"mse"} and card["genlens_version"]
    assert sorted(p.name for p in (out / "samples").glob("*.png")) == [
        "step_000005.png",
        "step_000010.png",
        "step_000012.png",
    ]
    lines = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert lines[-1] == {"final": card["metrics"]}


def test_resume_refuses_other_config(tmp_path):
    Trainer(_config(tmp_path / "run"), TinyTask, command="test").fit(until=4)
    with pytest.raises(ModelLoadError, match="another configuration"):
        Trainer(_config(tmp_path / "run", lr=5e-3), TinyTask, command="test").fit(resume=True)


def test_lr_schedule_warms_up_and_decays():
    values = [lr_scale(step, 100) for step in range(100)]
    assert values[0] == pytest.approx(0.2) and max(values) == pytest.approx(1.0)
    assert values[-1] < 0.01 and values == sorted(values[:5]) + values[5:]
