"""Choose FIDO's fast preset for photos on the validation photos (never the test photos).

Each candidate (objective, steps, samples, grid stride, learning rate, in-filler) is scored on
the ``imagenet-photos-val`` suite (the shipped photos outside ``imagenet-photos``) by deletion
and insertion next to Grad-CAM, with its seconds per image on this machine. The preset is the
candidate within the time budget with the highest insertion - deletion. Prints a table and
writes ``bench/results/fido-preset.json``.

``--check`` then scores the registered preset once against Grad-CAM on the test photos
(``imagenet-photos``): per-image differences in deletion and insertion with paired 95%
bootstrap intervals, written to ``bench/results/fido-preset-check.json``.

    python bench/fido_preset.py [--out bench/results/fido-preset.json]
    python bench/fido_preset.py --check [--out bench/results/fido-preset-check.json]
"""

import argparse
import json
import platform
import time
from dataclasses import asdict
from pathlib import Path

import torch

from genlens.core.saliency import explain
from genlens.evaluation.metrics import MetricInput, metric
from genlens.evaluation.runner import LoadedSuite, bootstrap, evaluate

SUITE = "imagenet-photos-val"
TEST_SUITE = "imagenet-photos"
PRESET = "fido-ssr-fast"
BUDGET_SECONDS = 20.0
"""Seconds per image the preset may take on 2 CPU cores (the issue's demo budget)."""

CANDIDATES: list[tuple[str, str, dict]] = [
    ("fido-ssr", "local-mean", {"steps": 60}),
    ("fido-ssr", "local-mean", {"steps": 80, "samples": 4, "grid_stride": 8}),
    ("fido-ssr", "local-mean", {"steps": 80, "samples": 4, "grid_stride": 16}),
    ("fido-ssr", "local-mean", {"steps": 80, "samples": 4, "grid_stride": 16, "lr": 0.1}),
    ("fido-ssr", "blur", {"steps": 80, "samples": 4, "grid_stride": 16}),
    ("fido-sdr", "local-mean", {"steps": 80, "samples": 4, "grid_stride": 16}),
    ("fido-ssr", "local-mean", {"steps": 40, "samples": 8, "grid_stride": 16}),
]


def check(out: Path) -> None:
    """The preset against Grad-CAM on the test photos, per image and paired."""
    loaded = LoadedSuite.load(TEST_SUITE, "cpu")
    classifier, data, seed = loaded.classifier, loaded.data, loaded.suite.seed
    values, seconds = {}, {}
    for method in (PRESET, "grad-cam"):
        started = time.perf_counter()
        maps = explain(classifier, data.images, data.target.tolist(), method=method, seed=seed)
        seconds[method] = (time.perf_counter() - started) / len(data.images)
        inputs = MetricInput(classifier, data.images, maps.maps, data.target)
        values[method] = {
            name: metric(name).compute(inputs).float().cpu() for name in ("deletion", "insertion")
        }
    classes = data.target.cpu()
    report = {"suite": TEST_SUITE, "images": len(data.images), "seconds_per_image": seconds}
    for name in ("deletion", "insertion"):
        aggregate = metric(name).aggregate
        difference = values[PRESET][name] - values["grad-cam"][name]
        report[name] = {
            method: asdict(bootstrap(values[method][name], classes, aggregate, seed))
            for method in values
        }
        report[name]["difference"] = asdict(bootstrap(difference, classes, aggregate, seed))
        report[name]["per_image"] = {m: values[m][name].tolist() for m in values}
        print(
            f"{name:9s} {PRESET} {report[name][PRESET]['value']:.3f}  grad-cam "
            f"{report[name]['grad-cam']['value']:.3f}  difference "
            f"{report[name]['difference']['value']:+.3f} [{report[name]['difference']['low']:+.3f},"
            f" {report[name]['difference']['high']:+.3f}]"
        )
    print(f"seconds per image: {seconds}")
    out.write_text(json.dumps(report, indent=2) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="the preset on the test photos")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    if args.check:
        check(Path(args.out or "bench/results/fido-preset-check.json"))
        return
    search(Path(args.out or "bench/results/fido-preset.json"))


def search(out: Path) -> None:
    """Every candidate and Grad-CAM on the validation photos; the best within budget."""
    loaded = LoadedSuite.load(SUITE, "cpu")
    rows = [evaluate(loaded, "grad-cam")]
    rows += [evaluate(loaded, method, infill, params) for method, infill, params in CANDIDATES]
    records = []
    for row in rows:
        deletion = asdict(row.metrics["deletion"])
        insertion = asdict(row.metrics["insertion"])
        records.append(
            {
                "method": row.method,
                "infill": row.infill,
                "params": row.params,
                "seconds_per_image": row.seconds_per_image,
                "deletion": deletion,
                "insertion": insertion,
                "score": insertion["value"] - deletion["value"],
                "within_budget": row.seconds_per_image <= BUDGET_SECONDS,
            }
        )
        print(
            f"{row.method:9s} {row.infill:11s} {row.seconds_per_image:6.1f} s  "
            f"deletion {deletion['value']:.3f} [{deletion['low']:.3f}, {deletion['high']:.3f}]  "
            f"insertion {insertion['value']:.3f} [{insertion['low']:.3f}, {insertion['high']:.3f}]"
            f"  {json.dumps(row.params)}"
        )
    fido_rows = [r for r in records if r["method"] != "grad-cam" and r["within_budget"]]
    chosen = max(fido_rows, key=lambda r: r["score"]) if fido_rows else None
    out.write_text(
        json.dumps(
            {
                "suite": SUITE,
                "budget_seconds_per_image": BUDGET_SECONDS,
                "threads": torch.get_num_threads(),
                "cpu": platform.processor() or platform.machine(),
                "rows": records,
                "chosen": chosen,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"chosen: {chosen and (chosen['method'], chosen['infill'], chosen['params'])}")


if __name__ == "__main__":
    main()
