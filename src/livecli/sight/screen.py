"""Sharing a monitor: mss grabs its pixels (X11, macOS, Windows; on Wayland only through XWayland)."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

from livecli.sight.frame import CaptureUnavailable
from livecli.sight.policy import FramePolicy
from livecli.sight.source import FrameSource

if TYPE_CHECKING:
    from PIL import Image


def open_screen(number: int | None = None, policy: FramePolicy | None = None) -> FrameSource:
    """A source sharing monitor `number` (1, 2, … as the system counts them; None: the primary one).
    Nothing is captured until its frames() is iterated."""
    return FrameSource(ScreenGrabber(number), policy)


class ScreenGrabber:
    """One monitor through one mss handle (mss and Pillow are imported on the worker thread, when opened)."""

    def __init__(self, number: int | None = None):
        self._number = number
        self._mss: Any = None
        self._monitor: dict[str, int] = {}

    def open(self) -> str:
        _require_x11_display()
        import mss

        try:
            self._mss = mss.MSS()
            number, self._monitor = _pick_monitor(self._mss, self._number)
        except (mss.ScreenShotError, OSError) as e:  # OSError: a system library that would not load
            self.close()
            raise CaptureUnavailable(f"cannot share the screen: {e}") from None
        return f"screen {number} ({self._monitor['width']}x{self._monitor['height']})"

    def grab(self) -> Image.Image:
        import mss
        from PIL import Image

        try:
            shot = self._mss.grab(self._monitor)
        except mss.ScreenShotError as e:
            raise CaptureUnavailable(f"screen capture stopped: {e}") from None
        return Image.frombuffer("RGB", shot.size, shot.raw, "raw", "BGRX", 0, 1)

    def close(self) -> None:
        if self._mss is not None:
            self._mss.close()
            self._mss = None


def _require_x11_display() -> None:
    """On Linux mss speaks X11 only: say why there is no screen before it fails with less to say."""
    if not sys.platform.startswith("linux") or os.environ.get("DISPLAY"):
        return
    if os.environ.get("WAYLAND_DISPLAY"):
        raise CaptureUnavailable(
            "cannot share the screen: this Wayland session has no X11 display "
            "(DISPLAY is unset; screen capture needs XWayland)"
        )
    raise CaptureUnavailable("cannot share the screen: no display (DISPLAY is unset)")


def _pick_monitor(handle: Any, number: int | None) -> tuple[int, dict[str, int]]:
    """mss lists the whole desktop first, then each monitor from 1."""
    monitors = handle.monitors
    if number is None:
        primary = handle.primary_monitor
        return monitors.index(primary), primary
    if 1 <= number < len(monitors):
        return number, monitors[number]
    known = ", ".join(f"{i}: {m['width']}x{m['height']}" for i, m in enumerate(monitors[1:], 1))
    raise CaptureUnavailable(f"there is no screen {number} (this display has {known or 'none'})")
