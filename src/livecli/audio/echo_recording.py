"""Both sides of an echo path as `talk` sees them, recorded and replayed.

`record_duplex` plays a signal through the speaker while recording the microphone, both
through PortAudio with their callback timestamps and the same block sizes, formats and
fallbacks as `talk`. `replay` then feeds such a `Recording` through any echo control in
the order the callbacks delivered it, exactly as a talk session would.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable

import numpy as np

from livecli.audio import portaudio
from livecli.audio.devices import resolve
from livecli.audio.echo import EchoControl
from livecli.audio.opening import discard, open_stream
from livecli.audio.pcm import Chunker, bytes_per_ms, from_mono, to_mono
from livecli.audio.portaudio import adc_time, dac_time
from livecli.audio.resample import StreamResampler
from livecli.audio.streams import MIC_BLOCK_MS, SPEAKER_BLOCK_MS
from livecli.formats import INPUT_RATE, OUTPUT_RATE, SAMPLE_BYTES

CHUNK_MS = 100  # what talk sends


@dataclasses.dataclass
class Blocks:
    """Blocks a stream delivered: int16 interleaved PCM, each block's device time (first sample),
    when its callback ran (monotonic) and whether PortAudio flagged an xrun before it (the
    speaker's device ran dry, the microphone's overflowed)."""

    rate: int
    channels: int
    pcm: list[bytes] = dataclasses.field(default_factory=list)
    at: list[float] = dataclasses.field(default_factory=list)
    arrived: list[float] = dataclasses.field(default_factory=list)
    xrun: list[bool] = dataclasses.field(default_factory=list)

    def add(self, pcm: bytes, at: float, arrived: float, *, xrun: bool = False) -> None:
        self.pcm.append(pcm)
        self.at.append(at)
        self.arrived.append(arrived)
        self.xrun.append(xrun)

    def frames(self, index: int) -> int:
        """How many samples per channel block `index` holds."""
        return len(self.pcm[index]) // SAMPLE_BYTES // self.channels

    def mono16k(self) -> np.ndarray:
        """All blocks as one 16 kHz mono signal (for analysis; timing by sample count)."""
        pcm = to_mono(b"".join(self.pcm), self.channels)
        return np.frombuffer(StreamResampler(self.rate, INPUT_RATE).process(pcm, last=True), dtype=np.int16)


@dataclasses.dataclass
class Recording:
    far: Blocks  # what the speaker played
    near: Blocks  # what the microphone captured
    output_device: str = ""
    input_device: str = ""


def record_duplex(
    output_spec: str | None,
    input_spec: str | None,
    play: np.ndarray,
    play_rate: int,
    *,
    lead_in_s: float = 0.5,
    tail_s: float = 0.7,
    started: Callable[[float], None] | None = None,
) -> Recording:
    """Play int16 mono `play` through the speaker while recording the microphone, both through
    PortAudio with the same block sizes, formats and fallbacks as `talk`. `started(t)` is told
    the monotonic time at which the first sample of `play` is due at the speaker."""
    sd = portaudio.sounddevice()
    speaker, mic = resolve(output_spec, "output"), resolve(input_spec, "input")
    state: dict = {}
    lock = threading.Lock()

    def make_input(fmt):
        blocks = Blocks(fmt.rate, fmt.channels)
        with lock:
            state["near"] = blocks

        def callback(indata, frames, time_info, status):
            now = time.monotonic()
            at = adc_time(time_info, now=now, fallback_latency=state.get("in_latency", 0.0), block_s=frames / fmt.rate)
            blocks.add(bytes(indata), at, now, xrun=bool(status.input_overflow))

        return callback

    def make_output(fmt):
        blocks = Blocks(fmt.rate, fmt.channels)
        pcm = from_mono(StreamResampler(play_rate, fmt.rate).process(play.tobytes(), last=True), fmt.channels)
        cursor = {"pos": None}
        with lock:
            state["far"] = blocks

        def callback(outdata, frames, time_info, status):
            now = time.monotonic()
            at = dac_time(time_info, now=now, fallback_latency=state.get("out_latency", 0.0))
            size = len(outdata)
            if cursor["pos"] is None and state.get("go"):
                cursor["pos"] = 0
                if started is not None:
                    started(at)
            pos = cursor["pos"]
            if pos is None or pos >= len(pcm):
                outdata[:] = bytes(size)
            else:
                piece = pcm[pos : pos + size]
                outdata[: len(piece)] = piece
                if len(piece) < size:
                    outdata[len(piece) :] = bytes(size - len(piece))
                cursor["pos"] = pos + size
            blocks.add(bytes(outdata), at, now, xrun=bool(status.output_underflow))

        return callback

    instream, _ = open_stream(sd, mic, "input", INPUT_RATE, block_ms=MIC_BLOCK_MS, make_callback=make_input)
    try:
        state["in_latency"] = float(instream.latency)
        outstream, _ = open_stream(
            sd, speaker, "output", OUTPUT_RATE, block_ms=SPEAKER_BLOCK_MS, make_callback=make_output
        )
        try:
            state["out_latency"] = float(outstream.latency)
            time.sleep(lead_in_s)
            state["go"] = True
            time.sleep(len(play) / play_rate + tail_s)
        finally:
            discard(outstream)
    finally:
        discard(instream)
    return Recording(state["far"], state["near"], speaker.name, mic.name)


@dataclasses.dataclass
class Replayed:
    raw: np.ndarray  # the microphone at 16 kHz as talk would send it without echo control
    sent: np.ndarray  # what the echo control let through
    chunk_times: list[float]  # captured_at of each 100 ms chunk
    cpu_s: float  # thread time spent in near_end + far_end


def replay(recording: Recording, control: EchoControl, *, chunk_ms: int = CHUNK_MS) -> Replayed:
    """Feed `recording` through `control` as a talk session would: speaker blocks as their
    callbacks ran, microphone blocks resampled to 16 kHz mono and cut into `chunk_ms` chunks,
    each with the capture time of its first sample."""
    far, near = recording.far, recording.near
    events = sorted([(t, 0, i) for i, t in enumerate(far.arrived)] + [(t, 1, i) for i, t in enumerate(near.arrived)])
    resampler = StreamResampler(near.rate, INPUT_RATE)
    chunker = Chunker(int(bytes_per_ms(INPUT_RATE) * chunk_ms))
    raw, sent, times = [], [], []
    cpu = 0.0
    for _, kind, i in events:
        if kind == 0:
            started = time.thread_time()
            control.far_end(far.pcm[i], far.at[i], rate=far.rate, channels=far.channels, xrun=far.xrun[i])
            cpu += time.thread_time() - started
            continue
        chunks = chunker.push(resampler.process(to_mono(near.pcm[i], near.channels)))
        block_end = near.at[i] + near.frames(i) / near.rate
        for chunk, captured_at in zip(chunks, chunker.start_times(chunks, block_end, INPUT_RATE)):
            started = time.thread_time()
            clean = control.near_end(chunk, captured_at)
            cpu += time.thread_time() - started
            raw.append(chunk)
            sent.append(clean)
            times.append(captured_at)
    as_array = lambda parts: np.frombuffer(b"".join(parts), dtype=np.int16)  # noqa: E731
    return Replayed(as_array(raw), as_array(sent), times, cpu)


def reference_on_mic_timeline(recording: Recording, replayed: Replayed) -> np.ndarray:
    """What the speaker played, placed on the microphone's 16 kHz timeline by the timestamps
    (sample i of the result was played when sample i of `replayed.raw` was captured)."""
    far = recording.far
    signal = far.mono16k().astype(np.float64)
    frames = np.cumsum([0] + [far.frames(i) for i in range(len(far.pcm) - 1)])
    origin = float(np.median(np.array(far.at) - frames / far.rate))  # time of sample 0
    chunk_s = len(replayed.raw) / INPUT_RATE / max(1, len(replayed.chunk_times))
    near_origin = float(np.median(np.array(replayed.chunk_times) - np.arange(len(replayed.chunk_times)) * chunk_s))
    start = int(round((origin - near_origin) * INPUT_RATE))
    out = np.zeros(len(replayed.raw), dtype=np.float64)
    lo, hi = max(0, start), min(len(out), start + len(signal))
    if hi > lo:
        out[lo:hi] = signal[lo - start : hi - start]
    return out
