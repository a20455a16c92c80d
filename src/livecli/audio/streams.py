"""The microphone and the speaker as self-healing PortAudio callback streams.

Callbacks run on PortAudio's thread: the microphone's only hands each block to
the asyncio loop with `call_soon_threadsafe`; the speaker's only copies from
the jitter buffer. Blocks are small (10-20 ms, `latency='low'`): large blocks
make PortAudio on PulseAudio spin, and default output settings underrun.

Devices are opened in whatever format they take (see `opening`); conversion
to and from the Live API's 16 kHz / 24 kHz mono happens on the asyncio side.
When a device is lost, `DeviceStream` reopens it: meanwhile the microphone
yields nothing and the speaker drops what it is given.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from livecli.audio.device_stream import DeviceStream
from livecli.audio.jitter import JitterBuffer
from livecli.audio.opening import StreamFormat
from livecli.audio.pcm import Chunker, bytes_per_ms, from_mono, level_dbfs, to_mono
from livecli.audio.portaudio import adc_time, dac_time
from livecli.audio.resample import StreamResampler
from livecli.formats import INPUT_RATE, OUTPUT_RATE, SAMPLE_BYTES

if TYPE_CHECKING:  # the echo controls load the canceller: only for the type
    from livecli.audio.echo import EchoControl

MIC_BLOCK_MS = 20
SPEAKER_BLOCK_MS = 10


class Microphone(DeviceStream):
    """Captures mono int16 at `rate` and yields chunks of `chunk_ms`."""

    direction = "input"
    block_ms = MIC_BLOCK_MS

    def __init__(self, spec: str | None, *, rate: int = INPUT_RATE, chunk_ms: int = 100):
        super().__init__(spec, rate=rate)
        self.chunk_ms = chunk_ms
        self._last_chunk = b""
        self.overflows = 0
        self._queue: asyncio.Queue[tuple[bytes, float, StreamFormat, float]] = asyncio.Queue()
        self.delivered_at = 0.0  # when PortAudio handed over the block that completed the last chunk
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        super().start()

    def _callback(self, fmt: StreamFormat):
        """Hand blocks to the loop a whole chunk at a time (one wake-up per chunk, not per
        block) when no resampling is needed; resampled audio goes block by block, since the
        resampler's delay would otherwise hold each chunk back until the next hand-over."""
        loop, put = self._loop, self._queue.put_nowait
        frame_bytes = SAMPLE_BYTES * fmt.channels
        hand_over = int(bytes_per_ms(fmt.rate) * fmt.channels * self.chunk_ms) if fmt.rate == self.rate else 1
        pending = bytearray()
        first_at = 0.0

        def work(indata, status, time_info):
            nonlocal first_at
            if status.input_overflow:
                self.overflows += 1
            if not pending:
                first_at = adc_time(time_info, block_s=len(indata) / frame_bytes / fmt.rate)
            pending.extend(indata)
            if len(pending) < hand_over:
                return
            try:
                loop.call_soon_threadsafe(put, (bytes(pending), first_at, fmt, time.monotonic()))
            except RuntimeError:  # the loop has closed: the session is over
                pass
            pending.clear()

        return work

    @property
    def level_dbfs(self) -> float:
        """The last chunk's level, computed only when someone looks (talk meters what it sends)."""
        return level_dbfs(self._last_chunk)

    def _lost(self) -> None:
        self._last_chunk = b""

    async def chunks(self) -> AsyncIterator[tuple[bytes, float]]:
        """(chunk, capture time of its first sample), paced by the device itself.

        The time comes from PortAudio's ADC timestamps, so the echo canceller can
        line the chunk up with what the speaker played.
        """
        chunker = Chunker(int(bytes_per_ms(self.rate) * self.chunk_ms))
        fmt, resampler = None, None
        while True:
            raw, block_start, block_fmt, delivered_at = await self._queue.get()
            if block_fmt != fmt:
                fmt, resampler = block_fmt, StreamResampler(block_fmt.rate, self.rate)
            block = resampler.process(to_mono(raw, fmt.channels))
            block_end = block_start + len(raw) / (SAMPLE_BYTES * fmt.channels) / fmt.rate
            chunks = chunker.push(block)
            if chunks:
                self._last_chunk = chunks[-1]
                self.delivered_at = delivered_at
            for chunk, captured_at in zip(chunks, chunker.start_times(chunks, block_end, self.rate)):
                yield chunk, captured_at


class Speaker(DeviceStream):
    """Plays the model's mono int16 audio through a jitter buffer."""

    direction = "output"
    block_ms = SPEAKER_BLOCK_MS

    def __init__(
        self, spec: str | None, *, rate: int = OUTPUT_RATE, preroll_ms: int = 60, echo: EchoControl | None = None
    ):
        super().__init__(spec, rate=rate)
        self.buffer = JitterBuffer(0)
        self.echo = echo  # the echo control, told what every block played and when
        self.underflows = 0  # PortAudio's count: the device ran dry (a late callback)
        self.audible_underflows = 0  # of which next to model audio, not inside silence
        self._was_playing = False
        self._preroll_ms = preroll_ms
        self._play_lock = threading.Lock()  # play() against a format change on the watch thread
        self._playing_format: StreamFormat | None = None
        self._resampler: StreamResampler | None = None

    def _callback(self, fmt: StreamFormat):
        read_into = self.buffer.read_into

        def work(outdata, status, time_info):
            playing = read_into(outdata) > 0
            underflow = bool(status.output_underflow)
            if underflow:
                self.underflows += 1
                if playing or self._was_playing:
                    self.audible_underflows += 1
            self._was_playing = playing
            echo = self.echo
            if echo is not None:  # every block, silence too: it is the echo's reference
                played_at = dac_time(time_info, fallback_latency=SPEAKER_BLOCK_MS / 1000 * 2)
                echo.far_end(bytes(outdata), played_at, rate=fmt.rate, channels=fmt.channels, xrun=underflow)

        return work

    def _format_changed(self, fmt: StreamFormat) -> None:
        with self._play_lock:
            if fmt == self._playing_format:
                return
            self.buffer.flush()
            self.buffer.preroll_bytes = int(bytes_per_ms(fmt.rate) * fmt.channels * self._preroll_ms)
            self._resampler = StreamResampler(self.rate, fmt.rate)
            self._playing_format = fmt

    def _lost(self) -> None:
        with self._play_lock:
            self._playing_format = None
            self.buffer.flush()

    def play(self, pcm: bytes) -> None:
        """Queue model audio; dropped while the device is being reopened (never raises)."""
        received_at = time.monotonic()
        with self._play_lock:
            fmt = self._playing_format
            if fmt is None:
                return
            self.buffer.write(from_mono(self._resampler.process(pcm), fmt.channels), received_at)

    def end_of_turn(self) -> None:
        self.buffer.end_of_turn()

    def flush(self) -> None:
        with self._play_lock:
            self.buffer.flush()
            if self._resampler is not None:
                self._resampler.reset()

    @property
    def active(self) -> bool:
        return self.buffer.active
