"""Checkpoints and model cards: ``.safetensors`` for tensors, JSON for everything else.

A training checkpoint is two files in one folder:

* ``state.safetensors``: ``module.<name>.<key>`` for every weight/buffer of every module and
  ``optim.<name>.<param index>.<key>`` for every tensor of every optimiser state;
* ``state.json``: step, accumulated wall time, config identity, optimiser param groups and the
  non-tensor optimiser state.

Nothing is pickled, so a checkpoint can be loaded without running code.
"""

import hashlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from genlens.core.errors import ModelLoadError

if TYPE_CHECKING:
    from genlens.core.training.trainer import TrainTask


def save_weights(module: nn.Module, path: Path) -> Path:
    """Write ``module.state_dict()`` as ``.safetensors`` (contiguous CPU copies), atomically."""
    tensors = {key: value.detach().cpu().contiguous() for key, value in module.state_dict().items()}
    return _atomic(path, lambda tmp: save_file(tensors, str(tmp)))


def save_card(card: dict[str, Any], path: Path) -> Path:
    """Write a model card as indented JSON, atomically."""
    return _atomic(path, lambda tmp: tmp.write_text(json.dumps(card, indent=2) + "\n"))


def data_hash(arrays: tuple[torch.Tensor, ...]) -> str:
    """``sha256:<hex>`` of the raw bytes of the training arrays (identifies the data set)."""
    digest = hashlib.sha256()
    for array in arrays:
        digest.update(array.detach().cpu().contiguous().numpy().tobytes())
    return f"sha256:{digest.hexdigest()}"


def save_training_state(
    folder: Path, task: "TrainTask", step: int, wall_time_s: float, identity: dict[str, Any]
) -> None:
    """Checkpoint every module and optimiser of ``task`` after ``step``."""
    tensors: dict[str, torch.Tensor] = {}
    for name, module in task.modules.items():
        for key, value in module.state_dict().items():
            tensors[f"module.{name}.{key}"] = value.detach().cpu().contiguous()
    optimizers: dict[str, Any] = {}
    for name, optimizer in task.optimizers.items():
        state = optimizer.state_dict()
        scalars: dict[str, dict[str, Any]] = {}
        for index, entries in state["state"].items():
            for key, value in entries.items():
                if isinstance(value, torch.Tensor):
                    tensors[f"optim.{name}.{index}.{key}"] = (
                        value.detach().cpu().clone(memory_format=torch.contiguous_format)
                    )
                else:
                    scalars.setdefault(str(index), {})[key] = value
        optimizers[name] = {"param_groups": state["param_groups"], "scalars": scalars}
    meta = {"step": step, "wall_time_s": wall_time_s, "identity": identity, "optim": optimizers}
    folder.mkdir(parents=True, exist_ok=True)
    _atomic(folder / "state.safetensors", lambda tmp: save_file(tensors, str(tmp)))
    _atomic(folder / "state.json", lambda tmp: tmp.write_text(json.dumps(meta, indent=1)))


def load_training_state(
    folder: Path, task: "TrainTask", identity: dict[str, Any]
) -> tuple[int, float]:
    """Restore ``task`` from a checkpoint; returns ``(step, wall_time_s)``.

    Raises :class:`ModelLoadError` when the checkpoint was made under another config.
    """
    meta = json.loads((folder / "state.json").read_text())
    if meta["identity"] != json.loads(json.dumps(identity)):
        raise ModelLoadError(
            f"checkpoint in {folder} was written with another configuration; "
            "start without --resume or use another --out"
        )
    tensors = load_file(str(folder / "state.safetensors"), device="cpu")
    for name, module in task.modules.items():
        prefix = f"module.{name}."
        module.load_state_dict(
            {key[len(prefix) :]: value for key, value in tensors.items() if key.startswith(prefix)}
        )
    for name, optimizer in task.optimizers.items():
        saved = meta["optim"][name]
        state: dict[int, dict[str, Any]] = {}
        prefix = f"optim.{name}."
        for key, value in tensors.items():
            if key.startswith(prefix):
                index, entry = key[len(prefix) :].split(".", 1)
                state.setdefault(int(index), {})[entry] = value
        for index, entries in saved["scalars"].items():
            state.setdefault(int(index), {}).update(entries)
        optimizer.load_state_dict({"state": state, "param_groups": saved["param_groups"]})
    return int(meta["step"]), float(meta["wall_time_s"])


def _atomic(path: Path, write: Any) -> Path:
    """Call ``write(tmp_path)`` then rename over ``path`` so readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    write(tmp)
    os.replace(tmp, path)
    return path
