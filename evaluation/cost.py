"""What a benchmark will cost, before it runs: a one-batch probe, extrapolated.

For each method the probe explains the suite's first :data:`PROBE_IMAGES` images (one batch)
and scores them with the suite's metrics. Meanwhile it counts the images that pass forward
and backward through the classifier's network, and times the whole. The estimate scales the
probe linearly to all the suite's images. Suites with a sanity test re-explain
``sanity_images`` images once more, and once per randomised layer, at the probe's explanation
time per image. The probe's rows are not stored. ``bench/benchmark_cost.py`` compares
estimates with measured runs.
"""

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace

import torch

from genlens.core import defaults
from genlens.evaluation.entries import BenchmarkEntry, parse_entries
from genlens.evaluation.metrics import parameter_layers
from genlens.evaluation.runner import LoadedSuite, evaluate

PROBE_IMAGES = 4


@dataclass(frozen=True)
class CostEstimate:
    """The estimated cost of one method on a whole suite.

    Attributes:
        method: the row's label (``method@infiller`` where the in-filler matters).
        images: images in the suite (or its sample).
        forwards_per_image, backwards_per_image: classifier passes per image (explanation and
            metrics), counted in images, so a batch of 8 is 8 passes.
        seconds: wall-clock seconds of the whole row on this machine.
        probe_images: images the probe ran on.
    """

    method: str
    images: int
    forwards_per_image: float
    backwards_per_image: float
    seconds: float
    probe_images: int


@dataclass
class _Passes:
    forwards: int = 0
    backwards: int = 0


@contextmanager
def counted_passes(net: torch.nn.Module) -> Iterator[_Passes]:
    """Count images through ``net``'s forward and, where a gradient flows back, backward."""
    passes = _Passes()

    def on_backward(gradient: torch.Tensor) -> None:
        passes.backwards += gradient.shape[0]

    def on_forward(_module, inputs, output) -> None:
        passes.forwards += inputs[0].shape[0]
        if isinstance(output, torch.Tensor) and output.requires_grad:
            output.register_hook(on_backward)

    handle = net.register_forward_hook(on_forward)
    try:
        yield passes
    finally:
        handle.remove()


def estimate_cost(
    loaded: LoadedSuite,
    methods: str | Sequence[str | BenchmarkEntry],
    infill: str = defaults.INFILL,
) -> list[CostEstimate]:
    """One :class:`CostEstimate` per method entry, from a probe on the first images."""
    data = loaded.data
    count = len(data.images)
    probe_size = min(loaded.suite.batch_size, count, PROBE_IMAGES)
    probe = replace(
        loaded,
        suite=replace(loaded.suite, sanity_images=0),
        data=data.subset(torch.arange(probe_size)),
    )
    sanity_images = min(loaded.suite.sanity_images, count)
    layers = len(loaded.suite.sanity_layers or parameter_layers(loaded.classifier))
    estimates = []
    for entry in parse_entries(methods, infill):
        with counted_passes(loaded.classifier.net) as passes:
            started = time.perf_counter()
            row = evaluate(probe, entry.method, entry.infill)
            elapsed = time.perf_counter() - started
        sanity = row.seconds_per_image * sanity_images * (layers + 1) if sanity_images else 0.0
        estimates.append(
            CostEstimate(
                entry.label,
                count,
                passes.forwards / probe_size,
                passes.backwards / probe_size,
                elapsed / probe_size * count + sanity,
                probe_size,
            )
        )
    return estimates
