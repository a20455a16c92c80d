"""Holding back residual echo AEC3 lets through, without muting a user who speaks over it.

While AEC3 converges, and after the echo path moves, it lets part of the echo through (down
to 7 dB of ERLE for up to 1.5 s), enough for the service to hear the model and interrupt it.
`ResidualGuard` looks at each 10 ms frame in 16 frequency bands. In each band it predicts how
loud the echo at the microphone can be from what the speaker just played: the reference's
power around the echo's delay (its tail decaying as a room's does), times the path's coupling
in that band, learned from the microphone. Where the microphone holds no more than that
(`MARGIN_DB`), the band is the speaker's: whatever AEC3 sent there beyond `ATTENUATION_DB`
below the microphone is residual echo and is lowered to it (more of both for `ALERT_S` after
the path moved, a stream glitched or the tracker saw a hint of a move; a speaker that keeps
glitching, on a machine short of time, also makes the reference unreliable about what played
when, and the echo is then looked for anywhere near its delay). Where the microphone
holds more, someone else is speaking there: the band passes untouched. Speech of two voices seldom
fills the same bands at the same moment, so a user speaking over the model keeps most of
their voice. When AEC3 works, it already removes more than `ATTENUATION_DB`: the guard
changes nothing, and a frame it leaves alone is passed bit for bit.

Frames are handled a chunk at a time (numpy over the chunk's frames), without delay: the gains
are applied to each frame's own spectrum, ramped in from the previous frame's.
"""

from __future__ import annotations

import numpy as np

from livecli.formats import INPUT_RATE

MARGIN_DB = 2.0  # a band whose microphone power is within this of the predicted echo is the speaker's
ALERT_MARGIN_DB = 8.0  # ...within this, for ALERT_S after the path moved or a stream glitched
ALERT_S = 1.0
ALERT_SPREAD_FRAMES = 10  # ...and, the speaker starving, the echo may come this many frames off its delay
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
        self._width = np.diff(EDGES).astype(np.float64)
        self._envelope = np.zeros((int(REFERENCE_S * 100), self.bands))  # per frame fed, newest last
        self._coupling_db: np.ndarray | None = None
        self._gains = np.ones(self.bands)
        self._spread_frames = 0  # frames left in which the echo is looked for around its delay
        self._decay = 10 ** (-TAIL_DB_PER_S / 100 / 10)  # per frame
        self.alert_frames = 0
        self.held_frames = 0  # frames in which the guard lowered a band

    def alert(self, *, starving: bool = False) -> None:
        """The path moved or a stream glitched: for a while, hold back more. `starving`: the
        speaker keeps glitching, and the sound server plays the bursts it gets on its own
        schedule, so the reference no longer says what played when: meanwhile the echo is
        looked for `ALERT_SPREAD_FRAMES` either side of its delay."""
        self.alert_frames = int(ALERT_S * 100)
        if starving:
            self._spread_frames = self.alert_frames

    def _band_power(self, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        spectrum = np.fft.rfft(frames.astype(np.float64), axis=1)
        power = np.abs(spectrum) ** 2
        bands = np.zeros((len(frames), self.bands))
        np.add.at(bands, (slice(None), self._band_of), power)
        return spectrum, bands / self._width

    def process(self, far: np.ndarray, near: np.ndarray, out: np.ndarray, delay: int | None) -> np.ndarray:
        """`delay`: the echo's delay behind the reference fed (samples), None while unknown."""
        count = len(out)
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
        speaking = (near_power > predicted * 10 ** (USER_DB / 10)).sum(axis=1) >= USER_BANDS
        margin = np.where(speaking, SPEAKING_MARGIN_DB, MARGIN_DB)
        margin[: self.alert_frames] = ALERT_MARGIN_DB
        attenuation = np.full(count, ATTENUATION_DB)
        attenuation[: self.alert_frames] = ALERT_ATTENUATION_DB
        self.alert_frames = max(0, self.alert_frames - count)
        spectrum, out_power = self._band_power(out)
        speakers = near_power <= predicted * 10 ** (margin[:, None] / 10)
        allowed = near_power * 10 ** (-attenuation[:, None] / 10)
        gains = np.where(speakers, np.clip(allowed / np.maximum(out_power, 1e-9), 10 ** (FLOOR_DB / 10), 1.0), 1.0)
        return self._apply(out, spectrum, np.sqrt(gains))

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
        up = COUPLING_STEP_DB * COUPLING_QUANTILE / (1 - COUPLING_QUANTILE)
        active = (echo >= ACTIVE_POWER) & (near_power > 0)
        if not active.any():
            return
        ratio = 10 * np.log10(np.where(active, near_power, 1.0) / np.where(active, echo, 1.0))
        if self._coupling_db is None:
            first = int(np.flatnonzero(active.any(axis=1))[0])
            self._coupling_db = np.where(active[first], ratio[first], -10.0)
        steps = np.where(ratio > self._coupling_db, up, -COUPLING_STEP_DB)  # against the chunk's start
        self._coupling_db += np.where(active, steps, 0.0).sum(axis=0)

    def _apply(self, out: np.ndarray, spectrum: np.ndarray, gains: np.ndarray) -> np.ndarray:
        """Each frame's spectrum times its gains per band, ramped in from the last frame's."""
        previous = np.vstack([self._gains, gains[:-1]])
        self._gains = gains[-1]
        changed = np.any(gains < 1.0, axis=1) | np.any(previous < 1.0, axis=1)
        if not changed.any():
            return out
        self.held_frames += int(np.any(gains < 1.0, axis=1).sum())
        result = out.copy()
        ramp = np.minimum(1.0, np.arange(self.frame) / (RAMP_MS * self.frame / 10))
        for i in np.flatnonzero(changed):
            before = self._filtered(spectrum[i], previous[i])
            after = self._filtered(spectrum[i], gains[i])
            result[i] = np.clip(np.round(before * (1 - ramp) + after * ramp), -32768, 32767)
        return result

    def _filtered(self, spectrum: np.ndarray, gains: np.ndarray) -> np.ndarray:
        per_bin = gains[self._band_of]
        return np.fft.irfft(spectrum * per_bin, self.frame)
