"""Small numpy helpers on int16 mono PCM."""

from __future__ import annotations

import math

import numpy as np

from livecli.formats import FULL_SCALE, SAMPLE_BYTES, SILENCE_DBFS


def dbfs(amplitude: float) -> float:
    """An int16 amplitude (RMS or peak) in dB relative to full scale; SILENCE_DBFS below one step."""
    return 20.0 * math.log10(amplitude / FULL_SCALE) if amplitude >= 1.0 else SILENCE_DBFS


def amplitude(level_dbfs: float) -> float:
    """The int16 amplitude of a level in dBFS (the inverse of `dbfs`)."""
    return FULL_SCALE * 10 ** (level_dbfs / 20)


def level_dbfs(pcm: bytes) -> float:
    """RMS level of a block, in dB relative to full scale."""
    samples = np.frombuffer(pcm, dtype=np.int16)
    if samples.size == 0:
        return SILENCE_DBFS
    return dbfs(float(np.sqrt(np.mean(samples.astype(np.float32) ** 2))))


def clip_int16(samples: np.ndarray) -> np.ndarray:
    """Float samples in int16 units, rounded and clipped into int16's range."""
    return np.clip(np.round(samples), -FULL_SCALE, FULL_SCALE - 1).astype(np.int16)


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

    def start_times(self, chunks: list[bytes], end: float, rate: int) -> list[float]:
        """When each of `chunks` (just returned by `push`) began, if the block pushed ended at
        time `end`: what is still pending came last. Mono at `rate`."""
        after = self.pending_bytes + sum(len(chunk) for chunk in chunks)
        starts = []
        for chunk in chunks:
            starts.append(end - after / SAMPLE_BYTES / rate)
            after -= len(chunk)
        return starts

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
