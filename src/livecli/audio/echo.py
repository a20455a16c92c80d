"""Keeping the assistant's own voice out of the microphone (`--echo auto|aec|half-duplex|off`).

On a laptop without headphones the microphone hears the speaker. Sent as is, that
echo crosses the service's voice-activity detector and the model interrupts itself.

* `auto` (the default) -- `AutoEcho`: the canceller runs, and what it finds out about the
  echo path while Gemini speaks chooses: its output while the microphone hears the speaker,
  the microphone untouched while it does not (headphones, where AEC3 would only lower the
  user's voice). Until it knows, and again after the devices change: the canceller.
* `aec` -- `EchoCanceller` (echo_canceller.py): WebRTC's AEC3 removes the speaker's
  sound from each 10 ms microphone frame. Full duplex: the user can still interrupt by voice.
* `half-duplex` -- `HalfDuplexGate`: the microphone sends silence while the speaker
  plays (plus a short tail); the user interrupts with a key.
* `off` -- `NoEcho`: headphones.

All are an `EchoControl`, called from the asyncio side:

    echo.far_end(block, played_at, rate=..., channels=...)   # every block the speaker played
    clean = echo.near_end(chunk, captured_at)                # every microphone chunk, before sending

The speaker is handed its echo control when it is built (`Speaker(..., echo=control)`)
and reports every block it plays, with PortAudio's timestamps. `control.mode` says which
mode is active and `control.reason` why, in a few words (for the status line).
"""

from __future__ import annotations

import collections
import dataclasses
import time
from typing import Protocol

import numpy as np

from livecli.audio.aec_backends import EchoUnavailable
from livecli.audio.echo_canceller import EchoCanceller
from livecli.formats import ECHO_MODES, INPUT_RATE, SAMPLE_BYTES

HALF_DUPLEX_TAIL_MS = 300
OPEN_GRACE_S = 0.2  # after open_now(): blocks already queued in the device do not mute again
SILENT_RMS = 30.0  # int16 RMS below which a played block counts as silence (about -61 dBFS)

MODES = ECHO_MODES  # the first is the default


class EchoControl(Protocol):
    """What the speaker, the microphone's sender and the interrupt key need of an echo control."""

    mode: str  # the mode active now: aec, half-duplex or off
    reason: str  # why, in a few words

    @property
    def muted(self) -> bool:
        """True while the microphone is being held back (half duplex, the model speaking)."""

    def far_end(
        self, pcm: bytes, played_at: float, *, rate: int | None = None, channels: int = 1, xrun: bool = False
    ) -> None:
        """A block the speaker played, whose first sample reached the DAC at `played_at`;
        `xrun`: PortAudio flagged an underrun before it (the echo path may have moved)."""

    def near_end(self, pcm: bytes, captured_at: float) -> bytes:
        """A microphone chunk captured at `captured_at`, cleaned of the speaker's sound."""

    def open_now(self) -> None:
        """The user pressed the interrupt key: let the microphone through at once."""


class HalfDuplexGate:
    """Sends silence instead of the microphone while the speaker plays, and `tail_ms` after.

    Fed like the canceller; `open_now()` lets the microphone through at once (the user pressed
    the interrupt key: the session also flushes the speaker and drops the rest of the turn).
    """

    mode = "half-duplex"
    reason = "chosen: the microphone is muted while Gemini speaks"

    def __init__(self, rate: int = INPUT_RATE, *, tail_ms: float = HALF_DUPLEX_TAIL_MS):
        self.rate = rate
        self.tail_s = tail_ms / 1000.0
        self._muted_until = float("-inf")
        self._spans: list[list[float]] = []  # [start, end + tail] of what the speaker played
        self._opened_at = float("-inf")

    def far_end(
        self, pcm: bytes, played_at: float, *, rate: int | None = None, channels: int = 1, xrun: bool = False
    ) -> None:
        samples = np.frombuffer(pcm, dtype=np.int16)
        if samples.size == 0 or float(np.sqrt(np.mean(samples.astype(np.float32) ** 2))) <= SILENT_RMS:
            return
        if played_at < self._opened_at + OPEN_GRACE_S:  # already in the device when the key was hit
            return
        end = played_at + samples.size / ((rate or self.rate) * channels) + self.tail_s
        if played_at > self._muted_until:  # a new stretch of the assistant's voice
            self._spans.append([played_at, end])
            del self._spans[:-8]
        else:
            self._spans[-1][1] = max(self._spans[-1][1], end)
        self._muted_until = self._spans[-1][1]

    def near_end(self, pcm: bytes, captured_at: float) -> bytes:
        chunk_end = captured_at + len(pcm) / (SAMPLE_BYTES * self.rate)
        if any(start < chunk_end and captured_at < end for start, end in self._spans):
            return bytes(len(pcm))
        return pcm

    def open_now(self, now: float | None = None) -> None:
        self._opened_at = time.monotonic() if now is None else now
        self._muted_until = float("-inf")
        self._spans.clear()

    @property
    def muted(self) -> bool:
        return time.monotonic() < self._muted_until


class NoEcho:
    """`--echo off`: headphones, nothing to do."""

    mode = "off"
    reason = "chosen: the microphone goes out untouched"
    muted = False

    def far_end(
        self, pcm: bytes, played_at: float, *, rate: int | None = None, channels: int = 1, xrun: bool = False
    ) -> None:
        pass

    def near_end(self, pcm: bytes, captured_at: float) -> bytes:
        return pcm

    def open_now(self) -> None:
        pass


class AutoEcho:
    """`--echo auto`: the canceller always runs (so it has converged whenever it is needed);
    what is sent is its output while its path tracker finds the speaker in the microphone,
    the microphone untouched while it finds the speaker played and the microphone did not
    hear it. After the devices change it starts over with the canceller."""

    muted = False

    def __init__(self, canceller: EchoCanceller):
        self.canceller = canceller
        self.mode = "aec"
        self.reason = CHECKING
        self._raw: collections.deque[bytes] = collections.deque()  # what the canceller still holds
        self._reopened = canceller.stats.reopened

    def far_end(
        self, pcm: bytes, played_at: float, *, rate: int | None = None, channels: int = 1, xrun: bool = False
    ) -> None:
        self.canceller.far_end(pcm, played_at, rate=rate, channels=channels, xrun=xrun)

    def near_end(self, pcm: bytes, captured_at: float) -> bytes:
        clean = self.canceller.near_end(pcm, captured_at)
        raw = self._untouched(pcm, len(clean))
        if self.canceller.stats.reopened != self._reopened:  # the devices changed: check again
            self._reopened = self.canceller.stats.reopened
            self._choose("aec", CHECKING_AGAIN)
        heard = self.canceller.tracker.heard
        if heard and self.mode != "aec":
            self._choose("aec", HEARD)
        elif heard is False and self.mode != "off":
            self._choose("off", NOT_HEARD)
        elif heard and self.reason != HEARD:
            self.reason = HEARD
        return clean if self.mode == "aec" else raw

    def _untouched(self, pcm: bytes, length: int) -> bytes:
        """The microphone as it came, as much of it as the canceller returned (it may hold some)."""
        self._raw.append(pcm)
        out = bytearray()
        while len(out) < length:
            piece = self._raw.popleft()
            take = min(len(piece), length - len(out))
            out += piece[:take]
            if take < len(piece):
                self._raw.appendleft(piece[take:])
        return bytes(out)

    def _choose(self, mode: str, reason: str) -> None:
        if mode == "aec" and self.mode != "aec":
            self.canceller.guard.alert()  # it may not have seen this echo yet
        self.mode, self.reason = mode, reason

    def open_now(self) -> None:
        self.canceller.open_now()


CHECKING = "checking whether the microphone hears the speaker"
CHECKING_AGAIN = "the devices changed: checking again"
HEARD = "the microphone hears the speaker"
NOT_HEARD = "the microphone does not hear the speaker (headphones?)"


@dataclasses.dataclass
class EchoChoice:
    control: EchoControl
    notice: str | None = None  # one line for the user when the wish could not be granted

    @property
    def mode(self) -> str:
        return self.control.mode


def make_echo(mode: str = MODES[0], *, rate: int = INPUT_RATE, backend: str | None = None) -> EchoChoice:
    """The echo control for `--echo MODE`; `auto` and `aec` without a canceller fall back to
    half duplex, with a one-line notice saying why and how to get it."""
    if mode == "off":
        return EchoChoice(NoEcho())
    if mode == "half-duplex":
        return EchoChoice(HalfDuplexGate(rate))
    if mode not in MODES:
        raise ValueError(f"unknown echo mode '{mode}' (expected one of {', '.join(MODES)})")
    try:
        canceller = EchoCanceller(rate, backend=backend)
    except EchoUnavailable as exc:
        gate = HalfDuplexGate(rate)
        gate.reason = f"no echo canceller: {exc}"
        return EchoChoice(gate, notice=f"echo: half duplex, the microphone is muted while Gemini speaks: {exc}")
    return EchoChoice(AutoEcho(canceller) if mode == "auto" else canceller)
