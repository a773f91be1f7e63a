"""Evaluate saliency methods x suites into leaderboard rows (resumable, with progress).

Each row: suite, method, parameters, per-metric mean with a 95% bootstrap interval, the
cascading-randomisation sanity curve when the suite asks for it, runtime per image, peak memory,
versions, a hash of the inputs and of the classifier's weights. Rows are appended to
``<out>/results.jsonl`` as they finish; a rerun skips rows already there (same suite, method,
parameters with every default written out, precision, classifier weights and the suite's
inputs), so an interrupted benchmark resumes where it stopped, while a retrained classifier, a
changed default, other images or another precision is evaluated anew (bf16 rows stand beside
fp32 ones).
"""

import hashlib
import json
import platform
import resource
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import torch
from torch import nn

from genlens import __version__
from genlens.core import defaults
from genlens.core.errors import ParameterError
from genlens.core.models import Classifier, ModelSpec, borrow
from genlens.core.params import resolve_params
from genlens.core.progress import ProgressCallback, no_progress
from genlens.core.saliency import explain, get_method
from genlens.evaluation.entries import BenchmarkEntry, parse_entries
from genlens.evaluation.metrics import (
    MetricInput,
    cascading_randomization,
    metric,
    parameter_layers,
)
from genlens.evaluation.suites import Suite, SuiteData
from genlens.evaluation.suites.folder import resolve_suite

BOOTSTRAP_SAMPLES = 1000


@dataclass(frozen=True)
class MetricValue:
    """Mean over images with a 95% percentile-bootstrap interval."""

    value: float
    low: float
    high: float


@dataclass(frozen=True)
class SanityResult:
    """Cascading randomisation: Spearman rho of |maps| after randomising ``layers[: i + 1]``.

    ``rho[i]`` is the mean over the sanity images with a 95% bootstrap interval; a method that
    depends on the model falls towards 0 (Adebayo et al. 2018, evaluation.md §6.4).
    """

    layers: list[str]
    rho: list[MetricValue]


@dataclass(frozen=True)
class ResultRow:
    """One method's scores on a suite with one classifier: metric values with 95% intervals,
    cost, and what it ran on (``inputs_hash``, ``model_hash``; ``model``: the classifier's
    name, empty in rows stored before it was recorded)."""

    suite: str
    method: str
    infill: str
    params: dict
    metrics: dict[str, MetricValue]
    seconds_per_image: float
    peak_memory_mb: float
    images: int
    inputs_hash: str
    versions: dict[str, str]
    model_hash: str = ""
    sanity: SanityResult | None = None
    precision: str = defaults.PRECISION
    model: str = ""

    @classmethod
    def from_json(cls, record: dict) -> "ResultRow":
        """The inverse of ``dataclasses.asdict(row)`` (rows stored before sanity and precision
        existed too: those ran in fp32)."""
        metrics = {name: MetricValue(**value) for name, value in record["metrics"].items()}
        sanity = record.get("sanity")
        if sanity:
            sanity = SanityResult(sanity["layers"], [MetricValue(**v) for v in sanity["rho"]])
        return cls(**{**record, "metrics": metrics, "sanity": sanity})

    def board_key(self) -> tuple[str, str, str, str]:
        """(suite, method, in-filler and parameters, precision): one leaderboard line."""
        return _board_key(self.suite, self.method, self.infill, self.params, self.precision)

    def key(self) -> tuple[str, str, str, str, str, str]:
        """:meth:`board_key`, the classifier weights and the suite's inputs: one stored result
        (a suite whose images changed is a new result, not a stale resumed one)."""
        return *self.board_key(), self.model_hash, self.inputs_hash

    @property
    def label(self) -> str:
        """``method@infiller`` for methods whose map depends on the in-filler, else the name;
        `` (bf16)`` added for rows not run in the default precision."""
        label = BenchmarkEntry(self.method, self.infill).label
        return label if self.precision == defaults.PRECISION else f"{label} ({self.precision})"


def bootstrap(values: torch.Tensor, classes: torch.Tensor, aggregate, seed: int) -> MetricValue:
    """Aggregate and its 2.5/97.5 percentiles over ``BOOTSTRAP_SAMPLES`` image resamples."""
    generator = torch.Generator().manual_seed(seed)
    count = values.shape[0]
    draws = [
        aggregate(values[idx], classes[idx])
        for idx in torch.randint(0, count, (BOOTSTRAP_SAMPLES, count), generator=generator)
    ]
    low, high = torch.tensor(draws).nan_to_num(float("nan")).quantile(torch.tensor([0.025, 0.975]))
    return MetricValue(aggregate(values, classes), float(low), float(high))


@dataclass(frozen=True)
class Sample:
    """``limit`` images of a suite drawn without replacement with ``seed`` (kept in order)."""

    limit: int
    seed: int = 0

    def __post_init__(self) -> None:
        if self.limit < 1:
            raise ParameterError(f"limit must be >= 1, got {self.limit}")

    def indices(self, count: int) -> torch.Tensor:
        """Sorted indices (min(limit, count),) into ``count`` images."""
        generator = torch.Generator().manual_seed(self.seed)
        return torch.randperm(count, generator=generator)[: self.limit].sort().values


@dataclass(frozen=True)
class LoadedSuite:
    """A suite with its classifier and data loaded once for all methods."""

    suite: Suite
    classifier: Classifier
    data: SuiteData
    model_hash: str

    @classmethod
    def load(
        cls,
        suite: str | Path | Suite,
        device: str = "auto",
        model: ModelSpec | Classifier | None = None,
        sample: Sample | None = None,
    ) -> "LoadedSuite":
        """The suite (a :class:`Suite`, a registered name or a suite folder) with ``model``
        (default: the suite's own classifier) and its data, or the ``sample`` of it."""
        suite = suite if isinstance(suite, Suite) else resolve_suite(suite)
        specs = [metric(name) for name in suite.metrics]
        suite.check_model(model)
        model = ModelSpec(suite.classifier) if model is None else model
        classifier = model if isinstance(model, Classifier) else model.load(device)
        data = suite.load(classifier)
        if sample is not None:
            data = data.subset(sample.indices(len(data.images)))
        if data.mask_present is not None and not data.mask_present.any():
            data = replace(data, masks=None, mask_present=None)  # a sample without ground truth
        missing = [spec.name for spec in specs if spec.needs_masks and data.masks is None]
        if missing:
            raise ParameterError(f"suite {suite.name} has no ground-truth masks for {missing}")
        return cls(suite, classifier, data, _model_hash(classifier))

    @property
    def work_units(self) -> int:
        """Progress units of one method: explanation batches, metrics and the sanity test."""
        batches = -(-len(self.data.images) // self.suite.batch_size)
        return batches + len(self.suite.metrics) + bool(self.suite.sanity_images)


def evaluate(
    loaded: LoadedSuite,
    method: str,
    infill: str = defaults.INFILL,
    params: dict | None = None,
    progress: ProgressCallback = no_progress,
) -> ResultRow:
    """One leaderboard row: explain every image of the suite with ``method`` and score it.

    ``progress(done, loaded.work_units)`` after each explanation batch and each metric.
    """
    suite, classifier, data = loaded.suite, loaded.classifier, loaded.data
    params = resolved_params(method, {**suite.method_params.get(method, {}), **(params or {})})
    maps, seconds, peak = _explain_all(loaded, method, infill, params, progress)
    device = data.images.device
    everything = MetricInput(
        classifier,
        data.images,
        maps.to(device),
        data.target.to(device),
        data.masks,
        data.pixel_scale,
    )
    metrics = {}
    batches = loaded.work_units - len(suite.metrics) - bool(suite.sanity_images)
    for position, name in enumerate(suite.metrics, 1):
        spec = metric(name)
        inputs, classes = everything, data.target.cpu()
        if spec.needs_masks and data.mask_present is not None:
            inputs, classes = everything.subset(data.mask_present), classes[data.mask_present]
        values = spec.compute(inputs).float().cpu()
        metrics[name] = bootstrap(values, classes, spec.aggregate, suite.seed)
        progress(batches + position, loaded.work_units)
    sanity = _sanity(loaded, method, infill, params) if suite.sanity_images else None
    progress(loaded.work_units, loaded.work_units)
    return ResultRow(
        suite=suite.name,
        method=method,
        infill=infill,
        params=params,
        metrics=metrics,
        seconds_per_image=seconds / len(data.images),
        peak_memory_mb=peak,
        images=len(data.images),
        inputs_hash=_inputs_hash(data),
        versions={
            "genlens": __version__,
            "torch": torch.__version__,
            "python": platform.python_version(),
        },
        model_hash=loaded.model_hash,
        sanity=sanity,
        precision=classifier.policy.precision,
        model=classifier.name,
    )


def _maps(
    classifier: Classifier,
    images: torch.Tensor,
    target: torch.Tensor,
    method: str,
    infill: str,
    params: dict,
    seed: int,
) -> torch.Tensor:
    """Saliency maps (B, H, W) of ``method`` for ``images`` (B, C, H, W) and ``target`` (B,)."""
    return explain(
        classifier, images, target.tolist(), method=method, infill=infill, seed=seed, **params
    ).maps


def _sanity(loaded: LoadedSuite, method: str, infill: str, params: dict) -> SanityResult:
    """The cascading randomisation curve of ``method`` on the suite's first sanity images."""
    suite, data = loaded.suite, loaded.data
    images = data.images[: suite.sanity_images]
    target = data.target[: suite.sanity_images]

    def maps(classifier: Classifier, images: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return _maps(classifier, images, target, method, infill, params, suite.seed)

    layers = list(suite.sanity_layers) or parameter_layers(loaded.classifier)
    curve = cascading_randomization(loaded.classifier, images, target, maps, layers, suite.seed)
    rho = [bootstrap(values, target.cpu(), _mean, suite.seed) for values in curve.correlations]
    return SanityResult(curve.layers, rho)


def _explain_all(loaded: LoadedSuite, method, infill, params, progress):
    """Maps (N, H, W) for the whole suite in batches; total seconds and peak memory (MiB).

    Peak memory is ``torch.cuda.max_memory_allocated`` on CUDA and the process' resident-set
    high-water mark on CPU (a whole-process figure, so it never decreases between rows).
    """
    suite, classifier, data = loaded.suite, loaded.classifier, loaded.data
    if classifier.device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(classifier.device)
    batches = data.images.split(suite.batch_size)
    targets = data.target.split(suite.batch_size)
    maps, seconds = [], 0.0
    for index, (images, target) in enumerate(zip(batches, targets, strict=True)):
        started = time.perf_counter()
        seed = suite.seed + index * suite.batch_size
        maps.append(_maps(classifier, images, target, method, infill, params, seed))
        seconds += time.perf_counter() - started
        progress(index + 1, loaded.work_units)
    if classifier.device.type == "cuda":
        peak = torch.cuda.max_memory_allocated(classifier.device) / 2**20
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return torch.cat(maps), seconds, peak


def run_benchmark(
    suite: str | Path | Suite,
    methods: str | Sequence[str | BenchmarkEntry],
    out: str | Path,
    infill: str = defaults.INFILL,
    device: str = "auto",
    progress: ProgressCallback = no_progress,
    model: ModelSpec | Classifier | nn.Module | None = None,
    sample: Sample | None = None,
) -> list[ResultRow]:
    """Evaluate ``methods`` on a suite (a :class:`Suite`, a registered name or a suite folder,
    see :mod:`genlens.evaluation.suites.folder`), appending rows to ``out/results.jsonl``
    (resumable).

    Each entry is a :class:`BenchmarkEntry`, a method name or ``method@infiller`` (e.g.
    ``fido-ssr@learned``), or all of them comma-separated; bare names use ``infill``.
    ``progress(done, total)`` counts explanation batches and metrics. ``model`` replaces the
    suite's classifier (its rows are keyed by the model's weights): a :class:`ModelSpec`, a
    :class:`Classifier`, or a module wrapped with ``Classifier.wrap`` (left as it was after).
    ``sample``: evaluate a random subset (rows keyed by its inputs, like any other images).
    """
    entries = [(entry.method, entry.infill) for entry in parse_entries(methods, infill)]
    if not isinstance(model, nn.Module):
        return _run(suite, entries, Path(out), device, progress, model, sample)
    with borrow(model) as classifier:
        return _run(suite, entries, Path(out), device, progress, classifier, sample)


def _run(
    suite: str | Path | Suite,
    entries: list[tuple[str, str]],
    out: Path,
    device: str,
    progress: ProgressCallback,
    model: ModelSpec | Classifier | None,
    sample: Sample | None,
) -> list[ResultRow]:
    loaded = LoadedSuite.load(suite, device, model, sample)  # validates before writing
    out.mkdir(parents=True, exist_ok=True)
    path = out / "results.jsonl"
    rows = load_rows(path)
    done = {row.key() for row in rows}
    suite = loaded.suite
    precision = loaded.classifier.policy.precision
    inputs_hash = _inputs_hash(loaded.data)
    keys = {
        (m, i): (
            *_board_key(
                suite.name, m, i, resolved_params(m, suite.method_params.get(m, {})), precision
            ),
            loaded.model_hash,
            inputs_hash,
        )
        for m, i in entries
    }
    todo = [entry for entry in entries if keys[entry] not in done]
    if todo:
        units = loaded.work_units
        total = len(todo) * units
        progress(0, total)
        for position, (name, method_infill) in enumerate(todo):
            row = evaluate(
                loaded,
                name,
                method_infill,
                progress=lambda d, _t, p=position: progress(p * units + d, total),
            )
            with path.open("a") as handle:
                handle.write(json.dumps(asdict(row)) + "\n")
            rows.append(row)
    return [row for row in rows if row.key() in keys.values()]


def load_rows(path: str | Path) -> list[ResultRow]:
    """Rows stored in a ``results.jsonl`` file (empty when it does not exist)."""
    path = Path(path)
    if not path.exists():
        return []
    return [ResultRow.from_json(json.loads(line)) for line in path.read_text().splitlines()]


def resolved_params(method: str, params: dict) -> dict:
    """Every declared parameter of ``method``: ``params`` over its current defaults. Rows store
    and are keyed by these, so a changed default is a new row, not a stale resumed one."""
    return resolve_params(method, get_method(method).params, params)


def _board_key(
    suite: str, method: str, infill: str, params: dict, precision: str
) -> tuple[str, str, str, str]:
    return suite, method, _params_hash(infill, params), precision


def _params_hash(infill: str, params: dict) -> str:
    return hashlib.sha256(json.dumps([infill, params], sort_keys=True).encode()).hexdigest()[:16]


def _mean(values: torch.Tensor, _classes: torch.Tensor) -> float:
    return float(values.mean())


def _model_hash(classifier: Classifier) -> str:
    """Digest of the classifier's parameters and buffers (names, shapes and values)."""
    digest = hashlib.sha256()
    for name, tensor in classifier.net.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]


def _inputs_hash(data: SuiteData) -> str:
    digest = hashlib.sha256(data.images.cpu().numpy().tobytes())
    digest.update(data.target.cpu().numpy().tobytes())
    for extra in (data.masks, data.mask_present, data.pixel_scale):
        if extra is not None:
            digest.update(extra.cpu().numpy().tobytes())
    return digest.hexdigest()[:16]
