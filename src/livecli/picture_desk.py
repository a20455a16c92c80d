"""The talk shell's pictures: the shared screen or camera's frames, and picture files (`/image`).

Each becomes a `Picture` input of the conversation core, which decides whether it is sent; a
source that cannot capture is one line, and the conversation goes on without it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from livecli import records
from livecli.conversation import inputs
from livecli.errors import LivecliError
from livecli.ports import PictureSource


class PictureDesk:
    def __init__(self, source: PictureSource | None, feed: Callable[[inputs.Input], None]):
        self.source = source
        self._feed = feed

    async def share(self) -> None:
        """The shared source's frames, as its policy picks them, until cancelled."""
        if self.source is None:
            return
        try:
            started = False
            async for frame in self.source.frames():
                if not started:
                    started = True
                    self._feed(inputs.SharingStarted(self.source.description or frame.source))
                self._feed(inputs.Picture(frame.jpeg, frame.mime_type, frame.width, frame.height, frame.source))
        except LivecliError as exc:
            self._feed(inputs.SharingStopped(str(exc)))
        finally:
            self.source.close()

    async def load(self, path: str) -> None:
        """One picture file, read and scaled off the loop (Pillow loads only now)."""
        from livecli import sight

        try:
            frame = await asyncio.to_thread(sight.load_picture, path)
        except LivecliError as exc:
            self._feed(records.Notice(str(exc)))  # shown, not stored
            return
        self._feed(inputs.Picture(frame.jpeg, frame.mime_type, frame.width, frame.height, frame.source, asked=True))

    def pause(self, paused: bool) -> None:
        if self.source is not None:
            self.source.pause() if paused else self.source.resume()

    def look_now(self) -> None:
        if self.source is not None:
            self.source.look_now()
