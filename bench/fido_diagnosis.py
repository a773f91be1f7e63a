"""Why FIDO misses the evidence on BlockFashion: variants on the validation split (a script).

Runs FIDO/BBMP variants and the Grad-CAM baseline on the first ``--images`` canvases of the
BlockFashion **validation** split (never the test canvases the ``blockfashion-gt`` suite
scores) with ``blockfashion-cnn`` and its ground-truth item masks, and prints, per variant:
top-k precision (relevance rank: the share of the k most salient pixels on the item, k = the
item's area), pointing game and relevance mass, the mean over canvases with a 95% bootstrap
interval. Also measures how the classifier uses the item: p(target) with only the item kept
(the rest in-filled) and with only the item in-filled.

Writes ``bench/results/fido-diagnosis.json`` and a picture of the maps of four canvases
(``fido-diagnosis.png``).

Usage: ``.venv/bin/python bench/fido_diagnosis.py [--images 32] [--steps 100]
[--precision bf16] [--variants NAME,NAME] [--extra JSON] [--out PATH]``.
"""

import argparse
import json
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import torch

from genlens.core.data.blockfashion import BlockFashion
from genlens.core.models import ModelSpec
from genlens.core.saliency import explain, make_infiller
from genlens.core.saliency.noise import SampleNoise
from genlens.evaluation.metrics import MetricInput, metric
from genlens.evaluation.runner import bootstrap

RESULTS = Path(__file__).parent / "results"
METRICS = ("relevance-rank", "pointing-game", "relevance-mass")

# name -> (method, in-filler, parameters beyond the suite's 100 steps); "paper" is the original
# code's choice of both options, "grid+area" genlens' defaults.
OPTIONS = {
    "paper": {"noise": "pixel", "reg_norm": "pixels"},
    "noise=grid": {"noise": "grid", "reg_norm": "pixels"},
    "reg_norm=area": {"noise": "pixel", "reg_norm": "area"},
    "grid+area": {"noise": "grid", "reg_norm": "area"},
}
VARIANTS: dict[str, tuple[str, str, dict]] = {
    "grad-cam": ("grad-cam", "learned", {}),
    "bbmp-ssr@local-mean": ("bbmp-ssr", "local-mean", {}),
    **{
        f"{method}@{infill} {label}": (method, infill, params)
        for method in ("fido-ssr", "fido-sdr")
        for infill in ("learned", "local-mean")
        for label, params in OPTIONS.items()
    },
}

PICTURED = (
    "grad-cam",
    "bbmp-ssr@local-mean",
    "fido-ssr@learned paper",
    "fido-ssr@learned grid+area",
    "fido-sdr@learned paper",
    "fido-sdr@learned grid+area",
)
"""The variants drawn in the picture (those of them that ran)."""


def _validation(count: int, device: torch.device):
    dataset = BlockFashion("val")
    images, labels = zip(*(dataset[i] for i in range(count)), strict=True)
    masks = torch.stack(
        [dataset.mask(i).bool().reshape(images[0].shape[-2:]) for i in range(count)]
    )
    return torch.stack(images).to(device), torch.tensor(labels), masks


def _item_use(classifier, images, target, masks) -> dict[str, float]:
    """Mean p(target): clean, only the item kept (rest in-filled), only the item in-filled."""
    fill = make_infiller("learned", classifier)
    noise = SampleNoise(len(images), 1, 0, images.device)
    item = masks.unsqueeze(1).to(images)
    out = {}
    with torch.no_grad():
        for name, observed in (
            ("clean", torch.ones_like(item)),
            ("item only", item),
            ("item removed", 1 - item),
        ):
            filled = fill.bind(images)(observed, noise)
            composite = observed * images + (1 - observed) * filled
            probs = classifier.predict(composite)
            out[name] = float(probs[torch.arange(len(target)), target].mean())
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=32)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--precision", default="fp32")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument(
        "--extra",
        type=json.loads,
        default={},
        help='JSON parameters added to every FIDO/BBMP variant, e.g. {"reg": 0.003}',
    )
    parser.add_argument("--out", type=Path, default=RESULTS / "fido-diagnosis.json")
    args = parser.parse_args()
    torch.set_num_threads(2)
    classifier = ModelSpec("blockfashion-cnn", precision=args.precision).load("cpu")
    images, target, masks = _validation(args.images, classifier.device)
    use = _item_use(classifier, images, target, masks)
    print("p(target):", {k: round(v, 3) for k, v in use.items()})
    rows, pictures = {}, {}
    for name in args.variants.split(","):
        method, infill, params = VARIANTS[name]
        if method != "grad-cam":
            params = {"steps": args.steps, **params, **args.extra}
        started = time.perf_counter()
        maps = torch.cat(
            [
                explain(
                    classifier, chunk, t.tolist(), method=method, infill=infill, seed=0, **params
                ).maps
                for chunk, t in zip(images.split(16), target.split(16), strict=True)
            ]
        )
        seconds = (time.perf_counter() - started) / len(images)
        inputs = MetricInput(classifier, images, maps, target, masks)
        values = {}
        for metric_name in METRICS:
            spec = metric(metric_name)
            value = bootstrap(spec.compute(inputs).float().cpu(), target, spec.aggregate, 0)
            values[metric_name] = [value.value, value.low, value.high]
        rows[name] = {
            "method": method,
            "infill": infill,
            "params": params,
            "seconds_per_image": seconds,
            **values,
        }
        if name in PICTURED:
            pictures[name] = maps[:4]
        print(
            f"{name:40s}",
            "  ".join(f"{m} {values[m][0]:.3f}" for m in METRICS),
            f"{seconds:.2f} s/img",
            flush=True,
        )
    args.out.write_text(
        json.dumps(
            {
                "images": args.images,
                "split": "val",
                "precision": args.precision,
                "item_use": use,
                "variants": rows,
            },
            indent=2,
        )
    )
    _picture(images[:4], masks[:4], pictures, args.out.with_suffix(".png"))
    print(f"wrote {args.out}")


def _picture(images, masks, pictures, path: Path) -> None:
    columns = 2 + len(pictures)
    figure, axes = plt.subplots(4, columns, figsize=(1.6 * columns, 6.6))
    for row in range(4):
        axes[row, 0].imshow(images[row, 0].cpu(), cmap="gray", vmin=0, vmax=1)
        axes[row, 1].imshow(masks[row].cpu(), cmap="gray")
        for column, (name, maps) in enumerate(pictures.items(), 2):
            axes[row, column].imshow(maps[row].cpu(), cmap="magma")
            if row == 0:
                axes[row, column].set_title(name, fontsize=6)
    axes[0, 0].set_title("canvas", fontsize=6)
    axes[0, 1].set_title("item", fontsize=6)
    for axis in axes.flat:
        axis.axis("off")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


if __name__ == "__main__":
    main()
