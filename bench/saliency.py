"""Benchmark FIDO on EfficientNet-Lite0 at 224 on the CPU (a script, not a test).

Measures, in one run and under the same thread setting:
* the classifier's own forward + backward (input gradient of the summed log-odds) of B*S
  images, in chunks of its policy's forward batch (its best execution on this machine);
* FIDO-SSR (local-mean in-filler) time per optimisation step for B images x S samples, and its
  ratio to that forward + backward (target <= 1.2: the mask and in-fill ops must stay cheap);
* the mask/in-fill overhead alone (everything in a FIDO step except the classifier);
* images/s for B = 1 and B = 8 at the default 300 steps (extrapolated from the timed steps);
* TorchRay's ``extremal_perturbation`` time per iteration when ``torchray`` is installed
  (optional, bench-only, non-commercial licence; genlens never imports it).

Usage: ``.venv/bin/python bench/saliency.py [--threads 1] [--steps 6] [--precision bf16]
[--out PATH]``.
"""

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import torch

from genlens.core.data import sample_image, sample_names
from genlens.core.models import ExecutionPolicy, load_classifier
from genlens.core.saliency import explain, make_infiller
from genlens.core.saliency.fido import relaxed_keep
from genlens.core.saliency.noise import SampleNoise
from genlens.core.saliency.optimise import upsample
from genlens.core.saliency.score import log_odds

DEFAULT_STEPS = 300
SAMPLES = 8
RESULTS = Path(__file__).parent / "results" / "saliency.json"


def forward_backward(classifier, images: torch.Tensor, target: torch.Tensor, reps: int) -> float:
    """Median seconds of one forward + backward to the input of this batch, at its best: in
    chunks of the classifier's forward batch (per image, batch 64 in one pass costs 2.2x batch
    16 on these CPUs), as FIDO itself runs."""
    chunk = classifier.forward_batch(images.shape[-2:])
    times = []
    for _ in range(reps):
        inputs = images.clone().requires_grad_(True)
        started = time.perf_counter()
        for rows in zip(inputs.split(chunk), target.split(chunk), strict=True):
            log_odds(classifier(rows[0]), rows[1]).sum().backward()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def fido_step(classifier, images: torch.Tensor, target: torch.Tensor, steps: int) -> dict:
    """FIDO-SSR step times interleaved with the reference forward + backward at batch B*S.

    After each step the progress callback times one reference forward + backward; the next
    step is timed from the end of that reference. Pairing the two makes the ratio robust to
    the load on a shared machine drifting during the run. The first step is dropped (warm-up).
    """
    repeated = images.repeat_interleave(SAMPLES, dim=0)
    step_times, reference_times = [], []
    resumed = [time.perf_counter()]

    def progress(done: int, total: int) -> None:
        step_times.append(time.perf_counter() - resumed[0])
        reference_times.append(forward_backward(classifier, repeated, target, reps=1))
        resumed[0] = time.perf_counter()

    explain(
        classifier,
        images,
        method="fido-ssr",
        infill="local-mean",
        steps=steps,
        samples=SAMPLES,
        progress=progress,
    )
    pairs = list(zip(step_times[1:], reference_times[1:], strict=True))
    return {
        "fido_step_s": statistics.median(step for step, _ in pairs),
        "forward_backward_s": statistics.median(reference for _, reference in pairs),
        "ratio": statistics.median(step / reference for step, reference in pairs),
        "ratios": [step / reference for step, reference in pairs],
    }


def mask_overhead(classifier, images: torch.Tensor, reps: int) -> float:
    """Median seconds of a FIDO step's non-classifier work: Concrete sampling, local-mean
    in-fill and compositing, forward and backward, at batch B*S."""
    batch, _, height, width = images.shape
    theta = torch.zeros(batch, 1, height // 4, width // 4, requires_grad=True)
    repeated = images.repeat_interleave(SAMPLES, dim=0)
    fill = make_infiller("local-mean", classifier).bind(repeated)
    noise = SampleNoise(batch, SAMPLES, 0, images.device)
    times = []
    for rep in range(reps + 1):
        started = time.perf_counter()
        keep = relaxed_keep(upsample(theta.sigmoid(), (height, width)), noise, SAMPLES, 0.1)
        with torch.no_grad():
            background = fill(keep.round(), noise)
        (background + keep * (repeated - background)).sum().backward()
        if rep:
            times.append(time.perf_counter() - started)
    return statistics.median(times)


def torchray_iteration(classifier, image: torch.Tensor, target: int, iterations: int) -> dict:
    """Seconds per iteration of TorchRay's extremal_perturbation (1 image, 1 area), if installed."""
    try:
        from torchray.attribution.extremal_perturbation import extremal_perturbation
    except Exception as exc:  # any import failure just means "not available"
        return {"available": False, "error": f"{type(exc).__name__}: {exc}"}
    started = time.perf_counter()
    extremal_perturbation(classifier, image, target, areas=[0.1], max_iter=iterations)
    seconds = (time.perf_counter() - started) / iterations
    return {
        "available": True,
        "seconds_per_iteration": seconds,
        "iterations_timed": iterations,
        "settings": "areas=[0.1], blur perturbation, defaults otherwise",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    parser.add_argument("--steps", type=int, default=6, help="FIDO steps timed per batch size")
    parser.add_argument("--precision", default="fp32", help="the classifier's precision")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    classifier = load_classifier("efficientnet_lite0", device="cpu")
    classifier.apply_policy(ExecutionPolicy(args.precision))
    names = [name for name in sample_names() if name != "chelsea"]
    photos = classifier.prepare([sample_image(name) for name in ["chelsea", *names[:7]]])
    target = classifier.predict(photos).argmax(dim=1)

    rows = []
    for batch in (1, 8):
        images = photos[:batch]
        timing = fido_step(
            classifier, images, target[:batch].repeat_interleave(SAMPLES), args.steps
        )
        step = timing["fido_step_s"]
        rows.append(
            {
                "images": batch,
                "samples": SAMPLES,
                "batch": batch * SAMPLES,
                **timing,
                "mask_infill_overhead_s": mask_overhead(classifier, images, reps=3),
                "images_per_s_300_steps": batch / (DEFAULT_STEPS * step),
                "seconds_per_image_300_steps": DEFAULT_STEPS * step / batch,
            }
        )
    single_reference = forward_backward(classifier, photos[:1], target[:1], reps=3)
    torchray = torchray_iteration(classifier, photos[:1], int(target[0]), iterations=10)
    if torchray["available"]:
        torchray["ratio_to_forward_backward_batch1"] = (
            torchray["seconds_per_iteration"] / single_reference
        )

    report = {
        "benchmark": "FIDO-SSR + local-mean on EfficientNet-Lite0 at 224x224, CPU",
        "torch": torch.__version__,
        "policy": str(classifier.policy),
        "threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "load_average_1m": os.getloadavg()[0],
        "machine": f"{platform.machine()} {platform.processor() or platform.platform()}",
        "notes": "2-core VM (load: see load_average_1m; use --threads 1 when other jobs "
        "run, oversubscribed thread pools stall small ops); each FIDO step is "
        "paired with one reference forward+backward at the same batch run right after "
        f"it; medians over {args.steps - 1} pairs (first step dropped); images/s "
        "extrapolated to 300 steps x 8 samples",
        "timed_steps": args.steps,
        "rows": rows,
        "forward_backward_batch1_s": single_reference,
        "torchray_extremal_perturbation": torchray,
        "throughput_gain_b8_over_b1": rows[1]["images_per_s_300_steps"]
        / rows[0]["images_per_s_300_steps"],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(
        f"{'B':>2} {'B*S':>4} {'fwd+bwd s':>10} {'FIDO step s':>12} {'ratio':>6} "
        f"{'mask+infill s':>14} {'img/s (300 st)':>15}"
    )
    for row in rows:
        print(
            f"{row['images']:>2} {row['batch']:>4} {row['forward_backward_s']:>10.3f} "
            f"{row['fido_step_s']:>12.3f} {row['ratio']:>6.2f} "
            f"{row['mask_infill_overhead_s']:>14.4f} {row['images_per_s_300_steps']:>15.5f}"
        )
    if torchray["available"]:
        seconds = torchray["seconds_per_iteration"]
        print(
            f"TorchRay extremal_perturbation: {seconds:.3f} s/iteration "
            f"(batch-1 forward+backward {single_reference:.3f} s)"
        )
    else:
        print(f"TorchRay not available: {torchray['error']}")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
