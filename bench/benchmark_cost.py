"""How close the benchmark cost estimate is to the measured run (16-image suites).

For each (suite, method): the estimate of :func:`genlens.evaluation.cost.estimate_cost` (a
probe on the first images), then the measured wall-clock time of the whole row
(:func:`genlens.evaluation.runner.evaluate` on the same 16 images, sanity test included). The
issue's target: measured / estimated within [0.5, 2]. Prints a table and writes
``bench/results/benchmark-cost.json``.

    python bench/benchmark_cost.py [--out bench/results/benchmark-cost.json]
"""

import argparse
import json
import platform
import time
from pathlib import Path

import torch

from genlens.core import defaults
from genlens.evaluation.cost import estimate_cost
from genlens.evaluation.entries import parse_entries
from genlens.evaluation.runner import LoadedSuite, Sample, evaluate

IMAGES = 16
CASES = {
    "fmnist": "centre,gradient,integrated-gradients,smoothgrad,occlusion,rise,fido-ssr",
    "blockfashion-gt": "gradient,grad-cam,integrated-gradients",
}
"""Suites and methods; blockfashion-gt runs the cascading-randomisation test on 8 images."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="bench/results/benchmark-cost.json")
    args = parser.parse_args()
    rows = []
    print(f"{'suite':16} {'method':22} {'fwd/img':>8} {'estimate s':>10} {'measured s':>10} ratio")
    for suite, methods in CASES.items():
        loaded = LoadedSuite.load(suite, "cpu", sample=Sample(IMAGES, seed=0))
        entries = parse_entries(methods, defaults.INFILL)
        for entry, estimate in zip(entries, estimate_cost(loaded, entries), strict=True):
            started = time.perf_counter()
            evaluate(loaded, entry.method, entry.infill)
            measured = time.perf_counter() - started
            row = {
                "suite": suite,
                "method": estimate.method,
                "images": estimate.images,
                "probe_images": estimate.probe_images,
                "forwards_per_image": estimate.forwards_per_image,
                "backwards_per_image": estimate.backwards_per_image,
                "estimated_seconds": round(estimate.seconds, 2),
                "measured_seconds": round(measured, 2),
                "ratio": round(measured / estimate.seconds, 3),
            }
            rows.append(row)
            print(
                f"{suite:16} {estimate.method:22} {estimate.forwards_per_image:8.0f} "
                f"{estimate.seconds:10.1f} {measured:10.1f} {row['ratio']:.2f}"
            )
    ratios = [row["ratio"] for row in rows]
    summary = {
        "machine": platform.machine(),
        "cpus": torch.get_num_threads(),
        "torch": torch.__version__,
        "images": IMAGES,
        "ratio_min": min(ratios),
        "ratio_max": max(ratios),
        "within_2x": all(0.5 <= ratio <= 2 for ratio in ratios),
        "rows": rows,
    }
    Path(args.out).write_text(json.dumps(summary, indent=2) + "\n")
    print(f"measured / estimated in [{min(ratios):.2f}, {max(ratios):.2f}]; wrote {args.out}")


if __name__ == "__main__":
    main()
