"""What livecli changes in the terminal (key mode, alternate screen, hidden cursor),
given back however it exits.

Each change is registered with the way to undo it. A normal exit undoes it where
it was made (`finally`, a context manager); an exit that skips those (a second
Ctrl-C ends the process with `os._exit`) calls `restore_all()` first.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

_pending: list[Change] = []


class Change:
    """One change to the terminal, undone once: by `undo()`, or by `restore_all()`."""

    def __init__(self, undo: Callable[[], None]):
        self._undo = undo
        _pending.append(self)

    def undo(self) -> None:
        if self in _pending:
            _pending.remove(self)
            self._undo()

    def forget(self) -> None:
        """Already undone some other way."""
        if self in _pending:
            _pending.remove(self)


def restore_all() -> None:
    """Undo every change still in place, newest first; never raises."""
    for change in reversed(list(_pending)):
        with contextlib.suppress(Exception):
            change.undo()
