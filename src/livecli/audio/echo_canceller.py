"""`--echo aec`: WebRTC's AEC3 removes the speaker's sound from each 10 ms microphone frame,
using what the speaker played as reference. Full duplex: the user can still interrupt by voice.

Fed like every echo control (see `echo`): `far_end` only appends to a deque (safe from
PortAudio's callback thread too); the work happens in `near_end`.

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

When the echo path moves. An underrun of the speaker (it played silence for a block) or an
overrun of the microphone (it lost one) moves the echo by a block against the reference.
PortAudio's timestamps are smooth (well under a millisecond between callbacks), so such a
step shows in them at once (`STEP_S`). The speaker's is re-aligned with that very block
instead of waiting for AEC3 to find the echo again; the microphone's chunks carry one
timestamp each, which cannot say where in the chunk the block went, so there the guard is
alerted and the tracker finds the move. Moves nothing reports (a sound server correcting
drift, a Bluetooth device) are found by `PathTracker` (echo_path.py) from the signals
themselves, within a chunk or two, and the reference is shifted by as much. Meanwhile, and
while AEC3 settles again, `ResidualGuard` (echo_guard.py) holds back what the speaker explains.
"""

from __future__ import annotations

import collections
import dataclasses

import numpy as np

from livecli.audio.aec_backends import Backend, load_backend
from livecli.audio.echo_guard import ResidualGuard
from livecli.audio.echo_path import PathTracker
from livecli.audio.resample import StreamResampler
from livecli.formats import INPUT_RATE

FRAME_MS = 10
GLITCHES, GLITCHES_S = 3, 2.0  # a speaker glitching this many times this fast is starving (`_speaker_glitched`)
LEAD_MS = 20  # the reference reaches AEC3 this much ahead of the timestamps' alignment
HOLD_MS = 40  # a microphone frame whose reference is due within this long waits for it...
HOLD_FRAMES = 3  # ...if it is among the last this many frames of the chunk
HISTORY_S = 2.0  # reference kept for alignment
SMOOTHING_S = 2.0  # time constant of a timeline's origin: callback timestamps jitter
JUMP_S = 0.05  # a timestamp this far off its timeline re-anchors it (device reopened, lost audio)
STEP_S = 0.004  # ...this far off smooth timestamps, a block was lost or repeated: re-align at once
STEADY_BLOCKS = 8  # timestamps are smooth when this many in a row stay within STEADY_S
STEADY_S = 0.001
LATE_S = 0.012  # the reference has drifted this much later than settled (of LEAD_MS): re-centre
EARLY_S = 0.2  # ...or this much earlier (AEC3 covers about 400 ms)
# Clock drift between two devices moves the echo by a sample every few seconds. AEC3 follows that
# itself; nudging the reference a sample at a time disturbs its filter more than the drift does
# (measured), so the read position only jumps back when the drift leaves the range AEC3 covers.
SETTLE_S = 3.0  # until the timelines have this much audio behind them, only jumps are corrected
# The speaker's blocks go to 16 kHz with no emission latency: soxr's quick cubic. Its HQ filter
# holds back up to 36 ms, and a reference that arrives late cancels nothing; the aliasing costs
# about 3 dB of ERLE (measured).
REFERENCE_QUALITY = "QQ"


class _Timeline:
    """Sample count <-> device time: `time_of(n) = origin + n / rate`, origin smoothed."""

    def __init__(self, rate: int):
        self.rate = rate
        self.origin: float | None = None
        self.count: float = 0  # samples so far
        self._observed = 0
        self._errors: collections.deque[float] = collections.deque(maxlen=STEADY_BLOCKS)

    def observe(self, at: float, length: float) -> tuple[float, float]:
        """A block of `length` samples starting at device time `at` arrives; returns (gap, step):
        how many seconds of samples went missing before it (the caller fills the gap), and how
        far smooth timestamps stepped (a block lost or repeated: the caller moves the origin)."""
        if self.origin is None:
            self.origin = at - self.count / self.rate
            self._observed = 1
            return 0.0, 0.0
        error = at - self.time_of(self.count)
        if error > JUMP_S:  # samples missing
            self._errors.clear()
            return error, 0.0
        if error < -JUMP_S:  # the device restarted earlier than its timeline: re-anchor
            self.origin += error
            self._errors.clear()
            return 0.0, 0.0
        recent = self._errors
        if len(recent) == recent.maxlen:
            low, high = min(recent), max(recent)
            step = error - (low + high) / 2
            if high - low < STEADY_S and abs(step) >= STEP_S:
                recent.clear()
                return 0.0, step
        recent.append(error)
        self._observed += 1  # a running mean at first, then an exponential one
        self.origin += max(1.0 / self._observed, min(1.0, length / self.rate / SMOOTHING_S)) * error
        return 0.0, 0.0

    def time_of(self, n: float) -> float:
        return self.origin + n / self.rate


@dataclasses.dataclass
class EchoStats:
    frames: int = 0  # 10 ms microphone frames processed
    far_frames: int = 0  # of which had some reference (speaker data) to go with them
    missing_reference_frames: int = 0  # the reference was not there yet (fed late): zeros used
    held_frames: int = 0  # frames held for the next call, waiting for their reference
    drift_corrections: int = 0  # read position re-centred after clock drift
    realignments: int = 0  # read position jumped (a timeline jumped)
    xruns: int = 0  # speaker blocks PortAudio flagged as after an underrun
    steps: int = 0  # re-alignments after a step in the timestamps (a block lost or repeated)
    moves: int = 0  # re-alignments after the echo moved with nothing reporting it
    guarded_frames: int = 0  # frames the residual-echo guard lowered
    reopened: int = 0  # a device changed format or its timeline jumped (reopened, long loss)


class EchoCanceller:
    """WebRTC AEC3 on 16 kHz mono int16, fed with timestamped speaker and microphone audio."""

    mode = "aec"
    reason = "chosen: echo cancellation"
    muted = False  # full duplex: the microphone always goes through

    def __init__(
        self,
        rate: int = INPUT_RATE,
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
        self.tracker = PathTracker(rate)
        self.guard = ResidualGuard(rate)
        self._glitches: collections.deque[int] = collections.deque(maxlen=GLITCHES)  # when (frames processed)
        self._incoming: collections.deque[tuple[bytes, float, int, int, bool]] = collections.deque()
        self._far_time = _Timeline(rate)
        self._near_time = _Timeline(rate)
        self._history = np.zeros(int(HISTORY_S * rate), dtype=np.int16)
        self._written = 0  # reference samples written to the history (absolute index)
        self._read: int | None = None  # absolute index of the next reference sample for AEC3
        self._bias: int | None = None  # read position minus the timelines' target, once settled
        self._far_format: tuple[int, int] | None = None
        self._resampler: StreamResampler | None = None
        self._pending = np.zeros(0, dtype=np.int16)  # microphone samples short of a frame

    # The speaker side.
    def far_end(
        self, pcm: bytes, played_at: float, *, rate: int | None = None, channels: int = 1, xrun: bool = False
    ) -> None:
        """A block the speaker played (int16, interleaved), whose first sample reached the DAC at
        `played_at` (time.monotonic()); `xrun`: PortAudio flagged an underrun before it. Cheap
        and thread-safe: only queued here."""
        self._incoming.append((pcm, played_at, rate or self.rate, channels, xrun))

    def _take_far(self) -> None:
        while self._incoming:
            pcm, played_at, rate, channels, xrun = self._incoming.popleft()
            if xrun:  # the echo may have moved: the tracker will say, meanwhile hold back more
                self.stats.xruns += 1
                self._speaker_glitched()
            samples = np.frombuffer(pcm, dtype=np.int16)
            if channels > 1:
                samples = samples.reshape(-1, channels).mean(axis=1).astype(np.int16)
            if (rate, channels) != self._far_format:
                if self._far_format is not None:
                    self._lost_track()
                self._far_format = (rate, channels)
                self._resampler = StreamResampler(rate, self.rate, quality=REFERENCE_QUALITY)
                self._far_time = _Timeline(self.rate)
                self._far_time.count = self._written
            length = samples.size * self.rate / rate
            gap, step = self._far_time.observe(played_at, length)
            if gap > 0 and not step:
                self._lost_track()
            if step > 0:  # the device ran dry for a block: it played silence there
                gap = step
                self._stepped(0)
            elif step < 0:  # it skipped some: what follows plays sooner
                self._far_time.origin += step
                self._stepped(int(round(-step * self.rate)))
            if gap > 0:  # the speaker played nothing for a while (reopened, underrun): silence, there
                silence = int(round(gap * self.rate))
                self._write_silence(silence)
                self._far_time.count += silence
            self._write(self._resampler.resample(samples))
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
        self._take_far()
        samples = np.frombuffer(pcm, dtype=np.int16)
        gap, step = self._near_time.observe(captured_at - len(self._pending) / self.rate, len(samples))
        if gap > 0:  # microphone audio was lost: its timeline moves on without it
            self._near_time.origin += gap
            self._lost_track()
        if step:  # a block lost (or repeated) somewhere in the chunk: the tracker finds where
            self._near_time.origin += step
            if self._bias is not None:  # the read position stays until then
                self._bias -= int(round(step * self.rate))
            self.stats.steps += 1
            self.guard.alert()
        data = np.concatenate([self._pending, samples]) if len(self._pending) else samples
        frames = len(data) // self.frame
        self._track(data[: frames * self.frame])
        far = np.zeros((frames, self.frame), dtype=np.int16)
        out = np.empty((frames, self.frame), dtype=np.int16)
        done = 0
        for i in range(frames):
            read = self._plan()
            short = 0 if read is None else read + self.frame - self._written
            if 0 < short <= HOLD_MS * self.rate // 1000 and frames - i <= HOLD_FRAMES:
                self.stats.held_frames += frames - i
                break
            far[i], out[i] = self._process(data[i * self.frame : (i + 1) * self.frame], read)
            done += 1
        self._pending = data[done * self.frame :].copy()
        if not done:
            return b""
        held = self.guard.held_frames
        near = data[: done * self.frame].reshape(done, self.frame)
        guarded = self.guard.process(far[:done], near, out[:done], self.tracker.delay)
        self.stats.guarded_frames += self.guard.held_frames - held
        return guarded.tobytes()

    def _lost_track(self) -> None:
        """A device changed format or a timeline jumped (reopened, or audio lost for a while):
        where the echo is, and whether there is one, is found anew."""
        self.stats.reopened += 1
        self.tracker.forget()

    def _stepped(self, samples: int) -> None:
        """A step in the speaker's timestamps: the reference read moves `samples` on (the target
        moved with it)."""
        self.stats.steps += 1
        if self._read is not None:
            self._read += samples
        self._speaker_glitched()

    def _speaker_glitched(self) -> None:
        """The speaker under- or overflowed: the guard holds back more; again and again (the
        machine is short of time, the sound server plays the starving stream's bursts on its own
        schedule), it also looks for the echo all around its delay."""
        self._glitches.append(self.stats.frames)
        starving = len(self._glitches) == GLITCHES and self.stats.frames - self._glitches[0] <= GLITCHES_S * 100
        self.guard.alert(starving=starving)

    def _track(self, mic: np.ndarray) -> None:
        """Before AEC3 sees `mic`: has the echo moved against the reference it will be fed with?
        If so, feed the reference shifted by as much, from these very frames on."""
        read = self._plan()
        if read is None or not len(mic):
            return
        end = min(read + len(mic), self._written)
        size = self.tracker.window + self.tracker.reach
        if end - size < max(0, self._written - len(self._history)) or end <= read:
            return
        reference = self._history[np.arange(end - size, end) % len(self._history)]
        moved = self.tracker.check(mic[: end - read], reference)
        if self.tracker.suspect:
            self.guard.alert()
        if moved:
            self.stats.moves += 1
            self._read = read - moved
            if self._bias is not None:
                self._bias -= moved
            self.tracker.shifted(moved)
            self.guard.alert()

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

    def _process(self, near: np.ndarray, read: int | None) -> tuple[np.ndarray, np.ndarray]:
        """(the reference fed, AEC3's output) for one microphone frame."""
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
        return far, self.backend.process(near, far)

    def open_now(self) -> None:
        """Nothing to open: the interrupt key only silences the speaker."""
