"""`livecli devices test --echo`: measuring the echo path on the user's own devices.

`measure_echo_path(input, output)` plays a speech-like probe through the speaker while
recording the microphone (both with PortAudio's timestamps, as `talk` would see them),
then replays both through `EchoCanceller` exactly in the order the callbacks delivered
them, and reports the echo delay, how loud the echo is, and the echo return loss
enhancement (ERLE) the canceller achieves, with a verdict.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from livecli.audio.aec_backends import INSTALL_HINT, EchoUnavailable
from livecli.audio.echo import NoEcho
from livecli.audio.echo_canceller import EchoCanceller
from livecli.audio.echo_figures import VAD_THRESHOLD, convergence_s, erle_db, frame_rms, path_delay
from livecli.audio.echo_recording import Recording, record_duplex, reference_on_mic_timeline, replay
from livecli.audio.pcm import amplitude, clip_int16, dbfs
from livecli.formats import INPUT_RATE, OUTPUT_RATE, SILENCE_DBFS

PROBE_S = 6.0
PROBE_DBFS = -20.0
CONVERGED_AFTER_S = 2.0


# -- the probe: a speech-like signal --------------------------------------------------------------


def speech_like(seconds: float, rate: int = INPUT_RATE, *, seed: int = 0, level_dbfs: float = PROBE_DBFS) -> np.ndarray:
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
    return clip_int16(out * amplitude(level_dbfs) / rms)


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


# -- the report -----------------------------------------------------------------------------------


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
    probe = speech_like(seconds, OUTPUT_RATE, seed=7)
    recording = record_duplex(output_spec, input_spec, probe, OUTPUT_RATE)
    return analyse(recording, backend=backend)


def analyse(recording: Recording, *, backend: str | None = None) -> EchoReport:
    """The echo path in `recording`, and what the canceller makes of it."""
    plain = replay(recording, NoEcho())
    reference = reference_on_mic_timeline(recording, plain)
    raw = plain.raw.astype(np.float64)
    delay, peak = path_delay(reference, raw)
    ref_level = _level_dbfs(reference[reference != 0])
    echo_level = _level_dbfs(raw)
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
        verdict = f"echo heard, and no echo canceller is installed: use `--echo half-duplex`, or install it ({INSTALL_HINT})"
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


def _level_dbfs(x: np.ndarray) -> float:
    return dbfs(float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))) if x.size else SILENCE_DBFS
