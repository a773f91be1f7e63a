"""Heavy paths against the best execution of the same model: ``.venv/bin/python bench/limits.py``.

In one run, for EfficientNet-Lite0 at 224 and one batch of ``--batch`` images (default 8):

1. The model's own cost under each :class:`~genlens.core.models.ExecutionPolicy` (eager NCHW
   fp32, channels_last fp32, channels_last bf16 where the device has native bfloat16 kernels;
   ``--compile`` adds compiled channels_last fp32): forward, and forward + backward to the
   input. The **best** is the minimum over them.
2. Each heavy path, timed per unit of model work at that same batch, under each policy:
   FIDO-SSR and BBMP-SSR (one optimisation step: ``batch`` masked images forward + backward),
   integrated gradients (``batch`` interpolation points per forward + backward), Grad-CAM
   (forward of the batch + backward to the last conv layer only, so counted as a forward),
   RISE and occlusion (``batch`` perturbed images per forward), RISE deletion + insertion
   (``batch`` states per forward) and Fourier feature visualization (one step of ``batch``
   units).
3. The ``imagenet-photos`` suite's deletion + insertion metrics end to end (8 photos, the
   protocol's 224 pixels per step, Grad-CAM maps): first as genlens ran them before the
   execution policy (a fresh process: eager NCHW fp32, 64 states per forward, glibc's own
   malloc settings), then under each policy (the policy's forward batch, freed memory kept),
   with the largest change against before of a photo's AUC and of the suite's mean deletion
   and insertion AUCs (targets: >= 3x at fp32 with the AUC to 1e-4, >= 5x in bf16 with the
   AUC within 0.01). ``--no-suite`` skips it.
4. For each path: its best policy, ``ratio`` = path cost / best model cost of the same kind
   (for a method that always runs in fp32, such as integrated gradients, the best fp32 cost;
   target <= 1.2) and ``speedup`` = the path under eager NCHW fp32 / the path under its best
   policy.

Prints a table and writes ``bench/results/limits.json``. One classifier per policy; after one
warm-up call of everything, each of ``--reps`` rounds times the model's costs and every path
under every policy in turn, each path right after one more timing of the model's work of its
kind. A ratio is taken within each round (the fastest path over the fastest of those paired
model costs), and the median over rounds is reported with its range, so a load change of this
shared machine moves numerator and denominator together. Seconds are medians over rounds.
Optimisation paths are charged their marginal cost per step (see :func:`path_costs`).
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from genlens.core.data import sample_image
from genlens.core.device import native_bf16, resolve_device
from genlens.core.featviz import objectives, visualize
from genlens.core.models import Classifier, ExecutionPolicy, load_classifier
from genlens.core.models import classifier as classifier_module
from genlens.core.params import resolve_params
from genlens.core.progress import no_progress
from genlens.core.saliency import get_method, make_infiller
from genlens.core.saliency.problem import Problem
from genlens.core.saliency.score import log_odds
from genlens.evaluation.metrics import perturbation_curve

RESULTS = Path(__file__).parent / "results" / "limits.json"
BEFORE = "before: eager NCHW fp32, 64 per forward, default malloc"
PHOTOS = ("chelsea", "coffee", "camera", "rocket", "flower", "china", "motorcycle", "astronaut")


@dataclass(frozen=True)
class Work:
    """A timed call made of ``units`` of ``kind`` model work at the batch. With ``fixed`` (the
    same path with fewer steps) the cost is the call's time less ``fixed``'s: the marginal cost
    of ``units`` steps, without the one-off work (first prediction, final forward) that a run of
    hundreds of steps spreads over all of them."""

    kind: str
    units: float
    run: Callable[[], object]
    fixed: Callable[[], object] | None = None

    def seconds_per_unit(self) -> float:
        """One timed call (less the fixed part), per unit of model work."""
        started = time.perf_counter()
        self.run()
        seconds = time.perf_counter() - started
        if self.fixed is not None:
            started = time.perf_counter()
            self.fixed()
            seconds -= time.perf_counter() - started
        return seconds / self.units


Timed = dict[str, Work]
WORK = ("forward", "forward_backward")
FP32_ONLY = " in fp32"
"""Suffix of the work of a method that always runs in fp32 (pixel-gradient attributions): it
is compared with the best fp32 execution of the model, the fastest it may run."""


def work_of(method: str, kind: str) -> str:
    """``kind`` of model work, marked :data:`FP32_ONLY` for a method that never runs bf16."""
    return kind + FP32_ONLY if get_method(method).fp32 else kind


Rounds = list[dict[str, dict[str, float]]]


def paired(name: str) -> str:
    """Key of the model cost timed right before path ``name`` in a round."""
    return f"{name} (model)"


def timed_rounds(timed: dict[str, Timed], reps: int) -> Rounds:
    """``timed``: per policy, entries ``name: Work``. Every entry is timed once to warm up,
    then each of ``reps`` rounds times every entry of every policy in turn, each path right
    after one more timing of the model's own work of its kind (key :func:`paired`); returns
    per round ``{policy: {name: seconds per unit}}``. A path's ratio divides by that paired
    model cost, so both are taken under the same load of this shared machine."""
    for entries in timed.values():
        for work in entries.values():
            work.seconds_per_unit()
    rounds: Rounds = []
    for _ in range(reps):
        seconds: dict[str, dict[str, float]] = {}
        for label, entries in timed.items():
            seconds[label] = {}
            for name, work in entries.items():
                if name not in WORK:
                    model = entries[work.kind.removesuffix(FP32_ONLY)]
                    seconds[label][paired(name)] = model.seconds_per_unit()
                seconds[label][name] = work.seconds_per_unit()
        rounds.append(seconds)
    return rounds


def fastest(seconds: dict[str, dict[str, float]], labels: list[str], name: str) -> float:
    """The fewest seconds of ``name`` among the policies ``labels`` in one round."""
    return min(seconds[label][name] for label in labels)


def model_costs(classifier: Classifier, images: torch.Tensor) -> Timed:
    """One forward and one forward + backward (to the input) of ``images``."""
    target = torch.zeros(len(images), dtype=torch.long, device=images.device)

    def forward() -> None:
        with torch.no_grad():
            classifier(images)

    def forward_backward() -> None:
        inputs = images.clone().requires_grad_(True)
        log_odds(classifier(inputs), target).sum().backward()

    return {
        "forward": Work("forward", 1, forward),
        "forward_backward": Work("forward_backward", 1, forward_backward),
    }


def run_method(
    classifier: Classifier, images: torch.Tensor, method: str, **given: object
) -> Callable[[], object]:
    """A call of the method's own run on a ready problem (no counterfactual views)."""
    chosen = get_method(method)
    params = resolve_params(method, chosen.params, given)
    if chosen.check is not None:
        chosen.check(classifier, params)
    target = classifier.predict(images).argmax(dim=1)
    infiller = make_infiller("local-mean", classifier)
    problem = Problem(classifier, images, target, infiller, 0, no_progress)
    precision = "fp32" if chosen.fp32 else classifier.policy.precision

    def run() -> None:
        with classifier.running_in(precision):
            chosen.run(problem, params)

    return run


def path_costs(classifier: Classifier, images: torch.Tensor) -> Timed:
    """Per path: the kind of model work it is made of, its units at batch B, and a call.

    The optimisation paths are charged their marginal cost per step (``steps`` more steps on
    top of a run of ``steps``). Occlusion slides a quarter-side window over an 8 x 8 grid of
    positions, and its units count the unoccluded forward that Captum runs first (65 images;
    the default 16-px window at stride 8 makes 729 at 224). The curves take
    ``ceil(H*W / (16B - 1))`` pixels a step (396 at 224 and B = 8, near the protocol's 224), so
    each curve has exactly 16B states (the start and 16B - 1 steps) and both fill 32 batches.
    """
    batch = len(images)
    one = images[:1]
    steps, positions, states = 6, 8, 16 * batch
    side = one.shape[-1]
    window = side // 4
    stride = (side - window) // (positions - 1)

    def curves() -> None:
        for direction in ("deletion", "insertion"):
            perturbation_curve(
                classifier,
                one,
                torch.rand(1, *one.shape[-2:], device=one.device),
                torch.zeros(1, dtype=torch.long, device=one.device),
                direction,
                pixels_per_step=-(-one.shape[-1] * one.shape[-2] // (states - 1)),
                batch_size=batch,
            )

    def stepped(method: str, inputs: torch.Tensor, **given: object) -> Work:
        return Work(
            "forward_backward",
            steps,
            run_method(classifier, inputs, method, steps=2 * steps, **given),
            run_method(classifier, inputs, method, steps=steps, **given),
        )

    units = objectives.class_logit(list(range(batch)))
    return {
        "fido-ssr step": stepped("fido-ssr", one, samples=batch),
        "bbmp-ssr step": stepped("bbmp-ssr", images),
        "integrated-gradients": Work(
            work_of("integrated-gradients", "forward_backward"),
            2,
            run_method(classifier, one, "integrated-gradients", steps=2 * batch, batch=batch),
        ),
        "grad-cam": Work("forward", 1, run_method(classifier, images, "grad-cam")),
        "rise": Work(
            "forward", 4, run_method(classifier, one, "rise", samples=4 * batch, batch=batch)
        ),
        "occlusion": Work(
            "forward",
            (positions * positions + 1) / batch,
            run_method(classifier, one, "occlusion", window=window, stride=stride, batch=batch),
        ),
        "deletion+insertion": Work("forward", 2 * states / batch, curves),
        "fourier featviz step": Work(
            "forward_backward",
            steps,
            lambda: visualize(classifier, units, steps=2 * steps),
            lambda: visualize(classifier, units, steps=steps),
        ),
    }


def suite_inputs(classifier: Classifier) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The suite's 8 photos, their Grad-CAM maps (at ``conv_head``) and predicted classes."""
    photos = classifier.prepare([sample_image(name) for name in PHOTOS])
    target = classifier.predict(photos).argmax(dim=1)
    gradcam = get_method("grad-cam")
    problem = Problem(
        classifier, photos, target, make_infiller("local-mean", classifier), 0, no_progress
    )
    maps = gradcam.run(problem, resolve_params("grad-cam", gradcam.params, {"layer": "conv_head"}))
    return photos, maps.detach(), target


def timed_curves(classifier: Classifier, batch_size: int | None = None) -> tuple[float, list]:
    """Seconds and AUCs (deletion then insertion, per photo) of the suite's two curves."""
    photos, maps, target = suite_inputs(classifier)
    started = time.perf_counter()
    aucs = [
        perturbation_curve(classifier, photos, maps, target, direction, batch_size=batch_size).auc
        for direction in ("deletion", "insertion")
    ]
    return time.perf_counter() - started, torch.cat(aucs).tolist()


def before_curves(threads: int) -> dict:
    """The suite's curves as genlens ran them before the execution policy, in a fresh process:
    eager NCHW fp32, 64 states per forward pass, the C allocator's own settings."""
    command = [sys.executable, __file__, "--before", "--threads", str(threads)]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def suite_curves(
    classifier: Classifier, policies: dict[str, ExecutionPolicy], threads: int
) -> list[dict]:
    """Deletion + insertion of the imagenet-photos suite: before, then under each policy."""
    before = before_curves(threads)
    reference = torch.tensor(before["aucs"])
    rows = [
        {
            "policy": BEFORE,
            "seconds": round(before["seconds"], 2),
            "max_auc_change": 0.0,
            "max_mean_auc_change": 0.0,
        }
    ]
    for label, policy in policies.items():
        classifier.apply_policy(policy)
        seconds, aucs = timed_curves(classifier)
        change = torch.tensor(aucs) - reference
        rows.append(
            {
                "policy": label,
                "seconds": round(seconds, 2),
                "max_auc_change": float(change.abs().max()),
                "max_mean_auc_change": float(change.view(2, -1).mean(dim=1).abs().max()),
            }
        )
    for row in rows:
        row["speedup"] = round(rows[0]["seconds"] / row["seconds"], 2)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--reps", type=int, default=8)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--compile", action="store_true", help="also time torch.compile")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--no-suite", action="store_true", help="skip the suite's metrics")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--before", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args()
    torch.set_num_threads(options.threads)
    if options.before:
        classifier_module.reuse_freed_memory = lambda: False
        classifier = load_classifier("efficientnet_lite0")
        classifier.apply_policy(ExecutionPolicy(channels_last=False))
        seconds, aucs = timed_curves(classifier, batch_size=64)
        print(json.dumps({"seconds": seconds, "aucs": aucs}))
        return
    policies = {
        "eager NCHW fp32": ExecutionPolicy(channels_last=False),
        "channels_last fp32": ExecutionPolicy(),
    }
    native = native_bf16(resolve_device(options.device).type)
    if native:
        policies["channels_last bf16"] = ExecutionPolicy("bf16")
    if options.compile:
        policies["compiled channels_last fp32"] = ExecutionPolicy(compile=True)
    classifiers, timed, warmups = {}, {}, {}
    for label, policy in policies.items():
        classifier = load_classifier("efficientnet_lite0", device=options.device)
        classifiers[label] = classifier.apply_policy(policy)
        names = (PHOTOS * options.batch)[: options.batch]
        images = classifier.prepare([sample_image(name) for name in names])
        timed[label] = {**model_costs(classifier, images), **path_costs(classifier, images)}
    rounds = timed_rounds(timed, options.reps)
    for label, classifier in classifiers.items():
        if classifier.policy.compile:
            warmups[label] = round(classifier.compile_warmup_s, 1)
    labels = list(policies)
    fp32 = [label for label, policy in policies.items() if policy.precision == "fp32"]
    kinds = {name: work.kind for name, work in timed[labels[0]].items()}
    models = {
        label: {kind: statistics.median(r[label][kind] for r in rounds) for kind in WORK}
        for label in labels
    }
    best = {kind: statistics.median(fastest(r, labels, kind) for r in rounds) for kind in WORK}
    rows = []
    for path, kind in kinds.items():
        if path in WORK:
            continue
        allowed = fp32 if kind.endswith(FP32_ONLY) else labels
        by_policy = {label: statistics.median(r[label][path] for r in rounds) for label in labels}
        ratios = [fastest(r, allowed, path) / fastest(r, allowed, paired(path)) for r in rounds]
        speedups = [r[labels[0]][path] / fastest(r, allowed, path) for r in rounds]
        rows.append(
            {
                "path": path,
                "work": kind,
                "seconds": {label: round(value, 4) for label, value in by_policy.items()},
                "best_policy": min(allowed, key=by_policy.get),
                "ratio_to_best_model": round(statistics.median(ratios), 3),
                "ratio_range": [round(min(ratios), 3), round(max(ratios), 3)],
                "speedup_over_eager_fp32": round(statistics.median(speedups), 2),
            }
        )
    classifier = classifiers[labels[0]]
    curves = [] if options.no_suite else suite_curves(classifier, policies, options.threads)
    print(f"EfficientNet-Lite0 224x224, batch {options.batch}, {options.threads} threads")
    if not native:
        print("  bf16 not measured: this device has no native bfloat16 kernels")
    for label, costs in models.items():
        print(
            f"  {label:<28} forward {costs['forward']:.3f} s  "
            f"forward+backward {costs['forward_backward']:.3f} s"
        )
    print(
        f"{'path':<22} {'best policy':<28} {'s/unit':>8} {'ratio':>6} {'range':>11} {'speedup':>8}"
    )
    for row in rows:
        low, high = row["ratio_range"]
        print(
            f"{row['path']:<22} {row['best_policy']:<28} {row['seconds'][row['best_policy']]:8.3f} "
            f"{row['ratio_to_best_model']:6.2f} {low:5.2f}-{high:<5.2f} "
            f"{row['speedup_over_eager_fp32']:8.2f}"
        )
    for row in curves:
        print(
            f"imagenet-photos deletion+insertion, {row['policy']:<28} {row['seconds']:7.1f} s "
            f"x{row['speedup']:.2f}  AUC change: largest {row['max_auc_change']:.2e}, "
            f"of the suite's means {row['max_mean_auc_change']:.2e}"
        )
    report = {
        "model": "efficientnet_lite0",
        "batch": options.batch,
        "threads": options.threads,
        "device": options.device,
        "cpu": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "native_bf16": native,
        "torch": torch.__version__,
        "model_costs": {
            label: {k: round(v, 4) for k, v in costs.items()} for label, costs in models.items()
        },
        "best_model_costs": {k: round(v, 4) for k, v in best.items()},
        "compile_warmup_s": warmups,
        "paths": rows,
        "imagenet_photos_deletion_insertion": curves,
        "target": "each path <= 1.2x the best execution of the model at the same batch",
    }
    options.out.parent.mkdir(parents=True, exist_ok=True)
    options.out.write_text(json.dumps(report, indent=1) + "\n")
    print(f"wrote {options.out}")


if __name__ == "__main__":
    main()
