"""`livecli devices test --echo`: measuring the echo path on the user's own devices.

`measure_echo_path(input, output)` plays a speech-like probe through the speaker while
recording the microphone (both with PortAudio's timestamps, as `talk` would see them),
then replays both, exactly in the order the callbacks delivered them, through the echo
control `talk` would use by default (`auto`), and reports what benchmarks/echo_rig.py
reports: the echo's delay and level, the mode `auto` chose and why, ERLE, speech onsets the
service would hear while only the probe plays (self-interruptions) and the residual echo,
how soon ERLE is back after the path moves (a 10 ms move made in the recording), and how a
voice speaking over the probe comes through (a voice mixed into the recording): with a
verdict and advice. `report.ok` says whether hands-free talk will work as it is.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from livecli.audio.aec_backends import INSTALL_HINT
from livecli.audio.echo import AutoEcho, NoEcho, make_echo
from livecli.audio.echo_canceller import EchoCanceller
from livecli.audio.echo_figures import VAD_THRESHOLD, convergence_s, erle_db, model_alone, path_delay, voice_over
from livecli.audio.echo_recording import Blocks, Recording, record_duplex, reference_on_mic_timeline, replay
from livecli.audio.pcm import amplitude, clip_int16, dbfs, from_mono
from livecli.audio.resample import StreamResampler
from livecli.formats import INPUT_RATE, OUTPUT_RATE, SAMPLE_BYTES, SILENCE_DBFS

PROBE_S = 8.0
PROBE_DBFS = -20.0
CONVERGED_AFTER_S = 2.0
MOVE_AT_S = 5.0  # of the recording: the echo path made to move 10 ms sooner here...
MOVE_MS = 10.0
VOICE_AT_S = 3.0  # ...and a voice mixed in here, at a speaking level
VOICE_S = 1.5
VOICE_DBFS = -26.0
QUIETER_VOICE_DB = -6.0  # a voice over the probe more this much lower than alone: advice


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
    mode: str  # what `--echo auto` chose on this path...
    reason: str  # ...and why
    erle_db: float | None  # echo return loss enhancement of the canceller after convergence
    converged_s: float | None  # when ERLE first held 25 dB
    self_interruptions: int | None  # speech onsets the service would hear while only the probe plays
    residual_max: float | None  # loudest 10 ms frame sent while only the probe plays (int16 RMS)
    residual_p99: float | None
    recovery_s: float | None  # ERLE back (20 dB held) after the path moved 10 ms
    voice_kept_db: float | None  # a voice over the probe, against the voice alone
    voice_heard_after_ms: float | None  # ...heard this long after it would be heard alone
    backend: str | None
    verdict: str
    ok: bool  # hands-free talk will work as it is (no echo, or echo cancelled)

    def lines(self) -> list[str]:
        def fmt(value, unit, digits=0):
            return "-" if value is None else f"{value:.{digits}f} {unit}"

        return [
            f"speaker     {self.output_device}",
            f"microphone  {self.input_device}",
            f"echo delay  {fmt(self.delay_ms, 'ms')} (after the speaker played it, by PortAudio's timestamps)",
            f"echo level  {fmt(self.echo_level_db, 'dB', 1)} relative to the speaker signal",
            f"auto        {self.mode}: {self.reason}",
            f"ERLE        {fmt(self.erle_db, 'dB', 1)} after {CONVERGED_AFTER_S:g} s (converged {fmt(self.converged_s, 's', 1)}), "
            f"canceller: {self.backend or 'not installed'}",
            f"heard       {'-' if self.self_interruptions is None else self.self_interruptions} speech onsets "
            f"while only the probe played; residual echo max {fmt(self.residual_max, 'RMS')}, p99 "
            f"{fmt(self.residual_p99, 'RMS')} (10 ms frames; the service hears speech from about {VAD_THRESHOLD:.0f})",
            f"path moved  ERLE back after {fmt(self.recovery_s, 's', 1)} (a {MOVE_MS:g} ms move made at {MOVE_AT_S:g} s)",
            f"your voice  {fmt(self.voice_kept_db, 'dB', 1)} against alone, heard {fmt(self.voice_heard_after_ms, 'ms')} later "
            "(a voice mixed into the recording)",
            self.verdict,
        ]


def measure_echo_path(
    input_spec: str | None, output_spec: str | None, *, seconds: float = PROBE_S, backend: str | None = None
) -> EchoReport:
    """Play a speech-like probe, record it, and judge the echo path and the canceller on it."""
    probe = speech_like(seconds, OUTPUT_RATE, seed=7)
    recording = record_duplex(output_spec, input_spec, probe, OUTPUT_RATE)
    return analyse(recording, backend=backend)


def analyse(recording: Recording, *, backend: str | None = None) -> EchoReport:
    """The echo path in `recording`, and what `--echo auto` makes of it."""
    plain = replay(recording, NoEcho())
    reference = reference_on_mic_timeline(recording, plain)
    raw = plain.raw.astype(np.float64)
    delay, peak = path_delay(reference, raw)
    ref_level = _level_dbfs(reference[reference != 0])
    echo_level = _level_dbfs(raw)
    heard = peak > 0.2 and echo_level > -70
    control = make_echo("auto", backend=backend).control
    figures = dict.fromkeys(
        (
            "erle_db",
            "converged_s",
            "self_interruptions",
            "residual_max",
            "residual_p99",
            "recovery_s",
            "voice_kept_db",
            "voice_heard_after_ms",
        )
    )
    canceller = control.canceller if isinstance(control, AutoEcho) else None
    if canceller is not None:
        sent = replay(recording, control).sent
        figures |= _figures(recording, plain.raw, sent, reference, heard, backend)
    return EchoReport(
        output_device=recording.output_device,
        input_device=recording.input_device,
        delay_ms=round(delay * 1000, 1) if heard else None,
        echo_level_db=round(echo_level - ref_level, 1) if heard else None,
        mode=control.mode,
        reason=control.reason,
        backend=canceller.backend.name if canceller is not None else None,
        **figures,
        **_verdict(heard, canceller is not None, figures),
    )


def _figures(
    recording: Recording, raw: np.ndarray, sent: np.ndarray, reference: np.ndarray, heard: bool, backend: str | None
) -> dict:
    """What the default echo control made of the probe alone (`sent`), and makes of the path
    moving and of a voice over it."""
    make = lambda: make_echo("auto", backend=backend).control  # noqa: E731
    alone = np.zeros(len(raw) // (INPUT_RATE // 100), dtype=bool)
    playing = np.flatnonzero(np.abs(reference) > 100)
    alone[playing[0] // (INPUT_RATE // 100) if playing.size else len(alone) :] = True
    probe_alone = model_alone(raw, sent, alone)
    moved = replay(_moved(recording, MOVE_AT_S, MOVE_MS), make())
    after_move = model_alone(moved.raw, moved.sent, alone, moves_s=(MOVE_AT_S,))
    voice = speech_like(VOICE_S, seed=5, level_dbfs=VOICE_DBFS)
    over = voice_over(
        replay(_with_voice(recording, voice, VOICE_AT_S), make()).sent, voice, int(VOICE_AT_S * INPUT_RATE)
    )
    figures = {
        "self_interruptions": probe_alone.self_interruptions + after_move.self_interruptions,
        "residual_max": max(probe_alone.residual_max, after_move.residual_max),
        "residual_p99": probe_alone.residual_p99,
        "recovery_s": after_move.recovery_s[0] if heard else None,
        "voice_kept_db": over.kept_db,
        "voice_heard_after_ms": over.heard_after_ms,
    }
    if heard:
        cleaned = replay(recording, EchoCanceller(backend=backend)).sent
        figures["erle_db"] = round(erle_db(raw, cleaned, start_s=CONVERGED_AFTER_S), 1)
        figures["converged_s"] = convergence_s(raw, cleaned)
    return figures


def _verdict(heard: bool, cancels: bool, figures: dict) -> dict:
    if not heard:
        return {
            "verdict": "no echo: the microphone does not hear the speaker (headphones?) -- "
            "`--echo auto` (the default) sends your voice untouched",
            "ok": True,
        }
    if not cancels:
        return {
            "verdict": f"echo heard, and no echo canceller is installed: use `--echo half-duplex`, "
            f"or install it ({INSTALL_HINT})",
            "ok": False,
        }
    clean = (
        (figures["erle_db"] or 0) >= 25
        and figures["self_interruptions"] == 0
        and figures["residual_max"] < VAD_THRESHOLD
    )
    if not clean:
        return {"verdict": "echo not cancelled well enough here: use `--echo half-duplex` (or headphones)", "ok": False}
    verdict = "echo cancelled: `--echo auto` (the default) will keep Gemini from hearing itself"
    kept = figures["voice_kept_db"]
    if kept is not None and kept < QUIETER_VOICE_DB:
        verdict += f"; your voice over Gemini comes through {-kept:.0f} dB quieter: speak closer to the microphone, or use headphones"
    return {"verdict": verdict, "ok": True}


def _moved(recording: Recording, at_s: float, ms: float) -> Recording:
    """`recording` with the echo path moved `ms` sooner at `at_s`, unseen: that much of the
    microphone dropped there, its blocks and timestamps as they were."""
    near = recording.near
    frame = SAMPLE_BYTES * near.channels
    data = b"".join(near.pcm)
    at, cut = int(at_s * near.rate) * frame, int(ms * near.rate / 1000) * frame
    return dataclasses.replace(recording, near=_resplit(near, data[:at] + data[at + cut :]))


def _with_voice(recording: Recording, voice: np.ndarray, at_s: float) -> Recording:
    """`recording` with `voice` (16 kHz int16) spoken into the microphone at `at_s`."""
    near = recording.near
    pcm = StreamResampler(INPUT_RATE, near.rate).process(voice.tobytes(), last=True)
    added = np.frombuffer(from_mono(pcm, near.channels), dtype=np.int16).astype(np.int32)
    mic = np.frombuffer(b"".join(near.pcm), dtype=np.int16).astype(np.int32)
    start = int(at_s * near.rate) * near.channels
    mic[start : start + len(added)] += added[: max(0, len(mic) - start)]
    return dataclasses.replace(recording, near=_resplit(near, np.clip(mic, -32768, 32767).astype(np.int16).tobytes()))


def _resplit(blocks: Blocks, data: bytes) -> Blocks:
    """`data` cut into blocks the sizes of `blocks`' (as far as it goes), with their timestamps."""
    out = Blocks(blocks.rate, blocks.channels)
    pos = 0
    for pcm, at, arrived, xrun in zip(blocks.pcm, blocks.at, blocks.arrived, blocks.xrun):
        if pos + len(pcm) > len(data):
            break
        out.add(data[pos : pos + len(pcm)], at, arrived, xrun=xrun)
        pos += len(pcm)
    return out


def _level_dbfs(x: np.ndarray) -> float:
    return dbfs(float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))) if x.size else SILENCE_DBFS
