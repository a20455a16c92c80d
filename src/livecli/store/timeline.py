"""Both stored audio streams laid on the session's clock, mixed on demand.

The store keeps facts: each chunk with the time it was captured (user) or
received (model). Where a chunk sounds follows from how talk plays it:

- user chunks are captured in real time and end when they were captured, one
  after the other: a chunk within JITTER_S of where the previous one ended
  follows it without a gap (timestamps jitter; the audio was continuous);
- model chunks arrive in bursts faster than real time and play one after the
  other from their arrival on (the jitter buffer), until `interrupted`
  silences the speaker: what was queued past that moment was never heard.

Windows are rendered from the database as they are needed (a replay or an
export of an hour never holds the whole session in memory).
"""

from __future__ import annotations

import bisect
import dataclasses
import math
import wave
from pathlib import Path

import numpy as np

from livecli import records
from livecli.formats import FULL_SCALE, OUTPUT_RATE, SILENCE_DBFS
from livecli.store.sessions import Event, SessionStore

RATE = OUTPUT_RATE  # the mix's rate: the model's
PREFETCH_S = 5.0
PAD_S = 0.05  # resampling context around a window
JITTER_S = 0.05  # user chunks closer than this to back to back were back to back


@dataclasses.dataclass
class _Segment:
    start: int  # in samples of the stream's rate
    length: int
    chunk_id: int

    @property
    def end(self) -> int:
        return self.start + self.length


class _Stream:
    """One stream's segments, in order and never overlapping, at one rate."""

    def __init__(
        self, store: SessionStore, index: list[tuple[int, float, int, int]], *, captured: bool, cuts: list[float]
    ):
        self._store = store
        rates = [rate for _, _, rate, _ in index]
        self.rate = max(set(rates), key=rates.count) if rates else RATE
        self.segments: list[_Segment] = []
        self._foreign = {chunk_id: rate for chunk_id, _, rate, _ in index if rate != self.rate}
        self._cache: dict[int, np.ndarray] = {}
        pending_cuts = sorted(cuts)
        cursor = 0
        for chunk_id, offset, rate, nbytes in index:
            length = round(nbytes // 2 * self.rate / rate)
            while pending_cuts and pending_cuts[0] <= offset:
                cursor = self._cut(round(pending_cuts.pop(0) * self.rate), cursor)
            anchor = round((offset - length / self.rate if captured else offset) * self.rate)
            if captured and self.segments and abs(anchor - cursor) <= JITTER_S * self.rate:
                start = cursor
            else:
                start = max(anchor, cursor, 0)
            self.segments.append(_Segment(start, length, chunk_id))
            cursor = start + length
        for cut in pending_cuts:
            cursor = self._cut(round(cut * self.rate), cursor)
        self._starts = [s.start for s in self.segments]

    def _cut(self, at: int, cursor: int) -> int:
        """Silence everything queued to sound after `at`."""
        while self.segments and self.segments[-1].end > at:
            last = self.segments[-1]
            if last.start >= at:
                self.segments.pop()
            else:
                last.length = at - last.start
        return min(cursor, at)

    @property
    def end_s(self) -> float:
        return self.segments[-1].end / self.rate if self.segments else 0.0

    def spans(self, gap_s: float) -> list[tuple[float, float]]:
        """When the stream sounds, as (start_s, end_s), joining gaps shorter than `gap_s`."""
        spans: list[list[float]] = []
        for seg in self.segments:
            start, end = seg.start / self.rate, seg.end / self.rate
            if spans and start - spans[-1][1] < gap_s:
                spans[-1][1] = end
            else:
                spans.append([start, end])
        return [(a, b) for a, b in spans]

    def sounding(self, at_s: float) -> bool:
        at = round(at_s * self.rate)
        i = bisect.bisect_right(self._starts, at) - 1
        return i >= 0 and self.segments[i].end > at

    def level_dbfs(self, from_s: float, to_s: float) -> float:
        """RMS level over a stretch of the stream (-96 for silence), for the microphone meter."""
        start = round(from_s * self.rate)
        samples = self.render(start, max(1, round(to_s * self.rate) - start))
        rms = float(np.sqrt(np.mean(samples * samples)))
        return 20.0 * math.log10(rms / FULL_SCALE) if rms >= 1.0 else SILENCE_DBFS

    def render(self, start: int, frames: int) -> np.ndarray:
        """Samples [start, start + frames) at this stream's rate, as float32."""
        out = np.zeros(frames, dtype=np.float32)
        first = max(0, bisect.bisect_right(self._starts, start) - 1)
        last = bisect.bisect_left(self._starts, start + frames)
        for seg in self.segments[first:last]:
            lo, hi = max(seg.start, start), min(seg.end, start + frames)
            if lo < hi:
                piece = self._samples(seg)[lo - seg.start : hi - seg.start]
                out[lo - start : lo - start + len(piece)] = piece
        return out

    def _samples(self, seg: _Segment) -> np.ndarray:
        if seg.chunk_id not in self._cache:
            self._prefetch(seg)
        return self._cache[seg.chunk_id]

    def _prefetch(self, seg: _Segment) -> None:
        """Load the chunks of the next PREFETCH_S in one query; forget the ones before."""
        position = bisect.bisect_left(self._starts, seg.start)
        horizon = seg.start + int(PREFETCH_S * self.rate)
        ahead = [s for s in self.segments[position:] if s.start < horizon] or [seg]
        wanted = {s.chunk_id for s in ahead}
        self._cache = {cid: pcm for cid, pcm in self._cache.items() if cid in wanted}
        for chunk_id, pcm in self._store.audio_chunks(sorted(wanted)).items():
            samples = np.frombuffer(pcm[: len(pcm) // 2 * 2], dtype="<i2").astype(np.float32)
            if chunk_id in self._foreign:
                import soxr

                samples = soxr.resample(samples, self._foreign[chunk_id], self.rate).astype(np.float32)
            self._cache[chunk_id] = samples
        for s in ahead:  # a chunk missing from the database plays as silence
            self._cache.setdefault(s.chunk_id, np.zeros(s.length, dtype=np.float32))


class Timeline:
    """A stored session's audio: user and model on the session's clock, at RATE."""

    def __init__(self, store: SessionStore, session_id: str, events: list[Event], duration_s: float):
        cuts = [e.offset_s for e in events if isinstance(e.record, records.Interruption)]
        self.user = _Stream(store, store.audio_index(session_id, "user"), captured=True, cuts=[])
        self.model = _Stream(store, store.audio_index(session_id, "model"), captured=False, cuts=cuts)
        self.duration_s = max(duration_s, self.user.end_s, self.model.end_s)
        self.frames = round(self.duration_s * RATE)

    @property
    def has_audio(self) -> bool:
        return bool(self.user.segments or self.model.segments)

    def render(self, start: int, frames: int) -> np.ndarray:
        """Frames [start, start + frames) at RATE: float32, shape (frames, 2), user left, model right."""
        return np.stack([_at_mix_rate(self.user, start, frames), _at_mix_rate(self.model, start, frames)], axis=1)

    def mono(self, start: int, frames: int) -> bytes:
        """Both sides mixed into one int16 channel: what the speaker plays."""
        return _to_int16(self.render(start, frames).sum(axis=1)).tobytes()

    def write_wav(self, path: Path, block_s: float = 10.0) -> None:
        """The whole session as a stereo 16-bit WAV, user left, model right."""
        block = int(block_s * RATE)
        with wave.open(str(path), "wb") as wav:
            wav.setnchannels(2)
            wav.setsampwidth(2)
            wav.setframerate(RATE)
            for start in range(0, self.frames, block):
                wav.writeframes(_to_int16(self.render(start, min(block, self.frames - start))).tobytes())


def _at_mix_rate(stream: _Stream, start: int, frames: int) -> np.ndarray:
    if stream.rate == RATE:
        return stream.render(start, frames)
    import soxr

    # Begin on a sample both rates share, with context either side, so windows join without seams.
    step = stream.rate // math.gcd(stream.rate, RATE)
    pad = int(PAD_S * stream.rate) // step * step
    first = (start * stream.rate // RATE) // step * step - pad
    count = math.ceil((start + frames) * stream.rate / RATE) - first + pad
    resampled = soxr.resample(stream.render(first, count), stream.rate, RATE)
    skip = start - first * RATE // stream.rate
    window = resampled[skip : skip + frames]
    return np.pad(window, (0, frames - len(window))) if len(window) < frames else window


def _to_int16(samples: np.ndarray) -> np.ndarray:
    return np.clip(np.round(samples), -32768, 32767).astype("<i2")
