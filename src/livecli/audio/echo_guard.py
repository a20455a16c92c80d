"""Holding back residual echo AEC3 lets through, without muting a user who speaks over it.

While AEC3 converges, and after the echo path moves, it lets part of the echo through (down
to 7 dB of ERLE for up to 1.5 s), enough for the service to hear the model and interrupt it.
`ResidualGuard` looks at each 10 ms frame in 16 frequency bands. In each band it predicts how
loud the echo at the microphone can be from what the speaker just played: the reference's
power around the echo's delay (its tail decaying as a room's does), times the path's coupling
in that band, learned from the microphone. Where the microphone holds no more than that
(`MARGIN_DB`), the band is the speaker's: whatever AEC3 sent there beyond `ATTENUATION_DB`
below the microphone is residual echo and is lowered to it (more of both for `ALERT_S` after
the path moved, a stream glitched or the tracker saw a hint of a move). Where the microphone
holds more, someone else is speaking there: the band passes untouched. Speech of two voices seldom
fills the same bands at the same moment, so a user speaking over the model keeps most of
their voice. When AEC3 works, it already removes more than `ATTENUATION_DB`: the guard
changes nothing, and a frame it leaves alone is passed bit for bit.

AEC3's own suppressor, though, takes 5-13 dB off a user speaking over the model. Where the user
clearly speaks, the guard sends the linear canceller's residual instead (`LinearEcho`: the echo
only linearly reduced, the voice whole) -- only where that residual holds clearly more than the
echo it leaves, and only while that canceller is seen to cancel (its ERLE where AEC3 hears the
echo alone), so that the model's own voice does not come back through it.

A speaker that keeps glitching (a machine short of time) makes the reference unreliable about
what played when: for a while the echo is then looked for anywhere near its delay.

Frames are handled a chunk at a time (numpy over the chunk's frames), without delay: the gains
are applied to each frame's own spectrum, ramped in from the previous frame's.
"""

from __future__ import annotations

import numpy as np

from livecli.formats import INPUT_RATE

MARGIN_DB = 2.0  # a band whose microphone power is within this of the predicted echo is the speaker's
ALERT_MARGIN_DB = 8.0  # ...within this, for ALERT_S after the path moved or a stream glitched
ALERT_S = 1.0
ALERT_SPREAD_FRAMES = 10  # ...and the echo may come from anywhere this many frames either side of its delay
USER_DB = 6.0  # a band whose microphone power is this far above the predicted echo is a user's...
USER_BANDS = 5  # ...and a frame with this many such bands holds a user speaking
SPEAKING_MARGIN_DB = 0.0  # ...whose other bands are the speaker's only if no louder than predicted
ATTENUATION_DB = 20.0  # what is sent of the speaker's bands is kept this far below the microphone
ALERT_ATTENUATION_DB = 30.0  # ...this far while alert (an echo at full scale stays below speech)
RAMP_MS = 2.0  # a band's gain moves to the new frame's over this long (no clicks)
FLOOR_DB = -40.0  # the most the guard takes off a band
TAIL_DB_PER_S = 150.0  # how fast a room's echo dies away after the speaker stops (RT60 0.4 s)
COUPLING_STEP_DB = 0.1  # per frame, the coupling of a band moves down this much towards a lower ratio...
COUPLING_QUANTILE = 0.75  # ...and up as much more as makes it this quantile of the ratios
ACTIVE_POWER = 160 * 100.0**2  # a band of reference below -50 dBFS (power per bin of a frame) teaches nothing
SOONER_FRAMES = 1  # the echo may come up to this many frames sooner than its delay (a move not found yet)
# Where the user clearly speaks, the linear canceller's residual (linear_echo.py) is sent instead of
# AEC3's output, whose suppressor takes the user's voice down too. A band is the user's if the residual
# holds LINEAR_USER_DB more than the echo it leaves (its echo estimate times the median ratio of residual
# to estimate, learnt where the estimate stands ECHOING_DB out of the noise) and NOISE_MARGIN_DB more than
# the noise floor (the NOISE_QUANTILE of the microphone's power), in a frame with LINEAR_BANDS such bands
# and LINEAR_SPEAKING_BANDS in which the guard too hears a user (fewer than the USER_BANDS that widen its
# own margin: four such frames running are proof enough), not within LINEAR_PAUSE_S of an alert.
LINEAR_QUANTILE = 0.5
ECHOING_DB = 10.0
LINEAR_USER_DB = 6.0
NOISE_QUANTILE = 0.1
NOISE_MARGIN_DB = 16.0
LINEAR_BANDS = 4
LINEAR_SPEAKING_BANDS = 3
USER_FRAMES = 4  # a loud, distorted passage, or a move not found yet, can look like a user for a few frames
# ...and only while the linear canceller is seen to cancel: its ERLE, measured on the frames where AEC3 takes
# AEC3_CANCELS_DB off a microphone louder than MEASURED_RMS (the echo alone: nobody else is there), averaged
# over about 1 / TRUST_SMOOTHING such frames, at least TRUSTED_ERLE_DB. A filter still learning, or thrown
# off by a path change the tracker did not see, leaves the echo in its residual: that must not be sent.
AEC3_CANCELS_DB = 20.0
MEASURED_RMS = 100.0
TRUST_SMOOTHING = 0.05
TRUSTED_ERLE_DB = 6.0
LINEAR_PAUSE_S = 0.3  # the linear canceller is wrong until the move is found and its taps follow
REFERENCE_S = 0.5  # reference kept (the echo's delay must fit in it)
# the 81 bins (100 Hz apart) of a 10 ms frame in bands about a third of an octave wide above 400 Hz
EDGES = (0, 2, 3, 4, 5, 7, 9, 11, 14, 18, 22, 28, 35, 44, 55, 68, 81)


class ResidualGuard:
    """Fed, a chunk at a time, the reference frames fed to AEC3, the raw microphone frames and
    AEC3's output frames (each `(frames, frame)` int16); returns the output, held back in the
    bands the speaker explains."""

    def __init__(self, rate: int = INPUT_RATE):
        self.frame = rate // 100
        self.bands = len(EDGES) - 1
        self._band_of = np.repeat(np.arange(self.bands), np.diff(EDGES))
        self._mean_of_band = np.eye(self.bands)[self._band_of] / np.diff(EDGES)  # bins -> bands' mean power
        self._envelope = np.zeros((int(REFERENCE_S * 100), self.bands))  # per frame fed, newest last
        self._coupling_db: np.ndarray | None = None
        self._gains = np.ones(self.bands)
        self._taken = np.zeros(self.bands)  # 1 in the bands last sent from the linear canceller
        self._linear_db = np.zeros(self.bands)  # the linear canceller's residual against its echo estimate
        self._noise_db: np.ndarray | None = None  # the microphone's noise floor per band
        self._user_run = 0  # frames in a row in which the user clearly spoke
        self._linear_erle_db = 0.0  # the linear canceller's ERLE where AEC3 hears the echo alone
        self._spread_frames = 0  # frames left in which the echo is looked for around its delay
        self._decay = 10 ** (-TAIL_DB_PER_S / 100 / 10)  # per frame
        self.alert_frames = 0
        self.held_frames = 0  # frames in which the guard lowered a band
        self.linear_frames = 0  # frames in which some band came from the linear canceller

    def alert(self, *, starving: bool = False) -> None:
        """The path moved or a stream glitched: for a while, hold back more. `starving`: the
        speaker keeps glitching, and the sound server plays the bursts it gets on its own
        schedule, so the reference no longer says what played when: meanwhile the echo is
        looked for `ALERT_SPREAD_FRAMES` either side of its delay."""
        self.alert_frames = int(ALERT_S * 100)
        self._spread_frames = self.alert_frames if starving else self._spread_frames
        self._linear_erle_db = 0.0  # the linear canceller's taps may be wrong now: they prove themselves again

    def _band_power(self, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        spectrum = np.fft.rfft(frames.astype(np.float64), axis=1)
        power = np.abs(spectrum) ** 2
        return spectrum, power @ self._mean_of_band

    def process(
        self,
        far: np.ndarray,
        near: np.ndarray,
        out: np.ndarray,
        delay: int | None,
        linear: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> np.ndarray:
        """`delay`: the echo's delay behind the reference fed (samples), None while unknown;
        `linear`: the linear canceller's residual and echo estimate, aligned with `out`: the
        residual is sent in the bands where the user clearly speaks."""
        count = len(out)
        if linear is None:  # not run: its taps must prove themselves again
            self._linear_erle_db = 0.0
        _, far_power = self._band_power(far)
        held = self._envelope[-1]
        for i, power in enumerate(far_power):  # the reference's envelope: a peak hold decaying like the room
            far_power[i] = held = np.maximum(power, held * self._decay)
        self._envelope = np.concatenate([self._envelope[count:], far_power])
        if delay is None:
            return out
        echo = self._echo_envelope(count, delay)
        _, near_power = self._band_power(near)
        self._learn(near_power, echo)
        if self._coupling_db is None:
            return out
        if self._spread_frames:
            spread = min(count, self._spread_frames)
            echo[:spread] = self._echo_envelope(count, delay, ALERT_SPREAD_FRAMES)[:spread]
            self._spread_frames -= spread
        predicted = echo * 10 ** (self._coupling_db / 10)
        # a frame in which the user clearly speaks in several bands gets the benefit of the doubt
        user_bands = (near_power > predicted * 10 ** (USER_DB / 10)).sum(axis=1)
        speaking = user_bands >= USER_BANDS
        margin = np.where(speaking, SPEAKING_MARGIN_DB, MARGIN_DB)
        margin[: self.alert_frames] = ALERT_MARGIN_DB
        attenuation = np.full(count, ATTENUATION_DB)
        attenuation[: self.alert_frames] = ALERT_ATTENUATION_DB
        alert, self.alert_frames = self.alert_frames, max(0, self.alert_frames - count)
        spectrum, out_power = self._band_power(out)
        speakers = near_power <= predicted * 10 ** (margin[:, None] / 10)
        allowed = near_power * 10 ** (-attenuation[:, None] / 10)
        gains = np.where(speakers, np.clip(allowed / np.maximum(out_power, 1e-9), 10 ** (FLOOR_DB / 10), 1.0), 1.0)
        taken = np.zeros_like(gains, dtype=bool)
        linear_spectrum = spectrum
        if linear is not None:  # where the user clearly speaks, AEC3's suppressor takes their voice too
            linear_spectrum, linear_power = self._band_power(linear[0])
            _, estimate_power = self._band_power(linear[1])
            taken = self._user_bands(near_power, linear_power, estimate_power)
            taken &= self._held((user_bands >= LINEAR_SPEAKING_BANDS) & (taken.sum(axis=1) >= LINEAR_BANDS))[:, None]
            taken &= ~speakers & (linear_power > out_power) & self._trusted(out, *linear)[:, None]
            taken[: alert - int((ALERT_S - LINEAR_PAUSE_S) * 100)] = False
        return self._apply(out, (spectrum, linear_spectrum), np.sqrt(gains), taken.astype(np.float64))

    def _held(self, user: np.ndarray) -> np.ndarray:
        """Per frame: the user has clearly spoken in it and the `USER_FRAMES - 1` before."""
        run = np.empty(len(user), dtype=np.int64)
        for i, now in enumerate(user):
            self._user_run = self._user_run + 1 if now else 0
            run[i] = self._user_run
        return run >= USER_FRAMES

    def _trusted(self, out: np.ndarray, residual: np.ndarray, estimate: np.ndarray) -> np.ndarray:
        """Per frame: whether the linear canceller has lately been seen to cancel the echo (its
        residual plus its estimate is the microphone, as late as AEC3's output)."""
        heard, out_power, residual_power = (
            np.mean(x**2, axis=1) for x in (residual + estimate, out.astype(np.float64), residual)
        )
        echo_alone = (heard > MEASURED_RMS**2) & (out_power < heard * 10 ** (-AEC3_CANCELS_DB / 10))
        erle = 10 * np.log10(np.maximum(heard, 1.0) / (residual_power + 1.0))
        trusted = np.empty(len(out), dtype=bool)
        for i in range(len(out)):
            if echo_alone[i]:
                self._linear_erle_db += TRUST_SMOOTHING * (erle[i] - self._linear_erle_db)
            trusted[i] = self._linear_erle_db >= TRUSTED_ERLE_DB
        return trusted

    def _user_bands(self, near_power: np.ndarray, linear_power: np.ndarray, estimate_power: np.ndarray) -> np.ndarray:
        """The bands whose linear residual holds clearly more than the echo it leaves, and than the noise."""
        near_db = 10 * np.log10(np.maximum(near_power, 1e-9))
        if self._noise_db is None:
            self._noise_db = near_db.min(axis=0)
        self._noise_db = _quantile_steps(self._noise_db, near_db, np.ones(near_db.shape, dtype=bool), NOISE_QUANTILE)
        noise = 10 ** (self._noise_db / 10)
        ratio = 10 * np.log10(np.maximum(linear_power, 1e-9) / np.maximum(estimate_power, 1e-9))
        echoing = estimate_power > noise * 10 ** (ECHOING_DB / 10)
        self._linear_db = _quantile_steps(self._linear_db, ratio, echoing, LINEAR_QUANTILE)
        residual = estimate_power * 10 ** ((self._linear_db + LINEAR_USER_DB) / 10)
        return linear_power > np.maximum(residual, noise * 10 ** (NOISE_MARGIN_DB / 10))

    def _echo_envelope(self, count: int, delay: int, spread: int = 0) -> np.ndarray:
        """Per band, for each of the last `count` frames: the loudest reference power that can
        be echoing in it -- around the echo's delay (`spread` frames more either side), or before,
        decaying like the room's tail."""
        lag = min(len(self._envelope) - count, -(-delay // self.frame))
        rows = len(self._envelope) - count + np.arange(count) - lag  # the first reference frame it straddles
        window = rows[:, None] + np.arange(-spread, SOONER_FRAMES + 2 + spread)
        return self._envelope[np.clip(window, 0, len(self._envelope) - 1)].max(axis=1)

    def _learn(self, near_power: np.ndarray, echo: np.ndarray) -> None:
        """A quantile per band in the log domain: a step up or down towards each new ratio (a
        user speaking raises the ratio, the model's pauses and the envelope's slow tail lower
        it: the loud passages' coupling is an upper quantile)."""
        active = (echo >= ACTIVE_POWER) & (near_power > 0)
        if not active.any():
            return
        ratio = 10 * np.log10(np.where(active, near_power, 1.0) / np.where(active, echo, 1.0))
        if self._coupling_db is None:
            first = int(np.flatnonzero(active.any(axis=1))[0])
            self._coupling_db = np.where(active[first], ratio[first], -10.0)
        self._coupling_db = _quantile_steps(self._coupling_db, ratio, active, COUPLING_QUANTILE)

    def _apply(
        self, out: np.ndarray, spectra: tuple[np.ndarray, np.ndarray], gains: np.ndarray, taken: np.ndarray
    ) -> np.ndarray:
        """Each frame's spectrum times its gains per band (the linear canceller's spectrum in
        the bands `taken`), ramped in from the last frame's."""
        previous = np.vstack([self._gains, gains[:-1]])
        previous_taken = np.vstack([self._taken, taken[:-1]])
        self._gains, self._taken = gains[-1], taken[-1]
        touched = np.any(gains < 1.0, axis=1) | np.any(taken > 0, axis=1)
        changed = touched | np.any(previous < 1.0, axis=1) | np.any(previous_taken > 0, axis=1)
        if not changed.any():
            return out
        self.held_frames += int(np.any(gains < 1.0, axis=1).sum())
        self.linear_frames += int(np.any(taken > 0, axis=1).sum())
        result = out.copy()
        ramp = np.minimum(1.0, np.arange(self.frame) / (RAMP_MS * self.frame / 10))
        for i in np.flatnonzero(changed):
            spectrum = (spectra[0][i], spectra[1][i])
            before = self._filtered(spectrum, previous[i], previous_taken[i])
            after = self._filtered(spectrum, gains[i], taken[i])
            result[i] = np.clip(np.round(before * (1 - ramp) + after * ramp), -32768, 32767)
        return result

    def _filtered(self, spectra: tuple[np.ndarray, np.ndarray], gains: np.ndarray, taken: np.ndarray) -> np.ndarray:
        linear = taken[self._band_of]
        return np.fft.irfft(spectra[0] * gains[self._band_of] * (1.0 - linear) + spectra[1] * linear, self.frame)


def _quantile_steps(current: np.ndarray, ratio: np.ndarray, active: np.ndarray, quantile: float) -> np.ndarray:
    """`current` (dB per band) stepped once per active frame of `ratio` (frames, bands): down by
    `COUPLING_STEP_DB` below it, up by as much more as makes it that quantile of the ratios."""
    up = COUPLING_STEP_DB * quantile / (1 - quantile)
    steps = np.where(ratio > current, up, -COUPLING_STEP_DB)  # against the chunk's start
    return current + np.where(active, steps, 0.0).sum(axis=0)
