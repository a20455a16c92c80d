"""Where the speaker's echo is in the microphone, chunk by chunk: noticing at once when the
echo path moves, and whether the microphone hears the speaker at all.

The echo path moves when something between the two devices drops or repeats a block: an
underrun or overrun of livecli's own streams (the timestamps show those, see
echo_canceller), but also a sound server correcting clock drift or a Bluetooth or USB
device adjusting its latency, which nothing reports. AEC3 then needs up to 1.5 s to find the
echo again, and meanwhile the model hears itself. `PathTracker` finds the echo's delay
itself, by generalised cross-correlation with phase transform (GCC-PHAT) of the last
`WINDOW_S` of microphone against the reference, about 0.2 ms of CPU per 100 ms chunk: the
echo of a room is found within a chunk, whatever its level, and a user speaking over it
does not move the peak. A peak at a new delay, clearly, is a move -- and so are weak peaks
(a reverberant room through real devices gives 0.2-0.3) agreeing on one new delay for three
windows while the old one is gone: the canceller shifts its reference by as much, so AEC3
sees the path it had converged on before it begins to follow the new one. That holds for a
step of half a millisecond too (a sound server correcting drift steps by about that much): left
to follow it itself, AEC3 lost the echo, at once or seconds later. Only a sample or two is drift.

The same peaks tell whether the microphone hears the speaker (`heard`): a correlation
with what was played, loud enough to matter, in enough of the windows where the speaker
played something. A window whose microphone is loud but shows no echo is no evidence either
way: a tone or a chord has no peak to show, and a starving speaker's sound server plays what
it gets on its own schedule -- only a quiet microphone says there is no echo (headphones).
"""

from __future__ import annotations

import collections

import numpy as np

from livecli.audio.pcm import amplitude
from livecli.formats import INPUT_RATE

WINDOW_S = 0.2  # of microphone correlated against the reference
MAX_DELAY_S = 0.25  # the echo is looked for up to this long after the reference fed with it
PEAK = 0.3  # a GCC-PHAT peak this high is surely the echo (without one: below 0.15)
CLEAR = 0.45  # a move to a peak below this must show in two windows running
FOUND = 0.2  # ...this high, an echo is there
MOVE_S = 0.003  # a peak this far from the settled delay is a move (or a repeated sound)...
STEP_S = 0.0005  # ...closer, this far a small step of the path (`_step`); closer still, drift
MAX_MOVE_S = 0.05  # ...farther than this is not a block lost or repeated (jumps show in the timestamps)
# ...but sooner, a clear peak is followed this far: a starving PulseAudio stream's echo was seen jumping
# 50.1 and 50.5 ms sooner, with nothing in the timestamps. (Following a later jump that far can put the
# echo's return out of sight, before the reference fed: a sooner one cannot.)
MAX_SOONER_S = 0.06
GONE = 0.25  # ...if the correlation at the settled delay fell below this share of the peak
FADING = 0.5  # ...or below this share in two windows running (a repeated sound seldom is twice)
AGREEING = 3  # a room's reverberation keeps peaks weak: this many windows at one new lag, the echo gone
REFERENCE_DBFS = -50.0  # a window whose reference is quieter tells nothing
AUDIBLE_DBFS = -50.0  # an echo quieter than this at the microphone does not matter
EVIDENCE = 30  # windows with reference (3 s of the model speaking) weighed for `heard`
HEARD_SHARE = 0.25  # of them in which the echo was found and loud enough


class PathTracker:
    """The echo's delay behind the reference as fed to the canceller, its moves, and whether
    the microphone hears the speaker. Fed every microphone sample the canceller processes,
    with the reference from `MAX_DELAY_S` before it up to the same position."""

    def __init__(self, rate: int = INPUT_RATE):
        self.rate = rate
        self.window = int(WINDOW_S * rate)
        self.reach = int(MAX_DELAY_S * rate)
        self.size = 1 << int(np.ceil(np.log2(self.window + self.reach)))
        self.delay: int | None = None  # settled delay of the echo (samples), once found
        self.moves = 0
        self._mic = np.zeros(self.window)
        self._found: collections.deque[bool] = collections.deque(maxlen=EVIDENCE)
        self._candidate: int | None = None  # a new delay seen once, not clearly
        self._agreeing: tuple[int, int] | None = None  # a new delay weakly seen, in how many windows
        self.suspect = False  # the last window hinted at a move (a peak elsewhere, the echo fading)
        self._heard_once = False
        self._stale = False  # the devices changed: the next clear peak settles the delay

    def check(self, mic: np.ndarray, reference: np.ndarray) -> int:
        """`mic`: the newest samples (any length); `reference`: `reach + window` samples fed
        (or to be fed) with the last `window` microphone samples, the newest last. Returns how
        many samples later the echo came than before (negative: sooner), 0 when it did not move."""
        mic = np.asarray(mic, dtype=np.float64)
        self._mic = np.concatenate([self._mic, mic])[-self.window :]
        reference = np.asarray(reference, dtype=np.float64)
        if np.sqrt(np.mean(reference[-self.window - self.reach // 2 :] ** 2)) < amplitude(REFERENCE_DBFS):
            return 0
        corr = self._correlate(reference)
        lag = int(np.argmax(corr))
        peak = float(corr[lag])
        loud = np.sqrt(np.mean(self._mic**2)) >= amplitude(AUDIBLE_DBFS)
        found = peak >= FOUND and loud
        if found or not loud:  # a loud microphone with no echo placed in it is no evidence either way
            self._found.append(found)
        candidate, self._candidate = self._candidate, None
        self.suspect = False
        close = MOVE_S * self.rate
        left = 1.0  # what is left at the settled delay, of the peak
        if self.delay is not None and abs(lag - self.delay) > close and peak >= FOUND:
            near = slice(max(0, self.delay - self.rate // 1000), self.delay + self.rate // 1000 + 1)
            left = corr[near].max(initial=0.0) / peak
            self.suspect = left < FADING  # the echo may be moving
        if peak >= FOUND:  # a window that shows the echo somewhere: do the weak ones agree?
            agreeing = self._agreeing
            weakly_moved = self.suspect and left < GONE and abs(lag - self.delay) <= MAX_MOVE_S * self.rate
            same = weakly_moved and agreeing is not None and abs(agreeing[0] - lag) <= close
            self._agreeing = (lag, agreeing[1] + 1 if same else 1) if weakly_moved else None
            if self._agreeing is not None and self._agreeing[1] >= AGREEING:
                return self._move_to(lag)
        if self.delay is not None and STEP_S * self.rate <= abs(lag - self.delay) <= close and peak >= FOUND:
            return self._step(corr, lag, peak)
        if peak < PEAK:
            return 0
        if self._stale and self.delay is not None and STEP_S <= abs(lag - self.delay) / self.rate <= MAX_MOVE_S:
            self._stale = False  # found again nearby, after a gap: the path AEC3 had converged on, moved
            return self._move_to(lag)
        if self.delay is None or self._stale or abs(lag - self.delay) <= close:
            self.delay = lag  # found (anew), or drifted a sample or two: AEC3 follows drift itself
            self._stale = False
            return 0
        if not -MAX_SOONER_S * self.rate <= lag - self.delay <= MAX_MOVE_S * self.rate:
            return 0
        if left >= FADING:  # still there: a repeated sound, not a move
            return 0
        clear = left < GONE and peak >= CLEAR
        if not clear and (candidate is None or abs(candidate - lag) > close):
            self._candidate = lag  # not clear yet: the next window will tell
            return 0
        return self._move_to(lag)

    def _step(self, corr: np.ndarray, lag: int, peak: float) -> int:
        """The peak a little off the settled delay: a small step of the path, once the echo has
        left its delay; while it is at both, the window may straddle a step (the next one tells)."""
        assert self.delay is not None
        there = corr[max(0, self.delay - 1) : self.delay + 2].max(initial=0.0) / peak
        if there < (FADING if peak >= PEAK else GONE):
            return self._move_to(lag)
        self.suspect = True
        return 0

    def _move_to(self, lag: int) -> int:
        assert self.delay is not None
        moved, self.delay = lag - self.delay, lag
        self._agreeing = None
        self.moves += 1
        return moved

    def shifted(self, samples: int) -> None:
        """The reference fed was shifted `samples` later: the echo now sits that much sooner."""
        if self.delay is not None:
            self.delay -= samples

    def _correlate(self, reference: np.ndarray) -> np.ndarray:
        """GCC-PHAT of the microphone window behind `reference`'s last samples, by lag."""
        far = np.fft.rfft(reference[-(self.window + self.reach) :], self.size)
        near = np.fft.rfft(self._mic, self.size)
        cross = far * np.conj(near)
        magnitude = np.abs(cross)
        cross /= magnitude + 1e-6 * (magnitude.max() or 1.0)
        return np.fft.irfft(cross, self.size)[: self.reach + 1][::-1]

    @property
    def heard(self) -> bool | None:
        """Whether the microphone hears the speaker; None until the speaker has played enough."""
        found = sum(self._found)
        if found >= EVIDENCE * HEARD_SHARE:
            self._heard_once = True
            return True
        if self._heard_once:  # to stop cancelling an echo once heard: no trace of it for a while
            return False if len(self._found) == self._found.maxlen and not found else True
        if len(self._found) == self._found.maxlen or (len(self._found) >= EVIDENCE // 2 and not found):
            return False  # (half the evidence without a trace of the speaker is enough)
        return None

    def forget(self) -> None:
        """The devices changed, or a stream lost audio for a while (a starving machine looks
        the same): whether the microphone hears the speaker is found anew, and the next clear peak
        settles the delay: as a move if it is within `MAX_MOVE_S` (a sound server's loopback made
        anew brings the echo back 20 ms off), wherever it is otherwise. Until then the delay found
        so far stands: the guard keeps holding back the echo there."""
        self._stale = True
        self._agreeing = None
        self._found.clear()
        self._heard_once = False
