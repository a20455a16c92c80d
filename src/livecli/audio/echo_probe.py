"""Measuring an echo path: `livecli devices test --echo`, the rig benchmark and the tests.

`measure_echo_path(input, output)` plays a speech-like probe through the speaker while
recording the microphone (both with PortAudio's timestamps, as `talk` would see them),
then replays both through `EchoCanceller` exactly in the order the callbacks delivered
them, and reports the echo delay, how loud the echo is, and the echo return loss
enhancement (ERLE) the canceller achieves.

The pieces are reusable: `record_duplex` (play + record with timestamps), `replay` (feed a
`Recording` through any echo control like a talk session would), the analysis helpers
(`erle_db`, `erle_windows`, `convergence_s`, `vad_onsets`), and synthetic signals for
offline tests (`speech_like`, `simulate_echo`).

    python -m livecli.audio.echo_probe record OUT.npz --play PCM.raw --play-rate 24000 [--input X] [--output Y]

records to a file (used by benchmarks/echo_rig.py in a subprocess that has the rig's
PulseAudio environment).
"""

from __future__ import annotations

import dataclasses
import sys
import threading
import time
from collections.abc import Callable

import numpy as np

from livecli.audio.aec_backends import EchoUnavailable
from livecli.audio.echo import NoEcho
from livecli.audio.echo_canceller import EchoCanceller
from livecli.audio.portaudio import adc_time, dac_time
from livecli.audio.pcm import Chunker, from_mono, to_mono
from livecli.audio.resample import StreamResampler
from livecli.formats import INPUT_RATE as RATE

VAD_THRESHOLD = 500.0  # the fake Live server's: RMS of a 10 ms int16 frame
VAD_SILENCE_MS = 500.0
CHUNK_MS = 100  # what talk sends
MIC_BLOCK_MS = 20
SPEAKER_BLOCK_MS = 10
PROBE_S = 6.0
PROBE_DBFS = -20.0
ACTIVE_DBFS = -50.0  # a 10 ms frame of raw microphone with echo at least this loud counts for ERLE
CONVERGED_AFTER_S = 2.0


# -- synthetic signals ----------------------------------------------------------------------------


def speech_like(seconds: float, rate: int = RATE, *, seed: int = 0, level_dbfs: float = PROBE_DBFS) -> np.ndarray:
    """Voiced syllables (a glottal pulse train with gliding pitch through moving formants),
    fricative noise and pauses, at about `level_dbfs` RMS: int16. Broadband and non-stationary
    like speech, which is what an echo canceller must converge on."""
    rng = np.random.default_rng(seed)
    n = int(seconds * rate)
    out = np.zeros(n)
    pos = 0
    while pos < n:
        syllable = int(rng.uniform(0.12, 0.3) * rate)
        pause = int(rng.choice([0.03, 0.05, 0.08, 0.25]) * rate) if rng.random() < 0.8 else int(0.4 * rate)
        end = min(n, pos + syllable)
        length = end - pos
        if length <= 0:
            break
        t = np.arange(length) / rate
        if rng.random() < 0.2:  # a fricative
            seg = rng.standard_normal(length)
            seg = np.diff(np.concatenate([[0.0], seg])) * 0.4  # tilted up
        else:
            f0 = rng.uniform(100, 230) * (1 + 0.15 * np.sin(2 * np.pi * rng.uniform(1, 4) * t))
            phase = np.cumsum(f0 / rate)
            pulses = np.diff(np.floor(phase), prepend=0.0) * 1.0
            seg = pulses + 0.02 * rng.standard_normal(length)
            for f1, bw in ((rng.uniform(300, 900), 80), (rng.uniform(900, 2500), 120), (rng.uniform(2500, 3500), 200)):
                seg = _resonator(seg, f1, bw, rate) + 0.3 * seg
        envelope = np.sin(np.pi * np.arange(length) / length) ** 0.6
        seg = seg / (np.sqrt(np.mean(seg**2)) or 1.0) * rng.uniform(0.5, 1.0)  # syllables alike in level
        out[pos:end] = seg * envelope
        pos = end + pause
    active = out[np.abs(out) > 0]
    rms = np.sqrt(np.mean(active**2)) if active.size else 1.0
    out *= 10 ** (level_dbfs / 20) * 32768 / rms
    return np.clip(out, -32768, 32767).astype(np.int16)


def _resonator(x: np.ndarray, freq: float, bandwidth: float, rate: int) -> np.ndarray:
    """A two-pole resonance (a formant)."""
    r = np.exp(-np.pi * bandwidth / rate)
    a1, a2 = -2 * r * np.cos(2 * np.pi * freq / rate), r * r
    try:
        from scipy.signal import lfilter  # noqa: PLC0415 - optional, faster

        return lfilter([1 - r], [1, a1, a2], x)
    except ImportError:
        y = np.zeros_like(x)
        y1 = y2 = 0.0
        g = 1 - r
        for i, v in enumerate(x):
            y0 = g * v - a1 * y1 - a2 * y2
            y[i] = y0
            y2, y1 = y1, y0
        return y


def simulate_echo(
    far: np.ndarray,
    rate: int = RATE,
    *,
    delay_ms: float = 60.0,
    gain: float = 0.3,
    reverb_ms: float = 15.0,
    reverb_level: float = 0.15,
    noise_dbfs: float = -70.0,
    seed: int = 1,
) -> np.ndarray:
    """What a microphone hears of `far` (int16): delayed, scaled, with a small room's decaying
    reflections and a noise floor; float64 in int16 units."""
    rng = np.random.default_rng(seed)
    length = int(rate * max(reverb_ms * 5, 1) / 1000)
    ir = np.zeros(length)
    ir[0] = 1.0
    ir[1:] += rng.standard_normal(length - 1) * np.exp(-np.arange(length - 1) / (reverb_ms * rate / 1000)) * reverb_level
    echo = np.convolve(far.astype(np.float64), ir * gain)[: len(far)]
    shift = int(round(delay_ms * rate / 1000))
    echo = np.concatenate([np.zeros(shift), echo])[: len(far)]
    return echo + rng.standard_normal(len(far)) * 32768 * 10 ** (noise_dbfs / 20)


def to_int16(x: np.ndarray) -> np.ndarray:
    return np.clip(np.round(x), -32768, 32767).astype(np.int16)


# -- analysis -------------------------------------------------------------------------------------


def frame_rms(x: np.ndarray, rate: int = RATE, ms: int = 10) -> np.ndarray:
    """RMS of consecutive `ms` frames, in int16 units."""
    n = rate * ms // 1000
    frames = np.asarray(x[: len(x) // n * n], dtype=np.float64).reshape(-1, n)
    return np.sqrt(np.mean(frames**2, axis=1))


def vad_onsets(x: np.ndarray, rate: int = RATE, *, threshold: float = VAD_THRESHOLD, silence_ms: float = VAD_SILENCE_MS) -> list[float]:
    """Where the fake Live server's energy VAD would say "speech starts" (s): a 10 ms frame with
    RMS above `threshold` after at least `silence_ms` of frames below it."""
    onsets, speaking, quiet = [], False, 0.0
    for i, rms in enumerate(frame_rms(x, rate)):
        if rms > threshold:
            if not speaking:
                onsets.append(i * 0.01)
                speaking = True
            quiet = 0.0
        elif speaking:
            quiet += 10.0
            if quiet >= silence_ms:
                speaking = False
    return onsets


def erle_db(raw: np.ndarray, clean: np.ndarray, rate: int = RATE, *, start_s: float = 0.0, end_s: float | None = None, active_dbfs: float = ACTIVE_DBFS) -> float:
    """Echo return loss enhancement over [start_s, end_s): energy of the raw microphone over
    the energy of what is sent, on the 10 ms frames where the raw one holds echo."""
    n = min(len(raw), len(clean))  # an echo canceller may still hold the last frames
    raw_rms, clean_rms = frame_rms(raw[:n], rate), frame_rms(clean[:n], rate)
    lo = int(start_s * 100)
    hi = len(raw_rms) if end_s is None else int(end_s * 100)
    raw_rms, clean_rms = raw_rms[lo:hi], clean_rms[lo:hi]
    active = raw_rms >= 32768 * 10 ** (active_dbfs / 20)
    if not active.any():
        return float("nan")
    e_raw = float(np.sum(raw_rms[active] ** 2))
    e_clean = float(np.sum(clean_rms[active] ** 2)) + 1e-9 * active.sum()
    return 10 * np.log10(e_raw / e_clean)


def erle_windows(raw: np.ndarray, clean: np.ndarray, rate: int = RATE, *, window_s: float = 0.5) -> np.ndarray:
    """ERLE of consecutive windows (NaN where the raw microphone holds no echo)."""
    count = int(len(raw) / rate / window_s)
    return np.array([erle_db(raw, clean, rate, start_s=i * window_s, end_s=(i + 1) * window_s) for i in range(count)])


def convergence_s(raw: np.ndarray, clean: np.ndarray, rate: int = RATE, *, target_db: float = 25.0, window_s: float = 0.5, hold_s: float = 2.0) -> float | None:
    """The start of the first window from which ERLE stays >= `target_db` for `hold_s`."""
    windows = erle_windows(raw, clean, rate, window_s=window_s)
    hold = max(1, int(hold_s / window_s))
    for i in range(len(windows)):
        span = windows[i : i + hold]
        if np.isnan(windows[i]) or len(span) < hold:
            continue
        if np.all(np.nan_to_num(span, nan=np.inf) >= target_db):
            return i * window_s
    return None


def lag_s(reference: np.ndarray, signal: np.ndarray, rate: int = RATE, *, max_lag_s: float = 0.5) -> tuple[float, float]:
    """(lag, correlation) of `signal` behind `reference`: the peak of their normalised
    cross-correlation within ±`max_lag_s`; a correlation near 0 means `reference` is not in
    `signal`, near 1 that `signal` is a delayed, scaled copy of it."""
    reference = np.asarray(reference, dtype=np.float64)
    signal = np.asarray(signal, dtype=np.float64)
    n = 1 << int(np.ceil(np.log2(len(reference) + len(signal))))
    corr = np.fft.irfft(np.fft.rfft(signal, n) * np.conj(np.fft.rfft(reference, n)), n)
    max_lag = int(max_lag_s * rate)
    window = np.concatenate([corr[-max_lag:], corr[: max_lag + 1]])
    best = int(np.argmax(np.abs(window)))
    norm = np.sqrt(np.sum(reference**2) * np.sum(signal**2)) or 1.0
    return (best - max_lag) / rate, float(abs(window[best]) / norm)


def path_delay(reference: np.ndarray, signal: np.ndarray, rate: int = RATE, *, window_s: float = 2.0) -> tuple[float, float]:
    """(delay, correlation) of an echo path: medians over `window_s` windows where the reference
    plays (the delay of a real path drifts a little, which blurs one long correlation)."""
    size = int(window_s * rate)
    found = []
    for start in range(0, len(reference) - size + 1, size):
        a = reference[start : start + size]
        if np.sqrt(np.mean(np.asarray(a, dtype=np.float64) ** 2)) < 30:
            continue
        found.append(lag_s(a, signal[start : start + size], rate, max_lag_s=min(0.5, window_s / 4)))
    if not found:
        return 0.0, 0.0
    lags, peaks = zip(*found)
    return float(np.median(lags)), float(np.median(peaks))


# -- recording through PortAudio ------------------------------------------------------------------


@dataclasses.dataclass
class Blocks:
    """Blocks a stream delivered: int16 interleaved PCM, each block's device time (first sample)
    and when its callback ran (monotonic)."""

    rate: int
    channels: int
    pcm: list[bytes] = dataclasses.field(default_factory=list)
    at: list[float] = dataclasses.field(default_factory=list)
    arrived: list[float] = dataclasses.field(default_factory=list)

    def add(self, pcm: bytes, at: float, arrived: float) -> None:
        self.pcm.append(pcm)
        self.at.append(at)
        self.arrived.append(arrived)

    def mono16k(self) -> np.ndarray:
        """All blocks as one 16 kHz mono signal (for analysis; timing by sample count)."""
        pcm = to_mono(b"".join(self.pcm), self.channels)
        return np.frombuffer(StreamResampler(self.rate, RATE).process(pcm, last=True), dtype=np.int16)


@dataclasses.dataclass
class Recording:
    far: Blocks  # what the speaker played
    near: Blocks  # what the microphone captured
    output_device: str = ""
    input_device: str = ""

    def save(self, path) -> None:
        fields = {}
        for name in ("far", "near"):
            blocks = getattr(self, name)
            fields[f"{name}_pcm"] = np.frombuffer(b"".join(blocks.pcm), dtype=np.int16)
            fields[f"{name}_sizes"] = np.array([len(b) for b in blocks.pcm], dtype=np.int64)
            fields[f"{name}_at"] = np.array(blocks.at)
            fields[f"{name}_arrived"] = np.array(blocks.arrived)
            fields[f"{name}_format"] = np.array([blocks.rate, blocks.channels])
        np.savez(path, devices=np.array([self.output_device, self.input_device]), **fields)

    @classmethod
    def load(cls, path) -> Recording:
        data = np.load(path)
        parts = {}
        for name in ("far", "near"):
            raw = data[f"{name}_pcm"].tobytes()
            sizes = data[f"{name}_sizes"]
            offsets = np.concatenate([[0], np.cumsum(sizes)])
            rate, channels = (int(v) for v in data[f"{name}_format"])
            parts[name] = Blocks(
                rate,
                channels,
                [raw[offsets[i] : offsets[i + 1]] for i in range(len(sizes))],
                list(data[f"{name}_at"]),
                list(data[f"{name}_arrived"]),
            )
        output_device, input_device = (str(v) for v in data["devices"])
        return cls(parts["far"], parts["near"], output_device, input_device)


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
    from livecli.audio import portaudio
    from livecli.audio.devices import resolve
    from livecli.audio.opening import discard, open_stream

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
            blocks.add(bytes(indata), at, now)

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
            blocks.add(bytes(outdata), at, now)

        return callback

    instream, _ = open_stream(sd, mic, "input", RATE, block_ms=MIC_BLOCK_MS, make_callback=make_input)
    try:
        state["in_latency"] = float(instream.latency)
        outstream, _ = open_stream(sd, speaker, "output", 24000, block_ms=SPEAKER_BLOCK_MS, make_callback=make_output)
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


def synthetic_recording(
    far: np.ndarray,
    mic: np.ndarray,
    rate: int = RATE,
    *,
    start: float = 1000.0,
    out_latency_s: float = 0.03,
    in_latency_s: float = 0.03,
    jitter_ms: float = 5.0,
    mic_clock_ppm: float = 0.0,
    far_rate: int | None = None,
    far_channels: int = 1,
    seed: int = 3,
) -> Recording:
    """A `Recording` as PortAudio would deliver `far` (played from `start` on) and `mic` (whose
    sample i is what the microphone heard at `start + i / rate`): 10 ms speaker blocks and 20 ms
    microphone blocks with jittered callback timestamps. `mic_clock_ppm` makes the microphone's
    clock run fast by that much (its samples are taken further apart in real time than its
    rate says); `far_rate`/`far_channels` play the reference in another format (e.g. 48 kHz
    stereo) like a device that refuses 24 kHz mono."""
    rng = np.random.default_rng(seed)
    jitter = lambda: rng.uniform(-jitter_ms, jitter_ms) / 1000  # noqa: E731
    far_rate = far_rate or rate
    far_pcm = far
    if far_rate != rate:
        far_pcm = np.frombuffer(StreamResampler(rate, far_rate).process(far.tobytes(), last=True), dtype=np.int16)
    far_pcm = np.frombuffer(from_mono(far_pcm.tobytes(), far_channels), dtype=np.int16)
    far_blocks = Blocks(far_rate, far_channels)
    step = far_rate // 100 * far_channels
    for j in range(len(far_pcm) // step):
        played_at = start + j * 0.01
        far_blocks.add(far_pcm[j * step : (j + 1) * step].tobytes(), played_at + jitter(), played_at - out_latency_s + abs(jitter()))
    if mic_clock_ppm:
        scale = 1 + mic_clock_ppm * 1e-6
        positions = np.arange(int(len(mic) / scale)) * scale
        mic = np.interp(positions, np.arange(len(mic)), mic.astype(np.float64))
    mic = to_int16(np.asarray(mic, dtype=np.float64))
    near_blocks = Blocks(rate, 1)
    size = rate // 50
    scale = 1 + mic_clock_ppm * 1e-6
    for k in range(len(mic) // size):
        captured_at = start + k * 0.02 * scale
        near_blocks.add(mic[k * size : (k + 1) * size].tobytes(), captured_at + jitter(), captured_at + 0.02 + in_latency_s + abs(jitter()))
    return Recording(far_blocks, near_blocks, "synthetic speaker", "synthetic microphone")


# -- replaying through an echo control ------------------------------------------------------------


@dataclasses.dataclass
class Replayed:
    raw: np.ndarray  # the microphone at 16 kHz as talk would send it without echo control
    sent: np.ndarray  # what the echo control let through
    chunk_times: list[float]  # captured_at of each 100 ms chunk
    cpu_s: float  # thread time spent in near_end + far_end


def replay(recording: Recording, control, *, chunk_ms: int = CHUNK_MS) -> Replayed:
    """Feed `recording` through `control` (EchoCanceller, HalfDuplexGate, NoEcho) as a talk
    session would: speaker blocks as their callbacks ran, microphone blocks resampled to
    16 kHz mono and cut into `chunk_ms` chunks, each with the capture time of its first sample."""
    far, near = recording.far, recording.near
    events = sorted(
        [(t, 0, i) for i, t in enumerate(far.arrived)] + [(t, 1, i) for i, t in enumerate(near.arrived)]
    )
    resampler = StreamResampler(near.rate, RATE)
    chunker = Chunker(RATE * chunk_ms // 1000 * 2)
    raw, sent, times = [], [], []
    cpu = 0.0
    for _, kind, i in events:
        if kind == 0:
            started = time.thread_time()
            control.far_end(far.pcm[i], far.at[i], rate=far.rate, channels=far.channels)
            cpu += time.thread_time() - started
            continue
        block = resampler.process(to_mono(near.pcm[i], near.channels))
        block_end = near.at[i] + len(near.pcm[i]) / 2 / near.channels / near.rate
        chunks = chunker.push(block)
        pending = len(chunker._pending) // 2
        for k, chunk in enumerate(chunks):
            after = pending + (len(chunks) - 1 - k) * len(chunk) // 2
            captured_at = block_end - (after + len(chunk) // 2) / RATE
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
    frames = np.cumsum([0] + [len(p) // 2 // far.channels for p in far.pcm[:-1]])
    origin = float(np.median(np.array(far.at) - frames / far.rate))  # time of sample 0
    chunk_s = len(replayed.raw) / RATE / max(1, len(replayed.chunk_times))
    near_origin = float(np.median(np.array(replayed.chunk_times) - np.arange(len(replayed.chunk_times)) * chunk_s))
    start = int(round((origin - near_origin) * RATE))
    out = np.zeros(len(replayed.raw), dtype=np.float64)
    lo, hi = max(0, start), min(len(out), start + len(signal))
    if hi > lo:
        out[lo:hi] = signal[lo - start : hi - start]
    return out


# -- devices test --echo --------------------------------------------------------------------------


@dataclasses.dataclass
class EchoReport:
    output_device: str
    input_device: str
    delay_ms: float | None  # echo arrival after the speaker's DAC time, per PortAudio's timestamps
    echo_level_db: float | None  # echo in the microphone relative to what was played (negative)
    erle_db: float | None  # echo return loss enhancement of the canceller after convergence
    converged_s: float | None  # when ERLE first held 25 dB
    residual_peak: float | None  # loudest 10 ms frame sent after convergence (int16 RMS)
    backend: str | None
    verdict: str

    def lines(self) -> list[str]:
        def fmt(value, unit, digits=0):
            return "-" if value is None else f"{value:.{digits}f} {unit}"

        return [
            f"speaker     {self.output_device}",
            f"microphone  {self.input_device}",
            f"echo delay  {fmt(self.delay_ms, 'ms')} (after the speaker played it, by PortAudio's timestamps)",
            f"echo level  {fmt(self.echo_level_db, 'dB', 1)} relative to the speaker signal",
            f"ERLE        {fmt(self.erle_db, 'dB', 1)} after {CONVERGED_AFTER_S:g} s (converged {fmt(self.converged_s, 's', 1)}), "
            f"canceller: {self.backend or 'not installed'}",
            self.verdict,
        ]


def measure_echo_path(input_spec: str | None, output_spec: str | None, *, seconds: float = PROBE_S, backend: str | None = None) -> EchoReport:
    """Play a speech-like probe, record it, and judge the echo path and the canceller on it."""
    probe = speech_like(seconds, 24000, seed=7)
    recording = record_duplex(output_spec, input_spec, probe, 24000)
    return analyse(recording, backend=backend)


def analyse(recording: Recording, *, backend: str | None = None) -> EchoReport:
    plain = replay(recording, NoEcho())
    reference = reference_on_mic_timeline(recording, plain)
    raw = plain.raw.astype(np.float64)
    delay, peak = path_delay(reference, raw)
    ref_level = _dbfs(reference[reference != 0])
    echo_level = _dbfs(raw)
    heard = peak > 0.2 and echo_level > -70
    try:
        canceller = EchoCanceller(backend=backend)
    except EchoUnavailable:
        canceller = None
    erle = converged = residual = None
    if canceller is not None:
        cleaned = replay(recording, canceller).sent
        if heard:
            erle = erle_db(plain.raw, cleaned, start_s=CONVERGED_AFTER_S)
            converged = convergence_s(plain.raw, cleaned)
        residual = float(frame_rms(cleaned)[int(CONVERGED_AFTER_S * 100) :].max(initial=0.0))
    if not heard:
        verdict = "no echo: the microphone does not hear the speaker (headphones?) -- `--echo off` is fine"
    elif canceller is None:
        verdict = "echo heard, and no echo canceller is installed: use `--echo half-duplex`, or install it (pipx inject livecli pywebrtc-audio)"
    elif erle is not None and erle >= 25 and residual is not None and residual < VAD_THRESHOLD:
        verdict = "echo cancelled: `--echo aec` will keep Gemini from hearing itself"
    else:
        verdict = "echo not cancelled well enough here: use `--echo half-duplex` (or headphones)"
    return EchoReport(
        output_device=recording.output_device,
        input_device=recording.input_device,
        delay_ms=round(delay * 1000, 1) if heard else None,
        echo_level_db=round(echo_level - ref_level, 1) if heard else None,
        erle_db=None if erle is None else round(erle, 1),
        converged_s=converged,
        residual_peak=None if residual is None else round(residual, 1),
        backend=canceller.backend.name if canceller is not None else None,
        verdict=verdict,
    )


def _dbfs(x: np.ndarray) -> float:
    if x.size == 0:
        return -120.0
    ms = float(np.mean(np.asarray(x, dtype=np.float64) ** 2))
    return 10 * np.log10(ms / 32768**2) if ms > 0 else -120.0


# -- command line, for a subprocess with its own PulseAudio environment ---------------------------


def _main(argv: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m livecli.audio.echo_probe")
    sub = parser.add_subparsers(dest="command", required=True)
    rec = sub.add_parser("record", help="play PCM through the speaker while recording the microphone")
    rec.add_argument("out")
    rec.add_argument("--play", required=True, help="raw int16 mono PCM")
    rec.add_argument("--play-rate", type=int, default=24000)
    rec.add_argument("--input")
    rec.add_argument("--output")
    rec.add_argument("--lead-in", type=float, default=0.5)
    measure = sub.add_parser("measure", help="what `devices test --echo` reports")
    measure.add_argument("--input")
    measure.add_argument("--output")
    args = parser.parse_args(argv)
    if args.command == "measure":
        print("\n".join(measure_echo_path(args.input, args.output).lines()))
        return 0
    play = np.fromfile(args.play, dtype=np.int16)

    def started(at: float) -> None:
        print(f"PLAYING {at:.6f}", flush=True)

    recording = record_duplex(args.output, args.input, play, args.play_rate, lead_in_s=args.lead_in, started=started)
    recording.save(args.out)
    print("DONE", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
