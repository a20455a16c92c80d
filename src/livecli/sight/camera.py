"""Sharing a webcam through OpenCV (the optional extra `livecli[camera]`, imported only when opened)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from livecli.sight.frame import CaptureUnavailable
from livecli.sight.policy import FramePolicy
from livecli.sight.source import FrameSource

if TYPE_CHECKING:
    from PIL import Image

MISSING_EXTRA = (
    "camera sharing needs OpenCV: pip install 'livecli[camera]' (with pipx: pipx inject livecli opencv-python-headless)"
)


def open_camera(device: int | str = 0, policy: FramePolicy | None = None) -> FrameSource:
    """A source sharing camera `device`: an index ("0", 1) or a path such as /dev/video2.
    Nothing is opened until its frames() is iterated."""
    return FrameSource(CameraGrabber(device), policy)


class CameraGrabber:
    def __init__(self, device: int | str = 0):
        self._device = int(device) if str(device).isdigit() else device
        self._capture: Any = None

    def open(self) -> str:
        cv2 = _opencv()
        capture = cv2.VideoCapture(self._device)
        if not capture.isOpened():
            capture.release()
            raise CaptureUnavailable(f"cannot open camera {self._device}")
        # A camera queues frames; read once a second, the queue would hand over stale ones.
        capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)
        self._capture = capture
        width, height = (int(capture.get(p)) for p in (cv2.CAP_PROP_FRAME_WIDTH, cv2.CAP_PROP_FRAME_HEIGHT))
        return f"camera {self._device} ({width}x{height})"

    def grab(self) -> Image.Image:
        import cv2
        from PIL import Image

        ok, bgr = self._capture.read()
        if not ok:
            raise CaptureUnavailable(f"camera {self._device} stopped giving pictures")
        return Image.fromarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))

    def close(self) -> None:
        if self._capture is not None:
            self._capture.release()
            self._capture = None


def _opencv() -> Any:
    try:
        import cv2
    except ImportError:
        raise CaptureUnavailable(MISSING_EXTRA) from None
    # OpenCV writes its warnings (a missing /dev/video0…) straight to the terminal; we say it in one line.
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
    return cv2
