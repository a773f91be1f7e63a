"""Safe loading of user-supplied weight files.

Accepted:
* ``.safetensors`` — plain tensors, never code.
* ``.pt`` / ``.pth`` / ``.bin`` — loaded with ``torch.load(weights_only=True)``, which refuses
  any pickle that references code (a crafted pickle is rejected, never executed).
* TorchScript archives — they contain code, so only with ``trust_code=True``.

Everything else (``.pkl``, ``.ckpt`` of unknown layout, random bytes) is refused with a message
that names the file and the reason.
"""

import pickle
import zipfile
from collections.abc import Mapping
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file

from genlens.core.errors import ModelLoadError

STATE_DICT_SUFFIXES = (".pt", ".pth", ".bin")
_NESTED_KEYS = ("state_dict", "model_state_dict", "model", "net")


def is_torchscript(path: Path) -> bool:
    """True when ``path`` is a TorchScript archive (a zip holding a ``code/`` folder)."""
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as archive:
        return any("/code/" in name or name.startswith("code/") for name in archive.namelist())


def load_torchscript(path: Path, trust_code: bool) -> torch.jit.ScriptModule:
    """Load a TorchScript module; refused unless the caller trusts the code inside it."""
    if not trust_code:
        raise ModelLoadError(
            f"{path.name} is a TorchScript archive, which contains executable code; "
            "pass trust_code=True (CLI: --trust-code) only if you trust its author"
        )
    try:
        return torch.jit.load(str(path), map_location="cpu")
    except Exception as exc:
        raise ModelLoadError(f"{path.name}: not a loadable TorchScript archive ({exc})") from exc


def load_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """Read a state dict from a ``.safetensors`` or ``.pt/.pth/.bin`` file without running code.

    A checkpoint that nests the weights under ``state_dict``/``model``/... is unwrapped.
    Raises :class:`ModelLoadError` for missing, unsafe, corrupt or non-tensor files.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelLoadError(f"weights file not found: {path}")
    suffix = path.suffix.lower()
    if suffix == ".safetensors":
        try:
            return load_file(str(path), device="cpu")
        except (SafetensorError, OSError, ValueError) as exc:
            raise ModelLoadError(f"{path.name}: corrupt safetensors file ({exc})") from exc
    if suffix not in STATE_DICT_SUFFIXES:
        raise ModelLoadError(
            f"{path.name}: unsupported weights format {suffix or '(no extension)'!r}; "
            "use .safetensors or a .pt/.pth state dict (pickles are refused)"
        )
    if is_torchscript(path):
        raise ModelLoadError(
            f"{path.name} is a TorchScript archive, not a state dict; load it without an "
            "architecture name and with trust_code=True"
        )
    try:
        loaded = torch.load(str(path), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise ModelLoadError(
            f"{path.name}: refused, the file holds pickled objects other than tensors "
            "(a pickle can run code when loaded); save a plain state dict or .safetensors"
        ) from exc
    except Exception as exc:
        raise ModelLoadError(f"{path.name}: not a readable PyTorch weights file ({exc})") from exc
    return _as_state_dict(loaded, path)


def _as_state_dict(loaded: object, path: Path) -> dict[str, torch.Tensor]:
    if isinstance(loaded, Mapping):
        for key in _NESTED_KEYS:
            if isinstance(loaded.get(key), Mapping):
                loaded = loaded[key]
                break
    if not isinstance(loaded, Mapping) or not loaded:
        raise ModelLoadError(
            f"{path.name}: expected a dict of tensors, got {type(loaded).__name__}"
        )
    bad = [key for key, value in loaded.items() if not isinstance(value, torch.Tensor)]
    if bad:
        raise ModelLoadError(f"{path.name}: entries that are not tensors: {bad[:5]}")
    return dict(loaded)
