"""What every picture source hands over: one JPEG frame, and the errors that say why there is none."""

from __future__ import annotations

from dataclasses import dataclass, field

from livecli.errors import LivecliError


@dataclass(frozen=True)
class Frame:
    """One picture ready for the Live API (`send_realtime_input(video=Blob(data=jpeg, mime_type=…))`)."""

    jpeg: bytes = field(repr=False)
    width: int
    height: int
    captured_at: float  # wall-clock seconds (time.time()), when the pixels were taken
    source: str  # what the user would call it: "screen 1 (1920x1080)", "camera 0", "picture cat.png"
    mime_type: str = "image/jpeg"


class SightError(LivecliError):
    """A picture source cannot give a picture; the message is one line for the user."""


class CaptureUnavailable(SightError):
    """A screen or camera cannot be opened or read (no display, no device, a missing extra)."""


class PictureUnreadable(SightError):
    """A picture file is missing, unreadable, or not a picture."""
