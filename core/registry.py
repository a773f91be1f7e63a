"""A small named registry, the one way genlens maps names to methods, metrics, suites, kinds."""

from collections.abc import Iterator
from typing import Generic, TypeVar

from core.errors import GenlensError, ParameterError

T = TypeVar("T")


class Registry(Generic[T]):
    """Items by unique name; unknown names raise ``error`` listing the valid ones.

    Args:
        what: how an item is called in messages, e.g. ``"metric"``.
        replace: allow re-registering a name (the newer item wins); otherwise ValueError.
        error: the exception raised for unknown names.
    """

    def __init__(
        self, what: str, replace: bool = False, error: type[GenlensError] = ParameterError
    ):
        self.what = what
        self.replace = replace
        self.error = error
        self._items: dict[str, T] = {}

    def register(self, name: str, item: T) -> T:
        if name in self._items and not self.replace:
            raise ValueError(f"{self.what} {name!r} is already registered")
        self._items[name] = item
        return item

    def get(self, name: str) -> T:
        try:
            return self._items[name]
        except KeyError:
            raise self.error(
                f"unknown {self.what} {name!r}; choose from {', '.join(self.names())}"
            ) from None

    def names(self) -> list[str]:
        """Registered names, sorted."""
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[T]:
        return iter(self._items.values())
