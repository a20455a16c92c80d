"""The async face of a live picture source: the talk shell iterates `frames()`; capture runs on a worker thread.

    source = open_screen()          # or open_camera(0)
    async for frame in source.frames():
        await session.send_realtime_input(video=Blob(data=frame.jpeg, mime_type=frame.mime_type))
    # elsewhere, from key handlers: source.look_now(), source.pause(), source.resume(), source.close()

The controls are for the event loop's thread (from another thread: loop.call_soon_threadsafe).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Protocol

from livecli.sight.encode import thumbnail, to_frame
from livecli.sight.frame import Frame
from livecli.sight.policy import FramePolicy

if TYPE_CHECKING:
    from PIL import Image


class Grabber(Protocol):
    """The thin, blocking capture part of a source. All three run on the source's own worker thread."""

    def open(self) -> str:
        """Acquire the screen or device; return what it is for the user ("screen 1 (1920x1080)").
        Raises CaptureUnavailable."""

    def grab(self) -> Image.Image:
        """The current picture, in RGB. Raises CaptureUnavailable."""

    def close(self) -> None:
        """Release what open() acquired; safe to call when open() failed or never ran."""


class FrameSource:
    """Captures once per policy interval while not paused and yields the pictures the policy picks.

    One worker thread per source does all capture, thumbnail and encoding work, so the event loop
    never waits on pixels, and capture libraries whose handles belong to one thread (Xlib, GDI,
    V4L2) always see the same thread.
    """

    def __init__(self, grabber: Grabber, policy: FramePolicy | None = None):
        self._grabber = grabber
        self._policy = policy or FramePolicy()
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="livecli-sight")
        self._wake = asyncio.Event()
        self._paused = False
        self._closed = False
        self.description: str | None = None  # known once frames() has opened the grabber

    @property
    def paused(self) -> bool:
        return self._paused

    def look_now(self) -> None:
        """Send a fresh picture as soon as the rate cap allows, changed or not (ignored while paused)."""
        if not self._paused:
            self._policy.request_look()
            self._wake.set()

    def pause(self) -> None:
        """Stop capturing; no picture taken before this call is sent after it."""
        self._paused = True

    def resume(self) -> None:
        """Capture again, starting with a fresh picture (the model's last one may be from before the
        pause, or one dropped by it)."""
        if not self._paused:
            return
        self._paused = False
        self._policy.request_look()
        self._wake.set()

    def close(self) -> None:
        """End frames() at its next step; the device is released on the worker thread."""
        self._closed = True
        self._wake.set()

    async def frames(self) -> AsyncIterator[Frame]:
        """Open the grabber, then yield frames until close(); once per source. Raises
        CaptureUnavailable (opening or capture failed: one line for the user). Cancelling the
        iterating task, or aclose() after leaving the loop, also releases the device."""
        loop = asyncio.get_running_loop()
        try:
            self.description = await loop.run_in_executor(self._worker, self._grabber.open)
            while await self._next_turn(loop):
                turn_at, captured_at = loop.time(), time.time()
                picture, small = await loop.run_in_executor(self._worker, self._grab)
                if not self._sharing() or not self._policy.offer(small, turn_at):
                    continue
                frame = await loop.run_in_executor(self._worker, to_frame, picture, self.description, captured_at)
                if self._sharing():
                    yield frame
        finally:
            self._worker.submit(self._grabber.close)
            self._worker.shutdown(wait=False)

    def _sharing(self) -> bool:
        """Checked after each step on the worker thread: pause() or close() may have come meanwhile."""
        return not (self._paused or self._closed)

    def _grab(self) -> tuple[Image.Image, bytes]:
        picture = self._grabber.grab()
        return picture, thumbnail(picture)

    async def _next_turn(self, loop: asyncio.AbstractEventLoop) -> bool:
        """Wait until a capture is due and sharing is on; False once closed."""
        while not self._closed:
            self._wake.clear()
            delay = None if self._paused else self._policy.next_check_in(loop.time())
            if delay == 0:
                return True
            try:
                await asyncio.wait_for(self._wake.wait(), delay)
            except TimeoutError:
                pass
        return False
