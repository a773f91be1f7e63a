"""How a classifier's network runs: precision, memory format and compilation.

One :class:`ExecutionPolicy` is owned by each :class:`~genlens.core.models.Classifier` and
applies to every forward pass (so FIDO, BBMP, RISE, occlusion, the Captum baselines, the metrics
and feature visualization all run the same way):

* ``fp32`` + ``channels_last`` (the default for loaded models): NHWC weights and inputs, logits
  within 1e-4 of eager NCHW fp32, 1.3-1.7x faster on these CPUs' oneDNN kernels;
* ``bf16``: autocast to bfloat16 (AMX / AVX-512-BF16 on CPU, tensor cores on CUDA); logits are
  returned as float32; see the README for the measured agreement with fp32. A CPU without
  those (AVX2 only) emulates bf16 several times slower than fp32, and says so once;
* ``compile``: ``torch.compile`` of the network for long work (a warm-up of tens of seconds);
* ``batch_pixels``: how many input pixels one forward pass of a heavy path carries, so the
  states of deletion/insertion, RISE and occlusion, and the B x S masked images of a FIDO or
  BBMP step, run in chunks of the size the device is fastest at (:meth:`forward_batch`).
"""

from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass

import torch

from genlens.core import defaults
from genlens.core.device import warn_if_emulated_bf16
from genlens.core.errors import ParameterError
from genlens.core.params import check_precision


@dataclass(frozen=True)
class ExecutionPolicy:
    """Attributes:
    precision: ``"fp32"`` or ``"bf16"`` (autocast; outputs cast back to float32).
    channels_last: NHWC memory format for the network's weights and 4-D inputs.
    compile: run the network through ``torch.compile`` (opt-in; first call warms up).
    batch_pixels: images x H x W per forward pass on the heavy paths; ``None`` = the device's
        default (:data:`~genlens.core.defaults.FORWARD_PIXELS`). Results do not depend on it.
    """

    precision: str = defaults.PRECISION
    channels_last: bool = True
    compile: bool = False
    batch_pixels: int | None = None

    def __post_init__(self) -> None:
        check_precision(self.precision)
        if self.batch_pixels is not None and (
            isinstance(self.batch_pixels, bool)
            or not isinstance(self.batch_pixels, int)
            or self.batch_pixels < 1
        ):
            raise ParameterError(
                f"batch_pixels must be a positive integer, got {self.batch_pixels!r}"
            )

    def forward_batch(self, device: torch.device, size: tuple[int, int]) -> int:
        """Images of ``size`` (H, W) per forward pass on ``device`` (at least 1)."""
        pixels = self.batch_pixels or defaults.FORWARD_PIXELS.get(
            device.type, defaults.FORWARD_PIXELS["cuda"]
        )
        return max(1, pixels // (size[0] * size[1]))

    def autocast(self, device: torch.device) -> AbstractContextManager:
        """bfloat16 autocast on ``device`` for ``bf16``; nothing for ``fp32``. Warns
        (:class:`~genlens.core.device.EmulatedBF16Warning`) where ``device`` has no native
        bfloat16 kernels."""
        if self.precision == "bf16":
            warn_if_emulated_bf16(device)
            return torch.autocast(device.type, dtype=torch.bfloat16)
        return nullcontext()

    def prepare(self, images: torch.Tensor) -> torch.Tensor:
        """Network input in the policy's memory format (4-D tensors only)."""
        if self.channels_last and images.ndim == 4:
            return images.contiguous(memory_format=torch.channels_last)
        return images
