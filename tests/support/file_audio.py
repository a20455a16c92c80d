"""File-backed stand-ins for the microphone and speaker, for session tests.

They have the same small interface as `livecli.audio.streams.Microphone` and
`Speaker`, run on the asyncio loop, and keep what they played. Their clocks run
`speed` times faster than real time (1: real time), so a test can compress a
conversation: a microphone at `speed=4` delivers each 100 ms chunk every 25 ms
and dates it on the same accelerated clock; pair it with a fake Live server and
a speaker at the same speed.
"""

from __future__ import annotations

import asyncio
import time

import numpy as np

from livecli.audio.jitter import JitterBuffer


def tone(seconds: float, rate: int = 16000, freq: float = 300.0, amplitude: float = 0.3) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (amplitude * 32767 * np.sin(2 * np.pi * freq * t)).astype(np.int16)


def silence(seconds: float, rate: int = 16000) -> np.ndarray:
    return np.zeros(int(rate * seconds), dtype=np.int16)


class FileMicrophone:
    """Yields a prepared 16 kHz signal in chunks at `speed` times real-time pace, then silence."""

    def __init__(self, signal: np.ndarray, *, chunk_ms: int = 100, rate: int = 16000, speed: float = 1.0):
        self._signal = signal.astype(np.int16).tobytes()
        self._chunk_bytes = rate * 2 * chunk_ms // 1000
        self._chunk_s = chunk_ms / 1000 / speed  # how long a chunk takes to capture, in real time
        self.closed = False
        self.status: str | None = None  # a file never goes away
        self.overflows = 0

    def start(self) -> None:
        pass

    def pop_notices(self) -> list[str]:
        return []

    async def chunks(self):
        start = time.monotonic()
        index = 0
        while True:
            await asyncio.sleep(max(0.0, start + (index + 1) * self._chunk_s - time.monotonic()))
            offset = index * self._chunk_bytes
            chunk = self._signal[offset : offset + self._chunk_bytes]
            chunk += bytes(self._chunk_bytes - len(chunk))
            index += 1
            self.delivered_at = time.monotonic()  # complete now, as when its last block arrives
            yield chunk, self.delivered_at - self._chunk_s  # its first sample's capture time

    def close(self) -> None:
        self.closed = True


class CollectingSpeaker:
    """A virtual 24 kHz output device draining a real jitter buffer in 10 ms blocks, one every
    10 ms / `speed` of real time."""

    def __init__(self, *, rate: int = 24000, preroll_ms: int = 60, speed: float = 1.0):
        self.buffer = JitterBuffer(rate * 2 * preroll_ms // 1000)
        self._block = bytearray(rate * 2 // 100)
        self._block_s = 0.01 / speed
        self.played = bytearray()  # every block the device "played", silence included
        self.received = 0
        self.flushes: list[float] = []
        self.played_at_flush: list[int] = []  # bytes played when each flush came
        self._task: asyncio.Task | None = None
        self.closed = False
        self.starts = self.closes = 0
        self.status: str | None = None
        self.underflows = self.audible_underflows = 0

    def pop_notices(self) -> list[str]:
        return []

    def start(self) -> None:
        self.starts += 1
        self.closed = False
        self._task = asyncio.get_running_loop().create_task(self._device())

    async def _device(self):
        start = time.monotonic()
        blocks = 0
        while True:
            blocks += 1
            await asyncio.sleep(max(0.0, start + blocks * self._block_s - time.monotonic()))
            self.buffer.read_into(memoryview(self._block))
            self.played += self._block

    def play(self, pcm: bytes) -> None:
        self.received += len(pcm)
        self.buffer.write(pcm, time.monotonic())

    def end_of_turn(self) -> None:
        self.buffer.end_of_turn()

    def flush(self) -> None:
        self.flushes.append(time.monotonic())
        self.played_at_flush.append(len(self.played))
        self.buffer.flush()

    @property
    def active(self) -> bool:
        return self.buffer.active

    def close(self) -> None:
        self.closed = True
        self.closes += 1
        if self._task is not None:
            self._task.cancel()
