"""The microphone and the speaker as PortAudio callback streams.

Callbacks run on PortAudio's thread: the microphone's only hands each block to
the asyncio loop with `call_soon_threadsafe`; the speaker's only copies from
the jitter buffer. Blocks are small (10-20 ms, `latency='low'`): large blocks
make PortAudio on PulseAudio spin, and default output settings underrun.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

from livecli.audio.devices import Device, resolve, sounddevice
from livecli.audio.jitter import JitterBuffer
from livecli.audio.pcm import Chunker, bytes_per_ms, level_dbfs
from livecli.audio.resample import StreamResampler
from livecli.errors import AudioError

MIC_BLOCK_MS = 20
SPEAKER_BLOCK_MS = 10


def _open_rate(sd, device: Device, wanted: int, direction: str) -> int:
    """The wanted rate if the device takes it, else its native rate (we resample)."""
    check = sd.check_input_settings if direction == "input" else sd.check_output_settings
    try:
        check(device=device.index, samplerate=wanted, channels=1, dtype="int16")
        return wanted
    except Exception:
        return int(device.default_samplerate)


class Microphone:
    """Captures mono int16 at `rate` and yields chunks of `chunk_ms`."""

    def __init__(self, spec: str | None, *, rate: int = 16000, chunk_ms: int = 100):
        self.device = resolve(spec, "input")
        self.rate = rate
        self.chunk_ms = chunk_ms
        self.level_dbfs = -96.0
        self.overflows = 0
        self._stream = None
        self._queue: asyncio.Queue[tuple[bytes, float]] = asyncio.Queue()

    def start(self) -> None:
        sd = sounddevice()
        loop = asyncio.get_running_loop()
        self.device_rate = _open_rate(sd, self.device, self.rate, "input")
        self._resampler = StreamResampler(self.device_rate, self.rate)
        put = self._queue.put_nowait

        def callback(indata, frames, time_info, status):
            if status.input_overflow:
                self.overflows += 1
            loop.call_soon_threadsafe(put, (bytes(indata), time.monotonic()))

        try:
            self._stream = sd.RawInputStream(
                samplerate=self.device_rate,
                blocksize=int(self.device_rate * MIC_BLOCK_MS / 1000),
                device=self.device.index,
                channels=1,
                dtype="int16",
                latency="low",
                callback=callback,
            )
            self._stream.start()
        except sd.PortAudioError as exc:
            raise AudioError(f"cannot open microphone '{self.device.name}': {exc}") from None

    async def chunks(self) -> AsyncIterator[tuple[bytes, float]]:
        """(chunk, capture time of its last block), paced by the device itself."""
        chunker = Chunker(int(bytes_per_ms(self.rate) * self.chunk_ms))
        while True:
            block, captured_at = await self._queue.get()
            block = self._resampler.process(block)
            self.level_dbfs = level_dbfs(block)
            for chunk in chunker.push(block):
                yield chunk, captured_at

    def close(self) -> None:
        if self._stream is not None:
            self._stream.abort()
            self._stream.close()
            self._stream = None


class Speaker:
    """Plays the model's mono int16 audio through a jitter buffer."""

    def __init__(self, spec: str | None, *, rate: int = 24000, preroll_ms: int = 60):
        self.device = resolve(spec, "output")
        self.rate = rate
        self.buffer: JitterBuffer | None = None
        self._preroll_ms = preroll_ms
        self._stream = None

    def start(self) -> None:
        sd = sounddevice()
        self.device_rate = _open_rate(sd, self.device, self.rate, "output")
        self._resampler = StreamResampler(self.rate, self.device_rate)
        self.buffer = buffer = JitterBuffer(int(bytes_per_ms(self.device_rate) * self._preroll_ms))

        def callback(outdata, frames, time_info, status):
            buffer.read_into(outdata)

        try:
            self._stream = sd.RawOutputStream(
                samplerate=self.device_rate,
                blocksize=int(self.device_rate * SPEAKER_BLOCK_MS / 1000),
                device=self.device.index,
                channels=1,
                dtype="int16",
                latency="low",
                callback=callback,
            )
            self._stream.start()
        except sd.PortAudioError as exc:
            raise AudioError(f"cannot open speaker '{self.device.name}': {exc}") from None

    def play(self, pcm: bytes) -> None:
        self.buffer.write(self._resampler.process(pcm))

    def end_of_turn(self) -> None:
        self.buffer.end_of_turn()

    def flush(self) -> None:
        self.buffer.flush()
        self._resampler.reset()

    @property
    def active(self) -> bool:
        return self.buffer is not None and self.buffer.active

    def close(self) -> None:
        if self._stream is not None:
            self._stream.abort()
            self._stream.close()
            self._stream = None
