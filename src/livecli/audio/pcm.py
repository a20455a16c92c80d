"""Small numpy helpers on int16 mono PCM."""

from __future__ import annotations

import numpy as np

SAMPLE_BYTES = 2
SILENCE_DBFS = -96.0


def level_dbfs(pcm: bytes) -> float:
    """RMS level of a block, in dB relative to full scale."""
    samples = np.frombuffer(pcm, dtype=np.int16)
    if samples.size == 0:
        return SILENCE_DBFS
    rms = float(np.sqrt(np.mean(samples.astype(np.float32) ** 2)))
    if rms < 1.0:
        return SILENCE_DBFS
    return 20.0 * np.log10(rms / 32768.0)


def bytes_per_ms(rate: int) -> float:
    return rate * SAMPLE_BYTES / 1000.0


class Chunker:
    """Cuts a stream of blocks into chunks of exactly `chunk_bytes`."""

    def __init__(self, chunk_bytes: int):
        if chunk_bytes <= 0 or chunk_bytes % SAMPLE_BYTES:
            raise ValueError("chunk size must be a positive whole number of samples")
        self.chunk_bytes = chunk_bytes
        self._pending = bytearray()

    def push(self, block: bytes) -> list[bytes]:
        self._pending += block
        chunks = []
        while len(self._pending) >= self.chunk_bytes:
            chunks.append(bytes(self._pending[: self.chunk_bytes]))
            del self._pending[: self.chunk_bytes]
        return chunks

    @property
    def pending_bytes(self) -> int:
        """What waits for the next chunk."""
        return len(self._pending)

    def reset(self) -> None:
        self._pending.clear()


def to_mono(pcm: bytes, channels: int) -> bytes:
    """Average interleaved channels into one (stereo-only microphones)."""
    if channels == 1:
        return pcm
    frames = np.frombuffer(pcm, dtype=np.int16).reshape(-1, channels)
    return frames.mean(axis=1, dtype=np.float32).round().astype(np.int16).tobytes()


def from_mono(pcm: bytes, channels: int) -> bytes:
    """The same sound on every channel (stereo-only speakers)."""
    if channels == 1:
        return pcm
    return np.repeat(np.frombuffer(pcm, dtype=np.int16), channels).tobytes()
