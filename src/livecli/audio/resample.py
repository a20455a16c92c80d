"""Streaming sample-rate conversion (libsoxr through the `soxr` package).

The resampler keeps its filter state across blocks, so a signal converted
block by block equals the signal converted whole: no clicks at block edges.
"""

from __future__ import annotations

import numpy as np


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

    def process(self, pcm: bytes, *, last: bool = False) -> bytes:
        if self.passthrough:
            return pcm
        return self.resample(np.frombuffer(pcm, dtype=np.int16), last=last).tobytes()

    def resample(self, samples: np.ndarray, *, last: bool = False) -> np.ndarray:
        """The same on int16 samples."""
        if self.passthrough:
            return samples
        return self._stream.resample_chunk(np.ascontiguousarray(samples, dtype=np.int16), last=last)
