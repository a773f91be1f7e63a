"""Feature-visualization speed on CPU: ``.venv/bin/python bench/featviz.py [--steps N]``.

Measures, side by side and interleaved (median over rounds):

1. ``visualize`` (Fourier, robustness transforms, Adam) steps/s at batch 1 and 8 against the
   classifier's own forward+backward to the input at the same batch (target: <= 1.15x).
2. One batched run of 8 units against 8 sequential single-unit runs (target: >= 3x throughput).
3. torch-lucent's ``render_vis`` at the same size and steps, when it imports (bench-only).

EfficientNet-Lite0 weights are fed 128x128 input by default (``--size``) to keep the run short on
a shared 2-core machine. Prints a table and writes ``bench/results/featviz.json``.
"""

import argparse
import functools
import json
import platform
import statistics
import sys
import time
import types
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import torch

from genlens.core.featviz import objectives, visualize
from genlens.core.models import Classifier, load_classifier

UNITS = [1, 130, 207, 291, 309, 430, 948, 980]
RESULTS = Path(__file__).parent / "results" / "featviz.json"


def timed(function: Callable[[], object]) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def interleaved(
    first: Callable[[], object], second: Callable[[], object], rounds: int, steps: int
) -> tuple[float, float]:
    """Median seconds per step of two workloads, warmed up and then timed alternately."""
    first(), second()
    first_times, second_times = [], []
    for _ in range(rounds):
        first_times.append(timed(first) / steps)
        second_times.append(timed(second) / steps)
    return statistics.median(first_times), statistics.median(second_times)


def model_steps(classifier: Classifier, batch: int, steps: int) -> Callable[[], None]:
    """``steps`` plain forward+backward passes to a (batch, 3, H, W) input."""
    size = classifier.preprocessing.input_size
    images = torch.rand(batch, 3, *size, requires_grad=True)
    index = torch.tensor(UNITS[:batch])

    def run() -> None:
        for _ in range(steps):
            images.grad = None
            classifier(images).gather(1, index[:, None]).sum().backward()

    return run


def featviz_steps(classifier: Classifier, units: list[int], steps: int) -> Callable[[], None]:
    return lambda: visualize(classifier, objectives.class_logit(units), steps=steps, seed=0)


def side_by_side(classifier: Classifier, batch: int, steps: int, rounds: int) -> dict:
    """Median seconds per step of the model alone and of ``visualize``, interleaved."""
    model_run = model_steps(classifier, batch, steps)
    featviz_run = featviz_steps(classifier, UNITS[:batch], steps)
    model_s, featviz_s = interleaved(model_run, featviz_run, rounds, steps)
    return {
        "batch": batch,
        "model_fwd_bwd_s_per_step": model_s,
        "featviz_s_per_step": featviz_s,
        "featviz_steps_per_s": 1 / featviz_s,
        "ratio_to_model": featviz_s / model_s,
    }


def batched_vs_sequential(classifier: Classifier, steps: int, rounds: int) -> dict:
    """Wall time of one 8-unit run against 8 single-unit runs, interleaved."""
    batched_times, sequential_times = [], []
    for _ in range(rounds):
        batched_times.append(timed(featviz_steps(classifier, UNITS, steps)))
        sequential_times.append(
            sum(timed(featviz_steps(classifier, [unit], steps)) for unit in UNITS)
        )
    batched, sequential = statistics.median(batched_times), statistics.median(sequential_times)
    return {
        "units": len(UNITS),
        "batched_s": batched,
        "sequential_s": sequential,
        "throughput_ratio": sequential / batched,
    }


def lucent_comparison(classifier: Classifier, steps: int, rounds: int) -> dict:
    """torch-lucent ``render_vis`` (Fourier, standard transforms) vs ours, batch 1."""
    try:
        # lucent imports IPython.display for notebook output only; render_vis never shows here
        display = types.ModuleType("IPython.display")
        display.display = display.HTML = display.Image = lambda *args, **kwargs: None
        sys.modules.setdefault("IPython", types.ModuleType("IPython")).display = display
        sys.modules.setdefault("IPython.display", display)
        from lucent.optvis import objectives as lucent_objectives
        from lucent.optvis import param, render, transform
    except ImportError as exc:
        return {"available": False, "reason": f"torch-lucent import failed: {exc}"}
    size = classifier.preprocessing.input_size[0]
    objective = lucent_objectives.channel("net_classifier", UNITS[0])
    # lucent's random_rotate calls kornia.get_rotation_matrix2d, removed in current kornia
    # (the breakage of Lucent issues #12/#20/#21); fall back to its other standard transforms
    no_rotation = [
        transform.pad(12, mode="constant", constant_value=0.5),
        transform.jitter(8),
        transform.random_scale([1 + (i - 5) / 50.0 for i in range(11)]),
        transform.jitter(4),
    ]
    notes = "torch-lucent 0.1.8 --no-deps plus decorator, kornia, kornia-rs; IPython stubbed"

    def lucent_run(transforms: list | None = None) -> None:
        render.render_vis(
            classifier,
            objective,
            lambda: param.image(size),
            transforms=transforms,
            thresholds=(steps,),
            preprocess=False,
            progress=False,
            show_image=False,
            fixed_image_size=size,
        )

    try:
        lucent_run()
        run = lucent_run
    except AttributeError as exc:
        notes += f"; standard_transforms failed ({exc}), ran without random_rotate"
        run = functools.partial(lucent_run, no_rotation)
    ours = featviz_steps(classifier, [UNITS[0]], steps)
    lucent_s, our_s = interleaved(run, ours, rounds, steps)
    return {
        "available": True,
        "notes": notes,
        "lucent_s_per_step": lucent_s,
        "genlens_s_per_step": our_s,
        "speedup_vs_lucent": lucent_s / our_s,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    lite0 = load_classifier("efficientnet_lite0", device="cpu")
    preprocessing = replace(lite0.preprocessing, input_size=(args.size, args.size))
    classifier = Classifier(
        f"efficientnet_lite0@{args.size}", lite0.net, preprocessing, lite0.labels
    )
    start = time.perf_counter()
    per_step = [side_by_side(classifier, batch, args.steps, args.rounds) for batch in (1, 8)]
    batching = batched_vs_sequential(classifier, args.steps, args.rounds)
    single, eight = per_step
    # what batching gains for the model alone: the ceiling for featviz minus per-run overhead
    batching["model_batching_gain"] = (
        8 * single["model_fwd_bwd_s_per_step"] / eight["model_fwd_bwd_s_per_step"]
    )
    lucent = lucent_comparison(classifier, args.steps, args.rounds)
    report = {
        "model": classifier.name,
        "input_size": args.size,
        "steps": args.steps,
        "rounds": args.rounds,
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "cpu": platform.processor() or platform.machine(),
        "per_step": per_step,
        "batched_vs_sequential": batching,
        "lucent": lucent,
        "bench_wall_s": time.perf_counter() - start,
    }
    print(f"{'batch':>5} {'model s/step':>13} {'featviz s/step':>15} {'steps/s':>8} {'ratio':>6}")
    for row in per_step:
        print(
            f"{row['batch']:>5} {row['model_fwd_bwd_s_per_step']:>13.4f} "
            f"{row['featviz_s_per_step']:>15.4f} {row['featviz_steps_per_s']:>8.2f} "
            f"{row['ratio_to_model']:>6.2f}"
        )
    print(
        f"8 units batched {batching['batched_s']:.2f} s vs sequential "
        f"{batching['sequential_s']:.2f} s: {batching['throughput_ratio']:.2f}x throughput "
        f"(model alone, batch 8 vs 8x batch 1: {batching['model_batching_gain']:.2f}x)"
    )
    if lucent["available"]:
        print(
            f"lucent render_vis {lucent['lucent_s_per_step']:.4f} s/step vs genlens "
            f"{lucent['genlens_s_per_step']:.4f} s/step ({lucent['speedup_vs_lucent']:.2f}x)"
        )
    else:
        print(f"lucent: {lucent['reason']}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=1))
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
