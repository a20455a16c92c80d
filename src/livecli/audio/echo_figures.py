"""Figures of an echo path and of what an echo control makes of it, on 16 kHz int16 signals.

ERLE (echo return loss enhancement): how much quieter what is sent is than what the
microphone heard, where it heard echo; when the canceller converged, and how soon it was
back after the path moved; the delay of the echo path from the cross-correlation of what
was played with what was heard. What the service would make of what is sent: where its
voice-activity detector hears speech start (a self-interruption, when only the model
speaks), the residual echo against its threshold, how much of a user speaking over the
model survives and how soon it is heard.
Used by `devices test --echo`, the tests and benchmarks/echo_rig.py.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from livecli.audio.pcm import amplitude
from livecli.formats import INPUT_RATE

ACTIVE_DBFS = -50.0  # a 10 ms frame of raw microphone with echo at least this loud counts for ERLE
VAD_THRESHOLD = 500.0  # the fake Live server's speech threshold: RMS of a 10 ms int16 frame
VAD_SILENCE_MS = 500.0  # ...and this much quiet ends speech
RECOVERED_DB = 20.0  # ERLE back above this (100 ms windows, held 0.5 s): recovered from a move


def frame_rms(x: np.ndarray, rate: int = INPUT_RATE, ms: int = 10) -> np.ndarray:
    """RMS of consecutive `ms` frames, in int16 units."""
    n = rate * ms // 1000
    frames = np.asarray(x[: len(x) // n * n], dtype=np.float64).reshape(-1, n)
    return np.sqrt(np.mean(frames**2, axis=1))


def erle_db(
    raw: np.ndarray,
    clean: np.ndarray,
    rate: int = INPUT_RATE,
    *,
    start_s: float = 0.0,
    end_s: float | None = None,
    active_dbfs: float = ACTIVE_DBFS,
) -> float:
    """Echo return loss enhancement over [start_s, end_s): energy of the raw microphone over
    the energy of what is sent, on the 10 ms frames where the raw one holds echo."""
    n = min(len(raw), len(clean))  # an echo canceller may still hold the last frames
    raw_rms, clean_rms = frame_rms(raw[:n], rate), frame_rms(clean[:n], rate)
    lo = int(start_s * 100)
    hi = len(raw_rms) if end_s is None else int(end_s * 100)
    raw_rms, clean_rms = raw_rms[lo:hi], clean_rms[lo:hi]
    active = raw_rms >= amplitude(active_dbfs)
    if not active.any():
        return float("nan")
    e_raw = float(np.sum(raw_rms[active] ** 2))
    e_clean = float(np.sum(clean_rms[active] ** 2)) + 1e-9 * active.sum()
    return 10 * np.log10(e_raw / e_clean)


def erle_windows(raw: np.ndarray, clean: np.ndarray, rate: int = INPUT_RATE, *, window_s: float = 0.5) -> np.ndarray:
    """ERLE of consecutive windows (NaN where the raw microphone holds no echo)."""
    count = int(len(raw) / rate / window_s)
    return np.array([erle_db(raw, clean, rate, start_s=i * window_s, end_s=(i + 1) * window_s) for i in range(count)])


def convergence_s(
    raw: np.ndarray,
    clean: np.ndarray,
    rate: int = INPUT_RATE,
    *,
    target_db: float = 25.0,
    window_s: float = 0.5,
    hold_s: float = 2.0,
) -> float | None:
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


def lag_s(
    reference: np.ndarray, signal: np.ndarray, rate: int = INPUT_RATE, *, max_lag_s: float = 0.5
) -> tuple[float, float]:
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


def path_delay(
    reference: np.ndarray, signal: np.ndarray, rate: int = INPUT_RATE, *, window_s: float = 2.0
) -> tuple[float, float]:
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


def active_rms(x: np.ndarray, rate: int = INPUT_RATE, *, within_db: float = 40.0) -> float:
    """RMS of `x` where it is active: over the 10 ms frames within `within_db` of the loudest
    (the level of speech, not of its pauses)."""
    rms = frame_rms(x, rate)
    if not rms.size or rms.max() <= 0:
        return 0.0
    active = rms[rms >= rms.max() * 10 ** (-within_db / 20)]
    return float(np.sqrt(np.mean(active**2)))


def vad_onsets(
    x: np.ndarray, rate: int = INPUT_RATE, *, threshold: float = VAD_THRESHOLD, silence_ms: float = VAD_SILENCE_MS
) -> list[float]:
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


@dataclasses.dataclass
class ModelAlone:
    """What an echo control sent while only the model spoke."""

    seconds: float  # of the model speaking alone
    self_interruptions: int  # speech onsets the service's VAD would hear
    per_minute: float
    frames_over: int  # 10 ms frames sent above the VAD threshold
    residual_max: float  # loudest 10 ms frame sent (int16 RMS)
    residual_p99: float
    erle_db: float
    recovery_s: list[float | None]  # after each move: until ERLE held RECOVERED_DB again (None: never)
    worst_erle_after_move_db: float | None  # the lowest 100 ms ERLE in the second after a move


def model_alone(
    raw: np.ndarray, sent: np.ndarray, alone: np.ndarray, *, moves_s: tuple[float, ...] = (), rate: int = INPUT_RATE
) -> ModelAlone:
    """Figures over the 10 ms frames where `alone` (bool per frame) says only the model speaks;
    `moves_s`: when the echo path moved (s on the microphone's timeline)."""
    frame = rate // 100
    n = min(len(raw), len(sent), len(alone) * frame) // frame
    alone = np.asarray(alone[:n], dtype=bool)
    raw, sent = np.asarray(raw[: n * frame]), np.asarray(sent[: n * frame])
    rms = frame_rms(sent, rate)
    onsets = vad_onsets((sent.reshape(n, frame) * alone[:, None]).reshape(-1), rate)  # the rest: silence
    seconds = alone.sum() / 100
    windows = erle_windows(raw, sent, rate, window_s=0.1)
    recovery, worst = [], []
    for t in moves_s:
        first = int(round(t * 10))
        after = windows[first : first + 10]
        if np.isfinite(after).any():
            worst.append(float(np.nanmin(after)))
        recovery.append(_recovered_after(windows, first))
    energy = lambda x: float(np.sum(np.square(x[alone], dtype=np.float64)))  # noqa: E731
    raw_rms = frame_rms(raw, rate)
    return ModelAlone(
        seconds=round(float(seconds), 1),
        self_interruptions=len(onsets),
        per_minute=round(float(len(onsets) / seconds * 60), 1) if seconds else 0.0,
        frames_over=int((rms[alone] > VAD_THRESHOLD).sum()),
        residual_max=round(float(rms[alone].max(initial=0.0)), 1),
        residual_p99=round(float(np.percentile(rms[alone], 99)), 1) if alone.any() else 0.0,
        erle_db=round(float(10 * np.log10((energy(raw_rms) + 1e-9) / (energy(rms) + 1e-9))), 1),
        recovery_s=recovery,
        worst_erle_after_move_db=round(min(worst), 1) if worst else None,
    )


def _recovered_after(windows: np.ndarray, first: int, *, hold: int = 5) -> float | None:
    """How long after window `first` the 100 ms ERLE holds RECOVERED_DB for `hold` windows
    with echo in them (windows without echo say nothing)."""
    for i in range(first, len(windows)):
        span = [w for w in windows[i:] if np.isfinite(w)][:hold]
        if len(span) < hold:
            return None
        if np.isfinite(windows[i]) and min(span) >= RECOVERED_DB:
            return round((i - first) / 10, 1)
    return None


@dataclasses.dataclass
class VoiceOver:
    """A user speaking over the model: how much of the voice is sent, and how soon it is heard."""

    kept_db: float | None  # level sent while the user speaks, relative to the voice alone
    heard_after_ms: float | None  # first frame over the VAD threshold, from the voice's own first one
    heard: bool


def voice_over(sent: np.ndarray, voice: np.ndarray, start: int, *, rate: int = INPUT_RATE) -> VoiceOver:
    """`voice` (int16, alone) began at sample `start` of the microphone's timeline; `sent` is
    what the echo control sent of the microphone (the voice over the model's echo)."""
    frame = rate // 100
    a = start // frame
    alone = frame_rms(voice, rate)
    voiced = np.flatnonzero(alone > alone.max() * 0.1) if alone.size else np.zeros(0, dtype=int)
    spoken = frame_rms(sent[a * frame : a * frame + len(alone) * frame], rate)
    if not voiced.size or spoken.size < voiced[-1] + 1:
        return VoiceOver(None, None, False)
    kept = 10 * np.log10((np.sum(spoken[voiced] ** 2) + 1e-9) / np.sum(alone[voiced] ** 2))
    over_alone = np.flatnonzero(alone > VAD_THRESHOLD)
    over_sent = np.flatnonzero(spoken[: voiced[-1] + 1] > VAD_THRESHOLD)
    first = over_alone[0] if over_alone.size else voiced[0]
    heard_after = float(over_sent[0] - first) * 10.0 if over_sent.size else None
    return VoiceOver(round(float(kept), 1), heard_after, bool(over_sent.size))
