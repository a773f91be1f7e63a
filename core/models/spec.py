"""What it takes to load a classifier: a registered name, or a weights file with its contract.

A :class:`ModelSpec` is what every command and job takes as ``model``: a registered name
(``efficientnet_lite0``), a weights file (``.safetensors`` / ``.pt`` / ``.pth`` with ``arch``;
TorchScript with ``trust_code``), a model folder in the timm / Hugging Face layout
(:mod:`~genlens.core.models.model_folder`: read into its weights file and fields), or a small
JSON model card holding the same fields::

    {"weights": "w.safetensors", "arch": "resnet18", "num_classes": 10,
     "labels": "labels.txt", "input_size": 224, "mean": [0.485, 0.456, 0.406],
     "std": [0.229, 0.224, 0.225]}

``weights`` and a ``labels`` file are relative to the card; ``labels`` may also be a list.
"""

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import torch

from genlens.core import defaults
from genlens.core.errors import ModelLoadError, ParameterError
from genlens.core.models.classifier import Classifier
from genlens.core.models.execution import ExecutionPolicy
from genlens.core.models.loading import IMAGENET_PREPROCESSING, load_classifier
from genlens.core.models.model_folder import INTERPOLATIONS, is_model_folder, read_model_folder
from genlens.core.models.preprocessing import Preprocessing
from genlens.core.models.registry import is_registered

CARD_SUFFIX = ".json"
CARD_FIELDS = {"weights", "arch", "num_classes", "labels", "input_size", "mean", "std"}
MAX_LABELS_BYTES = 10_000_000


@dataclass(frozen=True)
class ModelSpec:
    """How to load one classifier.

    Attributes:
        source: a registered name or the path of a weights file.
        arch: timm/torchvision architecture of a weights file (e.g. ``"resnet18"``).
        num_classes: output classes (inferred from the weights when ``None``).
        labels: class names (``"class i"`` when ``None``).
        input_size: (H, W) the network is fed (224 x 224 when ``None``).
        mean, std: per-channel normalisation of [0, 1] input (ImageNet's when ``None``).
        trust_code: allow TorchScript archives (they contain executable code).
        precision: ``"fp32"`` or ``"bf16"`` (:class:`ExecutionPolicy`).
        compile: ``torch.compile`` the network (opt-in, for long work).
        crop_pct, interpolation: resize policy (:class:`Preprocessing`; default: 0.875 and
            bicubic without ``input_size``, no crop with it).
        model_args: further keyword arguments of the architecture's builder (a model
            folder's ``model_args``, e.g. a ViT's ``img_size`` and ``patch_size``).
    """

    source: str
    arch: str | None = None
    num_classes: int | None = None
    labels: tuple[str, ...] | None = None
    input_size: tuple[int, int] | None = None
    mean: tuple[float, ...] | None = None
    std: tuple[float, ...] | None = None
    trust_code: bool = False
    precision: str = defaults.PRECISION
    compile: bool = False
    crop_pct: float | None = None
    interpolation: str | None = None
    model_args: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        ExecutionPolicy(self.precision)
        if self.crop_pct is not None and not (
            isinstance(self.crop_pct, int | float) and 0 < self.crop_pct <= 1
        ):
            raise ParameterError(f"crop_pct must be in (0, 1], got {self.crop_pct!r}")
        if self.interpolation is not None and self.interpolation not in INTERPOLATIONS:
            raise ParameterError(
                f"interpolation must be one of {', '.join(INTERPOLATIONS)}, "
                f"got {self.interpolation!r}"
            )
        if self.model_args is not None and not (
            isinstance(self.model_args, dict) and all(isinstance(k, str) for k in self.model_args)
        ):
            raise ParameterError(f"model_args must map names to values, got {self.model_args!r}")
        if self.num_classes is not None and (
            isinstance(self.num_classes, bool) or self.num_classes < 1
        ):
            raise ParameterError(f"num_classes must be >= 1, got {self.num_classes!r}")
        if self.input_size is not None and (
            len(self.input_size) != 2 or any(side < 1 for side in self.input_size)
        ):
            raise ParameterError(f"input size must be two sides >= 1, got {self.input_size!r}")
        for name in ("mean", "std"):
            values = getattr(self, name)
            if values is not None and (
                len(values) not in (1, 3) or not all(math.isfinite(v) for v in values)
            ):
                raise ParameterError(f"{name} needs 1 or 3 finite values, got {values!r}")
        if self.std is not None and any(value <= 0 for value in self.std):
            raise ParameterError(f"std must be > 0, got {self.std!r}")
        if (self.mean is None) != (self.std is None) or (
            self.mean is not None and len(self.mean) != len(self.std or ())
        ):
            raise ParameterError("give mean and std together, with one value per channel")

    @property
    def registered(self) -> bool:
        """Whether :attr:`source` is a registered name (no file)."""
        return is_registered(self.source)

    @property
    def preprocessing(self) -> Preprocessing | None:
        """The input contract of a weights file (``None`` for a registered name)."""
        if self.registered:
            return None
        base = IMAGENET_PREPROCESSING
        crop = base.crop_pct if self.input_size is None else 1.0
        return Preprocessing(
            self.input_size or base.input_size,
            self.mean or base.mean,
            self.std or base.std,
            crop if self.crop_pct is None else float(self.crop_pct),
            self.interpolation or base.interpolation,
        )

    def load(self, device: str | torch.device | None = "auto") -> Classifier:
        """The classifier (frozen, eval, on ``device``, running with this spec's precision);
        bad files raise :class:`ModelLoadError`."""
        classifier = load_classifier(
            self.source,
            arch=self.arch,
            num_classes=self.num_classes,
            labels=self.labels,
            preprocessing=self.preprocessing,
            model_args=self.model_args,
            trust_code=self.trust_code,
            device=device,
        )
        return classifier.apply_policy(ExecutionPolicy(self.precision, compile=self.compile))

    def to_json(self) -> dict[str, Any]:
        """A JSON-safe dict (tuples as lists); :meth:`from_json` inverts it."""
        return {key: list(v) if isinstance(v, tuple) else v for key, v in asdict(self).items()}

    @classmethod
    def from_json(cls, record: dict[str, Any]) -> "ModelSpec":
        fields = {key: tuple(v) if isinstance(v, list) else v for key, v in record.items()}
        return cls(**fields)

    @classmethod
    def parse(
        cls,
        model: str,
        arch: str | None = None,
        num_classes: int | None = None,
        labels: str | Path | Sequence[str] | None = None,
        input_size: int | Sequence[int] | None = None,
        mean: Sequence[float] | None = None,
        std: Sequence[float] | None = None,
        trust_code: bool = False,
        precision: str = defaults.PRECISION,
        compile: bool = False,
    ) -> "ModelSpec":
        """A spec from command-line style values: ``model`` is a registered name, a weights
        file or a JSON card (its fields, then the other arguments given here on top);
        ``labels`` is a text file (one name per line) or a list; ``input_size`` one side or
        (H, W)."""
        if not isinstance(model, str) or not model:
            raise ParameterError(f"model must be a registered name or a file, got {model!r}")
        given = {
            "arch": arch,
            "num_classes": num_classes,
            "labels": labels,
            "input_size": input_size,
            "mean": mean,
            "std": std,
        }
        if Path(model).is_dir() and not is_registered(model):
            spec = cls._from_folder(Path(model), given)
        elif model.lower().endswith(CARD_SUFFIX) and not is_registered(model):
            card, folder = _read_card(Path(model))
            fields = {**card, **{key: value for key, value in given.items() if value}}
            spec = cls._build(_card_weights(card, folder, model), fields, folder, trust_code)
        else:
            spec = cls._build(model, given, Path.cwd(), trust_code)
        return replace(spec, precision=precision, compile=compile)

    @classmethod
    def _from_folder(cls, path: Path, given: dict[str, Any]) -> "ModelSpec":
        """The spec of a timm / hub model folder's weights file (values ``given`` win)."""
        if not is_model_folder(path):
            raise ModelLoadError(f"{path}: a model folder needs a config.json (timm / hub layout)")
        folder = read_model_folder(path)
        spec = cls(
            str(folder.weights),
            arch=folder.architecture,
            num_classes=folder.num_classes,
            labels=tuple(folder.labels) if folder.labels else None,
            input_size=folder.preprocessing.input_size,
            mean=folder.preprocessing.mean,
            std=folder.preprocessing.std,
            crop_pct=folder.preprocessing.crop_pct,
            interpolation=folder.preprocessing.interpolation,
            model_args=folder.model_args or None,
        )
        chosen = cls._build(spec.source, given, Path.cwd(), False)
        overrides = {k: getattr(chosen, k) for k, value in given.items() if value}
        return replace(spec, **overrides)

    @classmethod
    def _build(
        cls, source: str, fields: dict[str, Any], folder: Path, trust_code: bool
    ) -> "ModelSpec":
        size = fields.get("input_size")
        if isinstance(size, int):
            size = (size, size)
        return cls(
            source,
            arch=fields.get("arch"),
            num_classes=fields.get("num_classes"),
            labels=_labels(fields.get("labels"), folder),
            input_size=tuple(size) if size else None,
            mean=tuple(fields["mean"]) if fields.get("mean") else None,
            std=tuple(fields["std"]) if fields.get("std") else None,
            trust_code=trust_code,
        )


def _read_card(path: Path) -> tuple[dict[str, Any], Path]:
    if not path.is_file():
        raise ModelLoadError(f"model card not found: {path}")
    try:
        card = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelLoadError(f"{path.name}: not a JSON model card ({exc})") from None
    if not isinstance(card, dict):
        raise ModelLoadError(f"{path.name}: a model card is a JSON object")
    unknown = sorted(set(card) - CARD_FIELDS)
    if unknown:
        raise ModelLoadError(
            f"{path.name}: unknown field(s) {unknown}; valid: {', '.join(sorted(CARD_FIELDS))}"
        )
    return card, path.parent


def _card_weights(card: dict[str, Any], folder: Path, name: str) -> str:
    weights = card.get("weights")
    if not isinstance(weights, str) or not weights:
        raise ModelLoadError(f'{Path(name).name}: the card needs "weights": a file name')
    return str(folder / weights)


def _labels(labels: Any, folder: Path) -> tuple[str, ...] | None:
    """Class names from a list, or from a UTF-8 text file (one per line, blank lines dropped)."""
    if labels is None:
        return None
    if isinstance(labels, str | Path):
        path = folder / labels
        if not path.is_file():
            raise ModelLoadError(f"labels file not found: {path}")
        if path.stat().st_size > MAX_LABELS_BYTES:
            raise ModelLoadError(f"{path.name}: labels file over {MAX_LABELS_BYTES:,} bytes")
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except UnicodeDecodeError:
            raise ModelLoadError(f"{path.name}: labels must be UTF-8 text, one per line") from None
        labels = [line.strip() for line in lines if line.strip()]
    if not isinstance(labels, Sequence) or not all(isinstance(item, str) for item in labels):
        raise ModelLoadError("labels must be a text file or a list of names")
    if not labels:
        raise ModelLoadError("the labels list is empty")
    return tuple(labels)
