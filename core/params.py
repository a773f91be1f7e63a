"""Declared parameters: defaults, types and valid ranges, checked before any compute.

Every family declares its parameters with :class:`Param` (saliency methods, feature
visualization, the diagnostic job) and checks what it is given with :func:`resolve_params`;
:func:`check_seed` is the one seed rule. No torch here: help texts read the declarations.
"""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from genlens.core import defaults
from genlens.core.errors import ParameterError


@dataclass(frozen=True)
class Param:
    """One numeric (or string) method parameter.

    Attributes:
        default: value used when the caller gives none; its type is the parameter's type.
        low, high: inclusive bounds for numbers (``None`` = unbounded).
        positive: numbers must be > 0 (stricter than ``low=0``).
        doc: one-line description with units.
        choices: the values a string parameter may take (empty = any string).
    """

    default: Any
    low: float | None = None
    high: float | None = None
    positive: bool = False
    doc: str = ""
    choices: tuple[str, ...] = ()

    def check(self, name: str, value: Any) -> Any:
        """Return ``value`` converted to the parameter's type, or raise :class:`ParameterError`."""
        kind = type(self.default)
        if kind is str:
            if not isinstance(value, str):
                raise ParameterError(f"parameter {name!r} must be a string, got {value!r}")
            if self.choices and value not in self.choices:
                raise ParameterError(
                    f"parameter {name!r} must be one of {', '.join(self.choices)}, got {value!r}"
                )
            return value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ParameterError(f"parameter {name!r} must be a number, got {value!r}")
        if kind is int and float(value) != int(value):
            raise ParameterError(f"parameter {name!r} must be an integer, got {value!r}")
        if not math.isfinite(value):
            raise ParameterError(f"parameter {name!r} must be finite, got {value!r}")
        number = kind(value)
        if self.positive and number <= 0:
            raise ParameterError(f"parameter {name!r} must be > 0, got {value!r}")
        if (self.low is not None and number < self.low) or (
            self.high is not None and number > self.high
        ):
            raise ParameterError(
                f"parameter {name!r} must be in [{self.low}, {self.high}], got {value!r}"
            )
        return number


BATCH_DOC = "{} per forward pass (0 = the classifier's policy: Classifier.forward_batch)"
"""Help text of a ``batch`` parameter, whose 0 default defers to the execution policy."""


MAX_SEED = 2**62


def check_seed(seed: Any) -> int:
    """``seed`` if it is an integer in ``[0, 2**62)``, else :class:`ParameterError`."""
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < MAX_SEED:
        raise ParameterError(f"seed must be an integer in [0, 2**62), got {seed!r}")
    return seed


def check_precision(precision: Any) -> str:
    """``precision`` if it is one of :data:`~genlens.core.defaults.PRECISIONS`, else
    :class:`ParameterError`."""
    if precision not in defaults.PRECISIONS:
        raise ParameterError(
            f"precision must be one of {', '.join(defaults.PRECISIONS)}, got {precision!r}"
        )
    return precision


def check_integers(values: Any, name: str, most: int, low: int, what: str) -> list[int]:
    """``values`` as a list if it holds 1 to ``most`` integers >= ``low`` (``what`` names them
    in the message), else :class:`ParameterError`."""
    if (
        not isinstance(values, Sequence)
        or isinstance(values, str)
        or not 1 <= len(values) <= most
        or any(isinstance(v, bool) or not isinstance(v, int) or v < low for v in values)
    ):
        raise ParameterError(f"{name} must be 1 to {most} {what} >= {low}, got {values!r}")
    return list(values)


def resolve_params(
    method: str, specs: Mapping[str, Param], given: Mapping[str, Any]
) -> dict[str, Any]:
    """Merge ``given`` over the defaults in ``specs``; unknown names and bad values raise."""
    unknown = sorted(set(given) - set(specs))
    if unknown:
        valid = ", ".join(sorted(specs)) or "none"
        raise ParameterError(f"method {method!r} has no parameter(s) {unknown}; valid: {valid}")
    resolved = {name: spec.default for name, spec in specs.items()}
    resolved.update({name: specs[name].check(name, value) for name, value in given.items()})
    return resolved


def with_defaults(specs: Mapping[str, Param], **new: Any) -> dict[str, Param]:
    """``specs`` with the defaults in ``new`` (each checked against its declaration): a preset
    of a family declares its parameters once, through the family's declaration."""
    unknown = sorted(set(new) - set(specs))
    if unknown:
        raise ParameterError(f"no parameter(s) {unknown} to set a default for")
    return {
        name: replace(spec, default=spec.check(name, new[name])) if name in new else spec
        for name, spec in specs.items()
    }
