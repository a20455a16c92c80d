"""When a session has been idle long enough to stand by (`idle_minutes`)."""

from __future__ import annotations


class IdleTimer:
    """Counts from the last time someone spoke, typed or was answered; `due` says when `idle_s` has passed."""

    def __init__(self, idle_s: float | None):
        self.idle_s = idle_s
        self._active_at: float | None = None

    def active(self, at: float) -> None:
        self._active_at = at

    def due(self, now: float, *, busy: bool) -> bool:
        if busy or self._active_at is None:
            self._active_at = now  # busy, or the first tick: the idle time counts from here
            return False
        return self.idle_s is not None and now - self._active_at >= self.idle_s

    def describe(self) -> str:
        idle = self.idle_s or 0.0
        return f"{idle / 60:g} min" if idle >= 60 else f"{idle:g} s"
