"""The one generic registry: registration by decorator, discovery by importing one package
(and its subpackages)."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
    """Named things of one kind, filled by the ``register`` decorator."""

    def __init__(self, kind: str, package: str | None = None) -> None:
        self.kind = kind
        self._package = package
        self._items: dict[str, T] = {}
        self._discovered = package is None

    def register(self, name: str) -> Callable[[T], T]:
        def decorate(item: T) -> T:
            if name in self._items:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            self._items[name] = item
            return item

        return decorate

    def _discover(self) -> None:
        if self._discovered or self._package is None:
            return
        self._discovered = True
        pkg = importlib.import_module(self._package)
        for mod in pkgutil.walk_packages(pkg.__path__, prefix=f"{self._package}."):
            importlib.import_module(mod.name)

    def get(self, name: str) -> T:
        self._discover()
        try:
            return self._items[name]
        except KeyError:
            raise KeyError(f"unknown {self.kind} {name!r}; known: {', '.join(sorted(self._items))}") from None

    def names(self) -> list[str]:
        self._discover()
        return sorted(self._items)

    def items(self) -> Iterator[tuple[str, T]]:
        self._discover()
        yield from sorted(self._items.items())
