"""The objects an app holds in ``app.extensions``, each reached through one typed accessor.

An extension is declared once, as an :class:`Extension` constant, by the module that
owns its type (``db.DATABASE``, ``settings.SETTINGS``, ``buffer.sinks.SINK`` ...); code
that needs it uses that constant, never the string key::

    SINK: Extension[BatchingSink] = Extension("page_tracker.sink", "where accepted views go")
    SINK.put(app, BatchingSink(...))  # by the feature that builds it, in its init_app
    SINK.get()  # the current app's (or SINK.get(app)); LookupError when it has none
    SINK.find(app)  # the same, or None

A key declared twice raises at import time, so no two modules can claim one slot, and
:func:`declared` lists them all (a test checks that the app sets no undeclared one).
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar, cast

from flask import Flask, current_app

T = TypeVar("T")

_DECLARED: dict[str, Extension[Any]] = {}


class Extension(Generic[T]):
    """One slot of ``app.extensions``: its key, what it holds, and typed access to it."""

    __slots__ = ("description", "key")

    def __init__(self, key: str, description: str) -> None:
        if key in _DECLARED:
            raise RuntimeError(f"app extension {key!r} is declared twice")
        self.key = key
        self.description = description
        _DECLARED[key] = self

    def put(self, app: Flask, value: T) -> T:
        """Store ``value`` in ``app`` (replacing what was there) and return it."""
        app.extensions[self.key] = value
        return value

    def get(self, app: Flask | None = None) -> T:
        """The value of ``app`` (default: the current app); :class:`LookupError` when the
        app was built without it."""
        try:
            return cast(T, (app or current_app).extensions[self.key])
        except KeyError:
            raise LookupError(f"the app has no {self.key} ({self.description})") from None

    def find(self, app: Flask | None = None) -> T | None:
        """The value of ``app`` (default: the current app), or ``None``."""
        return cast("T | None", (app or current_app).extensions.get(self.key))

    def __repr__(self) -> str:
        return f"Extension({self.key!r})"


def declared() -> dict[str, Extension[Any]]:
    """Every declared extension by key (those of the modules imported so far)."""
    return dict(_DECLARED)
