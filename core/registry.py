"""Named registries, the one way genlens maps names to classifiers, methods, metrics, suites, kinds.

A registry is a leaf: it imports nothing above :mod:`genlens.core.errors`. The built-in entries
are added by one catalog module (:mod:`genlens.catalog`), which a registry imports by name on
its first use, so every entry point (library, CLI, worker, front ends, tests) sees the same names
without importing anything first. Entries may be :class:`Lazy` references (``"module:attribute"``)
that are imported on the first :meth:`Registry.get`, so listing names imports no model code.
"""

import importlib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any, Generic, TypeVar

from genlens.core.errors import GenlensError, ParameterError

T = TypeVar("T")

CATALOG = "genlens.catalog"


@dataclass(frozen=True)
class Lazy:
    """A reference ``"package.module:attribute"`` imported when first needed.

    :meth:`resolve` returns the attribute, or ``partial(attribute, *args)`` when ``args`` are
    given; calling a ``Lazy`` calls the resolved object (so it can stand in for a factory).
    """

    target: str
    args: tuple[Any, ...] = ()

    def resolve(self) -> Any:
        module, _, attribute = self.target.partition(":")
        item = getattr(importlib.import_module(module), attribute)
        return partial(item, *self.args) if self.args else item

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.resolve()(*args, **kwargs)


class Registry(Generic[T]):
    """Items by unique name; unknown names raise ``error`` listing the valid ones.

    Args:
        what: how an item is called in messages, e.g. ``"metric"``.
        replace: allow re-registering a name (the newer item wins); otherwise ValueError.
        error: the exception raised for unknown names.
        catalog: module imported once, on the first use of the registry, that registers the
            built-in entries (``None``: the registry starts empty).
    """

    def __init__(
        self,
        what: str,
        replace: bool = False,
        error: type[GenlensError] = ParameterError,
        catalog: str | None = CATALOG,
    ):
        self.what = what
        self.replace = replace
        self.error = error
        self._catalog = catalog
        self._items: dict[str, T | Lazy] = {}

    def _load_catalog(self) -> None:
        module, self._catalog = self._catalog, None
        if module is None:
            return
        try:
            importlib.import_module(module)
        except BaseException:
            self._catalog = module
            raise

    def register(self, name: str, item: T | Lazy) -> T | Lazy:
        """Add ``item`` (or a :class:`Lazy` reference to it) under ``name``; returns it."""
        self._load_catalog()
        if name in self._items and not self.replace:
            raise ValueError(f"{self.what} {name!r} is already registered")
        self._items[name] = item
        return item

    def remove(self, name: str) -> T | Lazy:
        """Take ``name`` out of the registry and return its item (unknown names raise)."""
        self.get(name)
        return self._items.pop(name)

    def get(self, name: str) -> T:
        """The item called ``name`` (a :class:`Lazy` entry is imported now, once)."""
        self._load_catalog()
        try:
            item = self._items[name]
        except KeyError:
            raise self.error(
                f"unknown {self.what} {name!r}; choose from {', '.join(self.names())}"
            ) from None
        if isinstance(item, Lazy):
            item = self._items[name] = item.resolve()
        return item

    def names(self, sort: bool = True) -> list[str]:
        """Registered names, sorted (or in registration order); imports no :class:`Lazy` entry."""
        self._load_catalog()
        return sorted(self._items) if sort else list(self._items)

    def __contains__(self, name: object) -> bool:
        self._load_catalog()
        return name in self._items

    def __iter__(self) -> Iterator[T]:
        return iter([self.get(name) for name in self.names()])
