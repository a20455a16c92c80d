"""Streaming sample-rate conversion (libsoxr through the `soxr` package).

The resampler keeps its filter state across blocks, so a signal converted
block by block equals the signal converted whole: no clicks at block edges.

soxr's streams are nanobind objects, and nanobind reports every one still alive
when the interpreter ends ("nanobind: leaked 1 instances! ..." and 16 lines more).
Some are: `talk` sets its session aside with gc.freeze(), so the reference cycles
it is part of are never collected, and the speaker and echo canceller they hold
keep their resamplers to the end. Every resampler therefore lets go of its soxr
stream at exit, before the interpreter shuts down.
"""

from __future__ import annotations

import atexit
import weakref

import numpy as np

_holding: weakref.WeakSet[StreamResampler] = weakref.WeakSet()  # resamplers with a soxr stream


class StreamResampler:
    """int16 mono from `in_rate` to `out_rate`; `quality` is soxr's ("HQ", or "QQ": no delay)."""

    def __init__(self, in_rate: int, out_rate: int, *, quality: str = "HQ"):
        self.in_rate = in_rate
        self.out_rate = out_rate
        self.quality = quality
        self._stream = None
        self.reset()

    @property
    def passthrough(self) -> bool:
        return self.in_rate == self.out_rate

    def reset(self) -> None:
        """Forget the past signal (after a flush, the next sound is unrelated)."""
        if not self.passthrough:
            import soxr

            self._stream = soxr.ResampleStream(self.in_rate, self.out_rate, 1, dtype="int16", quality=self.quality)
            _holding.add(self)

    def process(self, pcm: bytes, *, last: bool = False) -> bytes:
        if self.passthrough:
            return pcm
        return self.resample(np.frombuffer(pcm, dtype=np.int16), last=last).tobytes()

    def resample(self, samples: np.ndarray, *, last: bool = False) -> np.ndarray:
        """The same on int16 samples."""
        if self.passthrough:
            return samples
        return self._stream.resample_chunk(np.ascontiguousarray(samples, dtype=np.int16), last=last)


@atexit.register
def _release_all() -> None:
    """Drop every soxr stream still held, before nanobind checks for leaks at shutdown."""
    for resampler in list(_holding):
        resampler._stream = None
