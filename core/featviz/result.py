"""The result every feature-visualization entry point returns."""

from dataclasses import dataclass, field
from typing import Any

import torch


@dataclass
class FeatVizResult:
    """Images plus how they were made.

    Attributes:
        images: (B, C, H, W) in [0, 1], on the CPU; element ``i`` visualizes unit ``i``.
        trace: (steps, B) objective score per optimization step and element, as optimized
            (under the random transforms when any are used).
        scores: (B,) objective score of the final images without any transform.
        params: JSON-serializable settings of the run (method, steps, seeds, objective, ...).
        extras: family-specific outputs (e.g. DGN-AM codes, class-agnostic facets).
    """

    images: torch.Tensor
    trace: torch.Tensor
    scores: torch.Tensor
    params: dict[str, Any]
    extras: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """Parameters, per-step trace and final scores as plain JSON types (no images)."""
        return {
            "params": self.params,
            "trace": self.trace.tolist(),
            "scores": self.scores.tolist(),
        }
