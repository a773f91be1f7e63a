"""Benchmark entries: ``method`` or ``method@infiller``, parsed once into a typed value.

>>> parse_entries("grad-cam, fido-ssr@learned", default_infill="local-mean")
[BenchmarkEntry(method='grad-cam', infill='local-mean'), BenchmarkEntry(method='fido-ssr', ...)]
"""

from collections.abc import Sequence
from dataclasses import dataclass

from genlens.core import defaults
from genlens.core.errors import ParameterError
from genlens.core.saliency import check_infiller, get_method

MAX_ENTRIES = 32


@dataclass(frozen=True)
class BenchmarkEntry:
    """One leaderboard row's method and in-filler (both registered names)."""

    method: str
    infill: str

    @classmethod
    def parse(cls, text: str, default_infill: str = defaults.INFILL) -> "BenchmarkEntry":
        """``"fido-ssr@learned"`` -> (fido-ssr, learned); a bare name takes ``default_infill``.

        Raises:
            ParameterError: unknown method or in-filler.
        """
        if not isinstance(text, str):
            raise ParameterError(
                f"a benchmark entry is 'method' or 'method@infiller', got {text!r}"
            )
        method, _, infill = text.strip().partition("@")
        get_method(method)
        infill = infill or default_infill
        check_infiller(infill)
        return cls(method, infill)

    def __str__(self) -> str:
        return f"{self.method}@{self.infill}"

    @property
    def label(self) -> str:
        """``method@infiller`` for methods whose map depends on the in-filler, else the name."""
        return str(self) if get_method(self.method).uses_infiller else self.method


def parse_entries(
    methods: str | Sequence[str | BenchmarkEntry], default_infill: str = defaults.INFILL
) -> list[BenchmarkEntry]:
    """1 to :data:`MAX_ENTRIES` entries from a comma-separated string or a list.

    Raises:
        ParameterError: an empty or too long list, an unknown method or in-filler.
    """
    if not isinstance(default_infill, str):
        raise ParameterError(f"infill must be an in-filler name, got {default_infill!r}")
    check_infiller(default_infill)
    if isinstance(methods, str):
        methods = [name for name in methods.split(",") if name.strip()]
    if not isinstance(methods, Sequence) or not 1 <= len(methods) <= MAX_ENTRIES:
        raise ParameterError(f"methods must be 1 to {MAX_ENTRIES} method names, got {methods!r}")
    return [
        entry if isinstance(entry, BenchmarkEntry) else BenchmarkEntry.parse(entry, default_infill)
        for entry in methods
    ]
