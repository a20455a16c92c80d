"""Keeping the assistant's own voice out of the microphone (`--echo aec|half-duplex|off`).

On a laptop without headphones the microphone hears the speaker. Sent as is, that
echo crosses the service's voice-activity detector and the model interrupts itself.

* `aec` -- `EchoCanceller`: WebRTC's AEC3 (through the `pywebrtc-audio` package, or
  `livekit` when that is what is installed) removes the speaker's sound from each
  10 ms microphone frame, using what the speaker played as reference. Full duplex:
  the user can still interrupt by voice.
* `half-duplex` -- `HalfDuplexGate`: the microphone sends silence while the speaker
  plays (plus a short tail); the user interrupts with a key.
* `off` -- `NoEcho`: headphones.

All three share one interface, called from the asyncio side:

    echo.far_end(block, played_at, rate=..., channels=...)   # every block the speaker played
    clean = echo.near_end(chunk, captured_at)                # every microphone chunk, before sending

`far_end` only appends to a deque (safe from PortAudio's callback thread too);
the work happens in `near_end`.

Alignment. AEC3 needs the reference to reach it a little *before* the echo it
explains (it finds the exact delay itself, up to about 400 ms; a reference that
comes late cancels nothing). Both streams carry device timestamps -- `played_at`:
when the block's first sample reaches the DAC (PortAudio's `outputBufferDacTime`),
`captured_at`: when the chunk's first sample left the ADC (`inputBufferAdcTime`),
both mapped to `time.monotonic()`. Each side keeps a timeline: sample counts anchored
to the timestamps, smoothed (callback timestamps jitter by ±10 ms) and re-anchored
on a jump (a reopened device). For every 10 ms microphone frame the canceller takes
the reference that was played `lead_ms` later than the frame was captured; the read
position follows the timelines one sample per frame at most (clock drift), or jumps
when they jump.
"""

from __future__ import annotations

import collections
import dataclasses
import time
from typing import Protocol

import numpy as np

RATE = 16000
FRAME_MS = 10
LEAD_MS = 20  # the reference reaches AEC3 this much ahead of the timestamps' alignment
HOLD_MS = 40  # a microphone frame whose reference is due within this long waits for it...
HOLD_FRAMES = 3  # ...if it is among the last this many frames of the chunk
HISTORY_S = 2.0  # reference kept for alignment
SMOOTHING_S = 2.0  # time constant of a timeline's origin: callback timestamps jitter
JUMP_S = 0.05  # a timestamp this far off its timeline re-anchors it (device reopened, lost audio)
STEP_S = 0.005  # speaker blocks that all start this much later than their timeline...
STEP_BLOCKS = 5  # ...this many in a row: an underrun; silence goes into the reference there
LATE_S = 0.012  # the reference has drifted this much later than settled (of LEAD_MS): re-centre
EARLY_S = 0.2  # ...or this much earlier (AEC3 covers about 400 ms)
# Clock drift between two devices moves the echo by a sample every few seconds. AEC3 follows that
# itself; nudging the reference a sample at a time disturbs its filter more than the drift does
# (measured), so the read position only jumps back when the drift leaves the range AEC3 covers.
SETTLE_S = 3.0  # until the timelines have this much audio behind them, only jumps are corrected
HALF_DUPLEX_TAIL_MS = 300
OPEN_GRACE_S = 0.2  # after open_now(): blocks already queued in the device do not mute again
SILENT_RMS = 30.0  # int16 RMS below which a played block counts as silence (about -61 dBFS)

MODES = ("aec", "half-duplex", "off")
INSTALL_HINT = "pipx inject livecli pywebrtc-audio"


class EchoUnavailable(RuntimeError):
    """No echo canceller can run here; the message says why in one line."""


# -- backends: one 10 ms frame of int16 at a time -------------------------------------------------


class Backend(Protocol):
    name: str

    def process(self, near: np.ndarray, far: np.ndarray) -> np.ndarray:
        """Feed one reference frame, then clean one microphone frame (both int16, 10 ms)."""

    def set_delay_ms(self, delay_ms: int) -> None: ...


class _PyWebrtcAudio:
    """`pywebrtc-audio`: WebRTC's AEC3 (+ optional noise suppression) in a 0.4 MB wheel."""

    name = "pywebrtc-audio"

    def __init__(self, rate: int, noise_suppression: bool):
        from pywebrtc_audio import AudioProcessor

        self._ap = AudioProcessor(
            sample_rate=rate, echo_cancellation=True, noise_suppression=noise_suppression, ns_level=1
        )

    def process(self, near: np.ndarray, far: np.ndarray) -> np.ndarray:
        return self._ap.process(near, far)

    def set_delay_ms(self, delay_ms: int) -> None:
        self._ap.stream_delay_ms = max(0, int(delay_ms))


class _LiveKit:
    """`livekit`'s `rtc.AudioProcessingModule` (the same AEC3, behind a 30 MB FFI library)."""

    name = "livekit"

    def __init__(self, rate: int, noise_suppression: bool):
        from livekit import rtc

        self._rtc = rtc
        self._rate = rate
        self._apm = rtc.AudioProcessingModule(
            echo_cancellation=True, noise_suppression=noise_suppression, high_pass_filter=True
        )
        self._delay_ms = 0

    def process(self, near: np.ndarray, far: np.ndarray) -> np.ndarray:
        n = len(near)
        reverse = self._rtc.AudioFrame(far.tobytes(), self._rate, 1, n)
        self._apm.process_reverse_stream(reverse)
        frame = self._rtc.AudioFrame(near.tobytes(), self._rate, 1, n)
        self._apm.set_stream_delay_ms(self._delay_ms)  # "must be called" before each process_stream
        self._apm.process_stream(frame)
        return np.frombuffer(frame.data, dtype=np.int16).copy()

    def set_delay_ms(self, delay_ms: int) -> None:
        self._delay_ms = max(0, int(delay_ms))


BACKENDS = {"pywebrtc-audio": _PyWebrtcAudio, "livekit": _LiveKit}


def load_backend(name: str | None = None, *, rate: int = RATE, noise_suppression: bool = True) -> Backend:
    """The named backend, or the first that imports; EchoUnavailable says what to install."""
    names = [name] if name else list(BACKENDS)
    reasons = []
    for candidate in names:
        try:
            return BACKENDS[candidate](rate, noise_suppression)
        except KeyError:
            raise EchoUnavailable(f"unknown echo canceller '{candidate}' (known: {', '.join(BACKENDS)})") from None
        except ImportError as exc:
            reasons.append(f"{candidate}: {exc}")
        except Exception as exc:  # a broken native library: say so, do not crash the session
            reasons.append(f"{candidate} failed to start: {exc}")
    if name is None and all("No module named" in r for r in reasons):
        raise EchoUnavailable(f"the echo canceller is not installed ({INSTALL_HINT})")
    raise EchoUnavailable("the echo canceller cannot run: " + "; ".join(reasons))


def available() -> bool:
    try:
        load_backend()
    except EchoUnavailable:
        return False
    return True


# -- timelines ------------------------------------------------------------------------------------


class _Timeline:
    """Sample count <-> device time: `time_of(n) = origin + n / rate`, origin smoothed.

    With `steps`, a block that starts later than its timeline by more than STEP_S, and the
    STEP_BLOCKS after it likewise, reveal a gap (an output underrun: the device played silence
    meanwhile); `observe` returns it, with how many samples ago it began."""

    def __init__(self, rate: int, *, steps: bool = False):
        self.rate = rate
        self.origin: float | None = None
        self.count: float = 0  # samples so far
        self.jumps = 0
        self._observed = 0
        self._steps = collections.deque(maxlen=STEP_BLOCKS) if steps else None

    def expected(self) -> float:
        return self.origin + self.count / self.rate

    def observe(self, at: float, length: float) -> tuple[float, float]:
        """A block of `length` samples starting at device time `at` arrives; returns (gap to fill
        in s, samples since the gap began) -- (0, 0) when there is none."""
        if self.origin is None:
            self.origin = at - self.count / self.rate
            self._observed = 1
            return 0.0, 0.0
        error = at - self.expected()
        if error > JUMP_S:  # samples missing: the caller fills the gap
            self.jumps += 1
            return error, 0.0
        if error < -JUMP_S:  # the device restarted earlier than its timeline: re-anchor
            self.jumps += 1
            self.origin += error
            return 0.0, 0.0
        if self._steps is not None:
            self._steps.append((error, self.count))
            if len(self._steps) == STEP_BLOCKS and min(e for e, _ in self._steps) > STEP_S:
                gap, since = min(e for e, _ in self._steps), self._steps[0][1]
                self._steps.clear()
                self.jumps += 1
                return gap, self.count - since
        self._observed += 1  # a running mean at first, then an exponential one
        self.origin += max(1.0 / self._observed, min(1.0, length / self.rate / SMOOTHING_S)) * error
        return 0.0, 0.0

    def time_of(self, n: float) -> float:
        return self.origin + n / self.rate


class _ReferenceResampler:
    """The speaker's blocks to 16 kHz with no emission latency (soxr's quick cubic: its HQ filter
    holds back up to 36 ms, and a reference that arrives late cancels nothing; the aliasing
    costs about 3 dB of ERLE, measured)."""

    def __init__(self, in_rate: int, out_rate: int):
        import soxr

        self._stream = None if in_rate == out_rate else soxr.ResampleStream(in_rate, out_rate, 1, dtype="int16", quality="QQ")

    def process(self, samples: np.ndarray) -> np.ndarray:
        if self._stream is None:
            return samples
        return self._stream.resample_chunk(np.ascontiguousarray(samples, dtype=np.int16))


# -- the echo canceller ---------------------------------------------------------------------------


@dataclasses.dataclass
class EchoStats:
    frames: int = 0  # 10 ms microphone frames processed
    far_frames: int = 0  # of which had some reference (speaker data) to go with them
    missing_reference_frames: int = 0  # the reference was not there yet (fed late): zeros used
    held_frames: int = 0  # frames held for the next call, waiting for their reference
    drift_corrections: int = 0  # read position re-centred after clock drift
    realignments: int = 0  # read position jumped (a timeline jumped)
    cpu_s: float = 0.0  # thread time spent in near_end


class EchoCanceller:
    """WebRTC AEC3 on 16 kHz mono int16, fed with timestamped speaker and microphone audio."""

    mode = "aec"
    muted = False  # full duplex: the microphone always goes through

    def __init__(
        self,
        rate: int = RATE,
        *,
        backend: str | Backend | None = None,
        noise_suppression: bool = True,
        lead_ms: float = LEAD_MS,
    ):
        if rate % 100:
            raise ValueError("the rate must hold a whole number of samples in 10 ms")
        self.rate = rate
        self.frame = rate * FRAME_MS // 1000
        self.lead_s = lead_ms / 1000.0
        if backend is None or isinstance(backend, str):
            backend = load_backend(backend, rate=rate, noise_suppression=noise_suppression)
        self.backend = backend
        self.backend.set_delay_ms(int(lead_ms))
        self.stats = EchoStats()
        self._incoming: collections.deque[tuple[bytes, float, int, int]] = collections.deque()
        self._far_time = _Timeline(rate)
        self._near_time = _Timeline(rate)
        self._history = np.zeros(int(HISTORY_S * rate), dtype=np.int16)
        self._written = 0  # reference samples written to the history (absolute index)
        self._read: int | None = None  # absolute index of the next reference sample for AEC3
        self._bias: int | None = None  # read position minus the timelines' target, once settled
        self._far_format: tuple[int, int] | None = None
        self._resampler = None
        self._pending = np.zeros(0, dtype=np.int16)  # microphone samples short of a frame

    # The speaker side.
    def far_end(self, pcm: bytes, played_at: float, *, rate: int | None = None, channels: int = 1) -> None:
        """A block the speaker played (int16, interleaved), whose first sample reached the DAC at
        `played_at` (time.monotonic()). Cheap and thread-safe: only queued here."""
        self._incoming.append((pcm, played_at, rate or self.rate, channels))

    def _take_far(self) -> None:
        while self._incoming:
            pcm, played_at, rate, channels = self._incoming.popleft()
            samples = np.frombuffer(pcm, dtype=np.int16)
            if channels > 1:
                samples = samples.reshape(-1, channels).mean(axis=1).astype(np.int16)
            if (rate, channels) != self._far_format:
                self._far_format = (rate, channels)
                self._resampler = _ReferenceResampler(rate, self.rate)
                self._far_time = _Timeline(self.rate)  # steps=True: measured no better in the rig
                self._far_time.count = self._written
            length = samples.size * self.rate / rate
            gap, since = self._far_time.observe(played_at, length)
            if gap > 0:  # the speaker played nothing for a while (reopened, underrun): silence, there
                silence = int(round(gap * self.rate))
                since = max(0, min(int(round(since)), self._written, len(self._history) - silence))
                after = self._recent(since)
                self._written -= since
                self._write_silence(silence)
                self._write(after)
                self._far_time.count += silence
            self._write(self._resampler.process(samples))
            self._far_time.count += length  # by what came in: the resampler's output is bursty

    def _write(self, samples: np.ndarray) -> None:
        size = len(self._history)
        if len(samples) > size:
            self._written += len(samples) - size
            samples = samples[-size:]
        start = self._written % size
        first = min(len(samples), size - start)
        self._history[start : start + first] = samples[:first]
        self._history[: len(samples) - first] = samples[first:]
        self._written += len(samples)

    def _write_silence(self, n: int) -> None:
        """`n` samples of silence; a long pause only moves the write position past the history."""
        size = len(self._history)
        if n > size:
            self._written += n - size
            n = size
        self._write(np.zeros(n, dtype=np.int16))

    def _recent(self, n: int) -> np.ndarray:
        """The last `n` reference samples written."""
        index = np.arange(self._written - n, self._written) % len(self._history)
        return self._history[index].copy()

    def _reference(self, start: int) -> tuple[np.ndarray, bool, bool]:
        """`frame` samples from absolute index `start`: (samples, any there, all there)."""
        size = len(self._history)
        lo, hi = max(start, self._written - size, 0), min(start + self.frame, self._written)
        out = np.zeros(self.frame, dtype=np.int16)
        if hi <= lo:
            return out, False, False
        index = np.arange(lo, hi) % size
        out[lo - start : hi - start] = self._history[index]
        return out, True, hi - lo == self.frame

    # The microphone side.
    def near_end(self, pcm: bytes, captured_at: float) -> bytes:
        """A microphone chunk (16 kHz mono int16) whose first sample was captured at `captured_at`;
        returns it without the speaker's echo.

        Usually the same length. A 10 ms frame whose reference the speaker has not reported yet
        (it is due within `HOLD_MS`) is held until the next call, which then returns that much
        more: a reference that comes late cancels nothing. Likewise a chunk that is not a whole
        number of 10 ms frames leaves its remainder for the next call."""
        started = time.thread_time()
        self._take_far()
        samples = np.frombuffer(pcm, dtype=np.int16)
        gap, _ = self._near_time.observe(captured_at - len(self._pending) / self.rate, len(samples))
        if gap > 0:  # microphone audio was lost: its timeline moves on without it
            self._near_time.origin += gap
        data = np.concatenate([self._pending, samples]) if len(self._pending) else samples
        frames = len(data) // self.frame
        out = np.empty(frames * self.frame, dtype=np.int16)
        done = 0
        for i in range(frames):
            read = self._plan()
            short = 0 if read is None else read + self.frame - self._written
            if 0 < short <= HOLD_MS * self.rate // 1000 and frames - i <= HOLD_FRAMES:
                self.stats.held_frames += frames - i
                break
            out[done : done + self.frame] = self._process(data[done : done + self.frame], read)
            done += self.frame
        self._pending = data[done:].copy()
        self.stats.cpu_s += time.thread_time() - started
        return out[:done].tobytes()

    def _plan(self) -> int | None:
        """Where the reference for the next microphone frame starts (absolute index), with at
        most a one-sample nudge from where the last one ended; None before any reference."""
        if self._far_time.origin is None:
            return self._read
        when = self._near_time.time_of(self._near_time.count) + self.lead_s
        target = int(round((when - self._far_time.origin) * self.rate))
        if self._read is None or abs(target + (self._bias or 0) - self._read) > JUMP_S * self.rate:
            self._bias = None if self._read is None else self._bias
            return target + (self._bias or 0)
        if self._bias is None:
            if self._near_time.count < SETTLE_S * self.rate or self._written < SETTLE_S * self.rate:
                return self._read
            # The timelines have settled: what the read position is off by now is the first
            # estimates' error, a fixed part of the delay AEC3 has already found. Keep it.
            self._bias = self._read - target
        error = target + self._bias - self._read  # > 0: the reference has drifted later
        if error > LATE_S * self.rate or -error > EARLY_S * self.rate:
            return target + self._bias
        return self._read

    def _process(self, near: np.ndarray, read: int | None) -> np.ndarray:
        if read is not None and self._read is not None and read != self._read:
            if self._bias is not None and abs(read - self._read) <= max(JUMP_S, EARLY_S) * self.rate:
                self.stats.drift_corrections += 1
            else:
                self.stats.realignments += 1
        self._near_time.count += self.frame
        self.stats.frames += 1
        if read is None:
            far = np.zeros(self.frame, dtype=np.int16)
        else:
            far, some, whole = self._reference(read)
            self._read = read + self.frame
            if some:
                self.stats.far_frames += 1
            if not whole and self._read > self._written:
                self.stats.missing_reference_frames += 1
        return self.backend.process(near, far)

    def open_now(self) -> None:
        """Nothing to open: the interrupt key only silences the speaker."""


# -- half duplex and off --------------------------------------------------------------------------


class HalfDuplexGate:
    """Sends silence instead of the microphone while the speaker plays, and `tail_ms` after.

    Fed like the canceller; `open_now()` lets the microphone through at once (the user pressed
    the interrupt key: the session also flushes the speaker and drops the rest of the turn).
    """

    mode = "half-duplex"

    def __init__(self, rate: int = RATE, *, tail_ms: float = HALF_DUPLEX_TAIL_MS):
        self.rate = rate
        self.tail_s = tail_ms / 1000.0
        self._muted_until = float("-inf")
        self._spans: list[list[float]] = []  # [start, end + tail] of what the speaker played
        self._opened_at = float("-inf")
        self.muted_chunks = 0

    def far_end(self, pcm: bytes, played_at: float, *, rate: int | None = None, channels: int = 1) -> None:
        samples = np.frombuffer(pcm, dtype=np.int16)
        if samples.size == 0 or float(np.sqrt(np.mean(samples.astype(np.float32) ** 2))) <= SILENT_RMS:
            return
        if played_at < self._opened_at + OPEN_GRACE_S:  # already in the device when the key was hit
            return
        end = played_at + samples.size / ((rate or self.rate) * channels) + self.tail_s
        if played_at > self._muted_until:  # a new stretch of the assistant's voice
            self._spans.append([played_at, end])
            del self._spans[:-8]
        else:
            self._spans[-1][1] = max(self._spans[-1][1], end)
        self._muted_until = self._spans[-1][1]

    def near_end(self, pcm: bytes, captured_at: float) -> bytes:
        chunk_end = captured_at + len(pcm) / (2 * self.rate)
        if any(start < chunk_end and captured_at < end for start, end in self._spans):
            self.muted_chunks += 1
            return bytes(len(pcm))
        return pcm

    def open_now(self, now: float | None = None) -> None:
        self._opened_at = time.monotonic() if now is None else now
        self._muted_until = float("-inf")
        self._spans.clear()

    @property
    def muted(self) -> bool:
        return time.monotonic() < self._muted_until



class NoEcho:
    """`--echo off`: headphones, nothing to do."""

    mode = "off"
    muted = False

    def far_end(self, pcm: bytes, played_at: float, *, rate: int | None = None, channels: int = 1) -> None:
        pass

    def near_end(self, pcm: bytes, captured_at: float) -> bytes:
        return pcm

    def open_now(self) -> None:
        pass


@dataclasses.dataclass
class EchoChoice:
    control: EchoCanceller | HalfDuplexGate | NoEcho
    notice: str | None = None  # one line for the user when the wish could not be granted

    @property
    def mode(self) -> str:
        return self.control.mode


def make_echo(mode: str = "aec", *, rate: int = RATE, backend: str | None = None) -> EchoChoice:
    """The echo control for `--echo MODE`; `aec` without a canceller falls back to half duplex,
    with a one-line notice saying why and how to get it."""
    if mode == "off":
        return EchoChoice(NoEcho())
    if mode == "half-duplex":
        return EchoChoice(HalfDuplexGate(rate))
    if mode != "aec":
        raise ValueError(f"unknown echo mode '{mode}' (expected one of {', '.join(MODES)})")
    try:
        return EchoChoice(EchoCanceller(rate, backend=backend))
    except EchoUnavailable as exc:
        notice = f"echo: half duplex, the microphone is muted while Gemini speaks: {exc}"
        return EchoChoice(HalfDuplexGate(rate), notice=notice)


def parse_mode(raw) -> str:
    """For settings: aec | half-duplex | off (also half_duplex, halfduplex)."""
    if isinstance(raw, bool) or not isinstance(raw, str):
        raise ValueError(f"expected one of {', '.join(MODES)}")
    text = raw.strip().lower().replace("_", "-")
    text = {"halfduplex": "half-duplex", "none": "off", "headphones": "off"}.get(text, text)
    if text not in MODES:
        raise ValueError(f"expected one of {', '.join(MODES)}")
    return text
