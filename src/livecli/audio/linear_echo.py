"""A linear echo canceller whose output keeps a user's voice whole while the model speaks.

AEC3 follows its linear filter with a suppressor that, during double talk, takes 5-12 dB off
the user's voice too, and `pywebrtc-audio` shows neither a setting for it nor the linear
filter's own output. `LinearEcho` is that linear stage, our own: a partitioned-block
frequency-domain adaptive filter (MDF, as in speexdsp's mdf.c) on the same aligned reference
AEC3 is fed. It only subtracts what the reference explains, so whatever else the microphone
holds -- the user -- comes out untouched, with the echo linearly reduced (by 15-25 dB in a
room, far less than AEC3). `ResidualGuard` sends it in the bands where the user clearly speaks.

Two things keep it from diverging, both from mdf.c. Its step follows Valin's double-talk-robust
rule: per bin, the share of the residual that is still echo, estimated as the leakage (how much
of the echo estimate's power fluctuations the residual follows) times the echo estimate over the
residual; a user speaking fills the residual with what the reference does not explain, and the
step shrinks by itself. And the filter that adapts (background) is copied to the one that
cancels (foreground) only while it cancels better; when it does clearly worse (it learnt from a
user, or from the echo while it had moved), it is put back to the foreground.
"""

from __future__ import annotations

import numpy as np

from livecli.formats import INPUT_RATE

TAPS_MS = 200  # the echo's delay behind the reference fed (LEAD_MS and a little) and the room's tail
STEP_MAX = 1.0  # the largest normalised step (a bin whose residual is all echo)
FIRST_STEP = 0.5  # until the leakage is known, a fixed step
FIRST_FRAMES = 300  # ...for this many frames with some reference
REGULARISATION = 0.03  # of the mean power over the bins: quiet bins of the reference adapt slower
LEAK_SMOOTHING = 0.02  # per active frame, how fast the leakage estimate follows
LEAK_MAX = 0.5
ACTIVE_POWER = 1e4  # a reference this quiet (mean power per bin; about -53 dBFS RMS) teaches nothing
BACKTRACK = 4.0  # the background does this much worse (in the statistic of mdf.c): back to the foreground


class LinearEcho:
    """Fed a chunk at a time the reference frames fed to AEC3 and the raw microphone frames
    (each `(frames, frame)` int16); returns the microphone minus the echo the reference explains
    linearly, and that echo estimate (float64 in int16 units), delayed by `delay` samples (as
    AEC3's output is)."""

    def __init__(self, rate: int = INPUT_RATE, *, delay: int = 0, taps_ms: float = TAPS_MS):
        self.frame = n = rate // 100
        self.partitions = -(-int(taps_ms * rate / 1000) // n)
        self._filters = np.zeros((2, self.partitions, n + 1), dtype=np.complex128)  # foreground, background
        self._spectra = np.zeros((self.partitions, n + 1), dtype=np.complex128)  # the reference's, newest first
        self._far = np.zeros(2 * n)  # the reference's last two frames
        self._padded = np.zeros((2, 2 * n))  # the background's residual and estimate, after n zeros
        self._smooth = np.zeros(2)  # slow averages of the residual's and the estimate's power
        self._cross = 0.0  # leakage regression: their fluctuations' covariance...
        self._estimate_var = 0.0  # ...and the estimate's variance
        self._active = 0
        self._turn = 0  # the partition constrained this frame, besides the first
        self._avg = np.zeros(2)  # mdf.c's short and long averages of foreground minus background residual
        self._var = np.zeros(2)  # ...and of the foreground's residual times their difference
        self._out = np.zeros((2, delay))  # AEC3's output lags its input: the last `delay` samples wait

    def rest(self) -> None:
        """It is not fed for a while (the machine is short of time): what it holds of the
        reference and its delayed output would meet other audio when it is fed again. Its taps
        stay; the guard trusts them again only once it sees them cancel."""
        self._spectra[:] = 0.0
        self._far[:] = 0.0
        self._out[:] = 0.0

    def process(self, far: np.ndarray, near: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(the residual, the echo estimate it subtracted), each `(frames, frame)`."""
        out = np.empty((2, *near.shape))
        for i in range(len(near)):
            out[:, i] = self._frame(far[i], near[i].astype(np.float64))
        flat = np.concatenate([self._out, out.reshape(2, -1)], axis=1)
        self._out = flat[:, flat.shape[1] - self._out.shape[1] :]
        residual, estimate = flat[:, : near.size].reshape(out.shape)
        return residual, estimate

    def shift(self, samples: int) -> None:
        """The echo now comes `samples` later behind the reference (the tracker saw its delay
        drift, or a re-alignment land a few samples off): the background's taps move by as much
        instead of learning them again. The foreground keeps cancelling as it was until the
        background proves the better (`_choose`): a delay that flickers between two readings,
        as the tracker's can on a pure loopback, then costs nothing."""
        n = self.frame
        taps = np.fft.irfft(self._filters[1], 2 * n, axis=1)[:, :n].ravel()
        moved = np.zeros_like(taps)
        if samples >= 0:
            moved[samples:] = taps[: len(taps) - samples]
        else:
            moved[:samples] = taps[-samples:]
        self._filters[1] = np.fft.rfft(moved.reshape(self.partitions, n), 2 * n, axis=1)
        self._avg[:] = self._var[:] = 0.0

    def _frame(self, far: np.ndarray, near: np.ndarray) -> np.ndarray:
        """(the foreground's residual, its estimate) for one frame; the background learns."""
        n, padded = self.frame, self._padded
        self._far[:n] = self._far[n:]
        self._far[n:] = far
        self._spectra[1:] = self._spectra[:-1]
        self._spectra[0] = spectrum = np.fft.rfft(self._far)
        fore, back = np.fft.irfft((self._filters * self._spectra).sum(axis=1), 2 * n)[:, n:]
        result = np.stack([near - fore, fore])
        if np.vdot(spectrum, spectrum).real < ACTIVE_POWER * n * (n + 1):
            return result
        padded[:, n:] = near - back, back
        error, estimate = np.fft.rfft(padded, axis=1)
        step = self._step(np.abs(error) ** 2, np.abs(estimate) ** 2)
        power = (self._spectra.real**2 + self._spectra.imag**2).sum(axis=0)  # NLMS: the norm of the taps' input
        step *= 1.0 / (power + REGULARISATION * power.mean() + 1.0)
        self._filters[1] += np.conj(self._spectra) * (step * error)
        # The constraint (a linear, not circular, convolution) on the first partition and one
        # more in turn each frame, as mdf.c does: as good here, at a tenth of the cost.
        self._turn = self._turn % (self.partitions - 1) + 1
        rows = [0, self._turn]
        taps = np.fft.irfft(self._filters[1, rows], 2 * n, axis=1)
        taps[:, n:] = 0.0
        self._filters[1, rows] = np.fft.rfft(taps, axis=1)
        self._choose(result[0], padded[0, n:], fore - back)
        return result

    def _choose(self, fore_residual: np.ndarray, back_residual: np.ndarray, difference: np.ndarray) -> None:
        """mdf.c's rule: copy the background to the foreground when its residual is smaller by
        more than their difference explains by chance; put it back when it is clearly larger."""
        sff, see, dbf = (
            np.dot(fore_residual, fore_residual),
            np.dot(back_residual, back_residual),
            np.dot(difference, difference),
        )
        gap = sff - see
        self._avg = np.array([0.6, 0.85]) * self._avg + np.array([0.4, 0.15]) * gap
        self._var = np.array([0.36, 0.7225]) * self._var + np.array([0.16, 0.0225]) * sff * dbf
        better = gap * abs(gap) > sff * dbf or np.any(self._avg * np.abs(self._avg) > np.array([0.5, 0.25]) * self._var)
        worse = -gap * abs(gap) > BACKTRACK * sff * dbf or np.any(
            -self._avg * np.abs(self._avg) > BACKTRACK * self._var
        )
        if better:
            self._filters[0] = self._filters[1]
        elif worse:
            self._filters[1] = self._filters[0]
        if better or worse:
            self._avg[:] = self._var[:] = 0.0

    def _step(self, residual_power: np.ndarray, estimate_power: np.ndarray) -> np.ndarray:
        """Per bin: the share of the residual that is echo the filter has yet to learn."""
        totals = np.array([residual_power.sum(), estimate_power.sum()])
        self._smooth += LEAK_SMOOTHING * (totals - self._smooth)
        d_residual, d_estimate = totals - self._smooth
        self._cross += LEAK_SMOOTHING * (d_residual * d_estimate - self._cross)
        self._estimate_var += LEAK_SMOOTHING * (d_estimate * d_estimate - self._estimate_var)
        self._active += 1
        if self._active < FIRST_FRAMES or self._estimate_var <= 0:
            return np.full(len(residual_power), FIRST_STEP)
        leak = min(LEAK_MAX, max(0.0, self._cross / self._estimate_var))
        return np.minimum(STEP_MAX, leak * estimate_power / (residual_power + 1.0))
