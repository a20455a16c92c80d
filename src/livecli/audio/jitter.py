"""The jitter buffer between the model's audio and the output callback.

The service sends audio faster than real time and in bursts. The asyncio side
writes; the PortAudio callback thread reads exactly one block at a time. After
the buffer has run dry it waits for a short pre-roll before playing again, so
network jitter does not turn into stutter. `flush()` empties it at once: the
next callback plays silence.

It also measures, for each piece written while nothing was queued (the start
of an answer, or audio arriving no faster than it plays), how long it waited
before its first sample was handed to the device (`latencies`, seconds); a
piece queued behind earlier audio waits for that audio to play, by design.
And when playback last started after silence (`started_at`).
"""

from __future__ import annotations

import collections
import threading
import time


class JitterBuffer:
    def __init__(self, preroll_bytes: int):
        self.preroll_bytes = preroll_bytes
        self._data = bytearray()
        self._lock = threading.Lock()
        self._playing = False
        self._turn_ended = False
        self._read = 0  # bytes taken out so far (played or flushed)
        self._starved = False  # ran dry in the middle of a turn
        self._marks: collections.deque[tuple[int, float]] = collections.deque()  # (offset, written at)
        self.underruns = 0
        self.latencies: collections.deque[float] = collections.deque(maxlen=100_000)
        self.started_at: float | None = None

    def write(self, pcm: bytes, written_at: float | None = None) -> None:
        with self._lock:
            if written_at is not None and not self._data:
                self._marks.append((self._read, written_at))
            if self._starved:  # more of the same turn after the buffer ran dry: a gap was heard
                self.underruns += 1
                self._starved = False
            self._data += pcm
            self._turn_ended = False

    def end_of_turn(self) -> None:
        """No more audio is coming for now: play what is left even if short."""
        with self._lock:
            self._turn_ended = True
            self._starved = False

    def flush(self) -> int:
        """Drop everything not yet played; returns how many bytes were dropped."""
        with self._lock:
            dropped = len(self._data)
            self._read += dropped
            self._data.clear()
            self._marks.clear()
            self._playing = False
            self._starved = False
            return dropped

    @property
    def buffered_bytes(self) -> int:
        return len(self._data)

    @property
    def active(self) -> bool:
        """True while there is model audio waiting or playing."""
        return bool(self._data)

    def read_into(self, out) -> int:
        """Fill `out` (a writable buffer) with audio, padding with silence.

        Returns the number of audio bytes copied (0 = all silence). Called from
        the audio thread: no allocation beyond the slice, no blocking but the lock.
        """
        size = len(out)
        with self._lock:
            if not self._playing:
                if self._data and (len(self._data) >= self.preroll_bytes or self._turn_ended):
                    self._playing = True
                    self.started_at = time.monotonic()
                else:
                    out[:] = bytes(size)
                    return 0
            n = min(size, len(self._data))
            out[:n] = self._data[:n]
            del self._data[:n]
            self._read += n
            if self._marks and self._marks[0][0] < self._read:
                now = time.monotonic()
                while self._marks and self._marks[0][0] < self._read:
                    self.latencies.append(now - self._marks.popleft()[1])
            if n < size:
                out[n:] = bytes(size - n)
                self._starved = not self._turn_ended
                self._playing = False
            return n
