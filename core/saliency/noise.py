"""Per-image random streams, so a batch explains exactly like its images one by one.

Image ``b`` of a batch draws all its randomness (Concrete noise, random in-fill colours,
RISE masks are shared and use their own generator) from a generator seeded ``seed + b``.
Explaining image ``b`` alone with ``seed + b`` therefore repeats the same draws.
"""

import torch


class SampleNoise:
    """Random numbers for B images x S samples, laid out image-major as (B*S, ...).

    Args:
        images: B, the number of images.
        samples: S, samples per image.
        seed: image ``b`` uses a generator seeded ``seed + b``.
        device: where the numbers are drawn (each generator lives on this device).
    """

    def __init__(self, images: int, samples: int, seed: int, device: torch.device):
        self.samples = samples
        self.device = torch.device(device)
        self.generators = [
            torch.Generator(device=self.device).manual_seed(seed + index) for index in range(images)
        ]

    def rand(self, *shape: int) -> torch.Tensor:
        """Uniform [0, 1) numbers of shape (B*S, *shape), float32."""
        return self._draw(torch.rand, shape)

    def randn(self, *shape: int) -> torch.Tensor:
        """Standard normal numbers of shape (B*S, *shape), float32."""
        return self._draw(torch.randn, shape)

    def _draw(self, sampler, shape: tuple[int, ...]) -> torch.Tensor:
        size = (self.samples, *shape)
        return torch.cat(
            [sampler(size, generator=gen, device=self.device) for gen in self.generators]
        )
