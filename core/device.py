"""Device selection shared by every entry point, and the CPU allocator setting."""

import ctypes
import ctypes.util
import functools
import warnings

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


_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_MMAP_THRESHOLD_MAX = 32 * 1024 * 1024


@functools.cache
def reuse_freed_memory() -> bool:
    """Make this process's C allocator keep freed blocks for reuse (glibc only; idempotent).

    glibc serves blocks above its mmap threshold (128 KiB, adapting upwards) with fresh mmaps,
    and hands the top of the heap back above 128 KiB free: every activation tensor of a forward
    or backward pass is then page-faulted in, zero-filled, by the kernel. On these 2-core CPUs
    that was a third of the wall time (EfficientNet-Lite0, 224x224, batch 16: forward +
    backward 1.07 s -> 0.54 s, system time 11.8 s -> 3.3 s over a deletion benchmark). Raising
    the mmap threshold to its maximum (32 MiB) and the trim threshold to 1 GiB keeps those
    blocks in the heap; peak memory is unchanged. Called by every
    :class:`~genlens.core.models.Classifier`; returns whether the settings took effect
    (``False`` with another C library).
    """
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    return bool(
        mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD_MAX) and mallopt(_M_TRIM_THRESHOLD, 2**30)
    )


class EmulatedBF16Warning(UserWarning):
    """bf16 was asked for on a device without native bfloat16 kernels (it runs, slowly)."""


@functools.cache
def native_bf16(device_type: str) -> bool:
    """Whether ``device_type`` (``"cpu"``, ``"cuda"``) has native bfloat16 kernels.

    CPU: oneDNN's bf16 path needs AVX-512-BF16 or AMX (``torch.backends.mkldnn``'s own check,
    used by PyTorch's tests); without it, convolutions under bf16 autocast fall back to
    reference kernels (``slow_conv2d``): on a 2-core AVX2 CPU a forward + backward of
    ``blockfashion-cnn`` ran 6.5x slower than fp32 and a FIDO batch 8-20x slower. CUDA:
    ``torch.cuda.is_bf16_supported()``. Other devices are assumed native.
    """
    if device_type == "cpu":
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    if device_type == "cuda":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    return True


def warn_if_emulated_bf16(device: torch.device) -> None:
    """Warn (:class:`EmulatedBF16Warning`, once per process and device type) that bf16 on
    ``device`` has no native kernels, naming the CPU capability and the fix (fp32)."""
    if native_bf16(device.type):
        return
    _warn_emulated_bf16(device.type)


@functools.cache
def _warn_emulated_bf16(device_type: str) -> None:
    capability = torch.backends.cpu.get_cpu_capability() if device_type == "cpu" else device_type
    warnings.warn(
        f"bf16 on this {device_type} ({capability}, no AVX-512-BF16/AMX) has no native "
        "bfloat16 kernels: convolutions run in slow reference code, several times slower than "
        "fp32. Use precision fp32 on this machine.",
        EmulatedBF16Warning,
        stacklevel=3,
    )
