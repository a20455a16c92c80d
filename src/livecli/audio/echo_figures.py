"""Figures of an echo path and of what an echo control makes of it, on 16 kHz int16 signals.

ERLE (echo return loss enhancement): how much quieter what is sent is than what the
microphone heard, where it heard echo; when the canceller converged; and the delay of
the echo path from the cross-correlation of what was played with what was heard.
Used by `devices test --echo`, the tests and benchmarks/echo_rig.py.
"""

from __future__ import annotations

import numpy as np

from livecli.audio.pcm import amplitude
from livecli.formats import INPUT_RATE

ACTIVE_DBFS = -50.0  # a 10 ms frame of raw microphone with echo at least this loud counts for ERLE


def frame_rms(x: np.ndarray, rate: int = INPUT_RATE, ms: int = 10) -> np.ndarray:
    """RMS of consecutive `ms` frames, in int16 units."""
    n = rate * ms // 1000
    frames = np.asarray(x[: len(x) // n * n], dtype=np.float64).reshape(-1, n)
    return np.sqrt(np.mean(frames**2, axis=1))


def erle_db(raw: np.ndarray, clean: np.ndarray, rate: int = INPUT_RATE, *, start_s: float = 0.0, end_s: float | None = None, active_dbfs: float = ACTIVE_DBFS) -> float:
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


def convergence_s(raw: np.ndarray, clean: np.ndarray, rate: int = INPUT_RATE, *, target_db: float = 25.0, window_s: float = 0.5, hold_s: float = 2.0) -> float | None:
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


def lag_s(reference: np.ndarray, signal: np.ndarray, rate: int = INPUT_RATE, *, max_lag_s: float = 0.5) -> tuple[float, float]:
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


def path_delay(reference: np.ndarray, signal: np.ndarray, rate: int = INPUT_RATE, *, window_s: float = 2.0) -> tuple[float, float]:
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
