"""Device selection shared by every entry point."""

import torch

from genlens.core.errors import ParameterError


def resolve_device(device: str | torch.device | None = "auto") -> torch.device:
    """Return a :class:`torch.device` for ``"auto"`` (CUDA when present, else CPU) or a name.

    Raises :class:`ParameterError` when CUDA is asked for but not available.
    """
    if device is None or str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    resolved = torch.device(device)
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ParameterError(f"device {device!r} requested but CUDA is not available")
    return resolved
