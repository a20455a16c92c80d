"""Pictures for the model: a shared screen or camera as a stream of JPEG frames, and single picture files.

Loaded only when sharing or a picture is asked for (mss, Pillow and OpenCV are not imported by
a plain `talk`). What the talk shell calls:

- `open_screen(number=None)` / `open_camera(device=0)` → a `FrameSource`: `async for frame in
  source.frames()`, with `look_now()`, `pause()`, `resume()`, `close()` and `description`;
- `load_picture(path)` → one `Frame` (blocking: run it with asyncio.to_thread);
- `SightError` (its subclasses `CaptureUnavailable`, `PictureUnreadable`) is a LivecliError:
  its message is the one line to show, and the conversation goes on.
"""

from livecli.sight.camera import open_camera
from livecli.sight.frame import CaptureUnavailable, Frame, PictureUnreadable, SightError
from livecli.sight.picture import load_picture
from livecli.sight.policy import FramePolicy
from livecli.sight.screen import open_screen
from livecli.sight.source import FrameSource

__all__ = [
    "CaptureUnavailable",
    "Frame",
    "FramePolicy",
    "FrameSource",
    "PictureUnreadable",
    "SightError",
    "load_picture",
    "open_camera",
    "open_screen",
]
