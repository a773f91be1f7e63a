"""The classifier options every command shares: ``--model`` with ``--arch``, ``--num-classes``,
``--labels``, ``--input-size``, ``--mean``, ``--std`` and ``--trust-code``.

:func:`model_options` adds them to a Typer command and hands the command one
:class:`~genlens.core.models.ModelSpec` as ``model``; nothing heavy is imported until the
command runs.
"""

import functools
import inspect
from collections.abc import Callable
from typing import Any

import typer

from genlens.core import defaults
from genlens.core.errors import ParameterError

OPTIONS: dict[str, tuple[Any, Any]] = {
    "arch": (
        str | None,
        typer.Option(None, help="timm/torchvision architecture of a weights file, e.g. resnet18."),
    ),
    "num_classes": (
        int | None,
        typer.Option(None, min=1, help="Classes of a weights file (default: from its last layer)."),
    ),
    "labels": (
        str | None,
        typer.Option(None, help="Text file of class names, one per line (weights files)."),
    ),
    "input_size": (
        int | None,
        typer.Option(None, min=1, help="Input side in pixels of a weights file (default 224)."),
    ),
    "mean": (
        str | None,
        typer.Option(None, help="Normalisation mean of a weights file, e.g. 0.485,0.456,0.406."),
    ),
    "std": (
        str | None,
        typer.Option(None, help="Normalisation std of a weights file, e.g. 0.229,0.224,0.225."),
    ),
    "precision": (
        str,
        typer.Option(
            defaults.PRECISION,
            help=f"Execution precision: {', '.join(defaults.PRECISIONS)} (bf16: autocast on "
            "AMX/AVX-512-BF16 CPUs and CUDA).",
        ),
    ),
    "compile": (
        bool,
        typer.Option(False, "--compile", help="torch.compile the network (long runs; warm-up)."),
    ),
    "trust_code": (
        bool,
        typer.Option(
            False, "--trust-code", help="Allow TorchScript files (they contain executable code)."
        ),
    ),
}


def model_option(default: str | None = defaults.MODEL) -> Any:
    """The ``--model`` / ``-m`` option: a registered name, a weights file or a JSON card."""
    return typer.Option(
        default,
        "--model",
        "-m",
        help="Registered model (see `genlens models`), a weights file (.safetensors/.pt/.pth) "
        "or a JSON model card.",
    )


def model_options(default: str | None = defaults.MODEL) -> Callable[[Callable], Callable]:
    """Decorator: the command gets the model options and is called with ``model`` =
    a :class:`~genlens.core.models.ModelSpec` (``None`` when ``default`` is ``None`` and no
    ``--model`` was given)."""

    def decorate(command: Callable) -> Callable:
        signature = inspect.signature(command)
        kept = [p for p in signature.parameters.values() if p.name != "model"]
        added = [
            inspect.Parameter(
                "model",
                inspect.Parameter.KEYWORD_ONLY,
                default=model_option(default),
                annotation=str | None,
            ),
            *(
                inspect.Parameter(
                    name, inspect.Parameter.KEYWORD_ONLY, default=option, annotation=annotation
                )
                for name, (annotation, option) in OPTIONS.items()
            ),
        ]

        @functools.wraps(command)
        def run(**values: Any) -> Any:
            given = {name: values.pop(name) for name in ("model", *OPTIONS)}
            return command(model=model_spec(**given), **values)

        parameters = [*kept, *added]
        run.__signature__ = signature.replace(parameters=parameters)
        run.__annotations__ = {
            p.name: p.annotation for p in parameters if p.annotation is not inspect.Parameter.empty
        }
        return run

    return decorate


def model_spec(model: str | None, mean: str | None, std: str | None, **given: Any) -> Any:
    """The :class:`~genlens.core.models.ModelSpec` of the command-line values."""
    from genlens.core.models import ModelSpec

    if model is None:
        if given["precision"] != defaults.PRECISION or given["compile"]:
            raise ParameterError(
                "--precision and --compile choose how --model runs: give --model too "
                "(e.g. the suite's own classifier, `genlens models` lists them)"
            )
        return None
    return ModelSpec.parse(model, mean=_floats(mean, "--mean"), std=_floats(std, "--std"), **given)


def _floats(text: str | None, option: str) -> tuple[float, ...] | None:
    if text is None:
        return None
    try:
        return tuple(float(value) for value in text.split(","))
    except ValueError:
        raise ParameterError(f"{option} takes comma-separated numbers, got {text!r}") from None
