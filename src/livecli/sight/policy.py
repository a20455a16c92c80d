"""Which captured pictures are worth sending: pure decisions over thumbnails and times.

Every frame sent is billed and kept in the conversation's context, so a still screen is
not resent: a picture is sent when it differs enough from the last one *sent* (so slow,
gradual changes add up until they count), at most once per `interval`. A requested
look sends the next picture whatever it shows, within the same cap.
"""

from __future__ import annotations

# Mean absolute difference of two grayscale thumbnails (0-255) above which a picture
# counts as changed. Measured on 64x36 thumbnails of a 1920x1080 screen of light text on a
# dark background (45 lines): a 100x20 px block flipping (more than a ticking clock) 0.18,
# one more line typed 0.1-0.4, a page of code scrolled by five lines 3.9, a page of
# identically shaped lines (a log) scrolled 0.7. On 32x18 thumbnails that last one is 0.5,
# below anything that does not also let single typed lines through.
CHANGE_THRESHOLD = 0.5


def mean_abs_difference(a: bytes, b: bytes) -> float:
    """How far apart two same-sized grayscale thumbnails are, on the 0-255 scale."""
    return sum(abs(x - y) for x, y in zip(a, b)) / len(a)


class FramePolicy:
    """Decides, given thumbnails and monotonic times, when to look and which pictures to send."""

    def __init__(self, interval: float = 1.0, threshold: float = CHANGE_THRESHOLD):
        self.interval = interval
        self.threshold = threshold
        self._last_thumbnail: bytes | None = None
        self._last_sent_at: float | None = None
        self._last_checked_at: float | None = None
        self._look_requested = False

    def request_look(self) -> None:
        """The next picture is sent even if nothing changed."""
        self._look_requested = True

    def next_check_in(self, now: float) -> float:
        """Seconds until a capture is worth taking (0: now). A requested look waits only for
        the rate cap; otherwise the screen is looked at once per interval."""
        if self._look_requested:
            since = self._last_sent_at
        else:
            since = self._last_checked_at
        if since is None:
            return 0.0
        return max(0.0, since + self.interval - now)

    def offer(self, thumbnail: bytes, now: float) -> bool:
        """A picture was captured at `now`: True if it is to be sent (and it becomes the one
        later pictures are compared with)."""
        self._last_checked_at = now
        if self._last_sent_at is not None and now - self._last_sent_at < self.interval:
            return False
        send = self._look_requested or self._changed(thumbnail)
        if send:
            self._last_thumbnail = thumbnail
            self._last_sent_at = now
            self._look_requested = False
        return send

    def _changed(self, thumbnail: bytes) -> bool:
        last = self._last_thumbnail
        if last is None or len(last) != len(thumbnail):
            return True
        return mean_abs_difference(thumbnail, last) > self.threshold
