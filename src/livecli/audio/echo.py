"""Keeping the assistant's own voice out of the microphone (`--echo aec|half-duplex|off`).

On a laptop without headphones the microphone hears the speaker. Sent as is, that
echo crosses the service's voice-activity detector and the model interrupts itself.

* `aec` -- `EchoCanceller` (echo_canceller.py): WebRTC's AEC3 removes the speaker's
  sound from each 10 ms microphone frame. Full duplex: the user can still interrupt by voice.
* `half-duplex` -- `HalfDuplexGate`: the microphone sends silence while the speaker
  plays (plus a short tail); the user interrupts with a key.
* `off` -- `NoEcho`: headphones.

All three are an `EchoControl`, called from the asyncio side:

    echo.far_end(block, played_at, rate=..., channels=...)   # every block the speaker played
    clean = echo.near_end(chunk, captured_at)                # every microphone chunk, before sending

The speaker is handed its echo control when it is built (`Speaker(..., echo=control)`)
and reports every block it plays, with PortAudio's timestamps.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Protocol

import numpy as np

from livecli.audio.aec_backends import EchoUnavailable
from livecli.audio.echo_canceller import EchoCanceller
from livecli.formats import INPUT_RATE, SAMPLE_BYTES

HALF_DUPLEX_TAIL_MS = 300
OPEN_GRACE_S = 0.2  # after open_now(): blocks already queued in the device do not mute again
SILENT_RMS = 30.0  # int16 RMS below which a played block counts as silence (about -61 dBFS)

MODES = ("aec", "half-duplex", "off")


class EchoControl(Protocol):
    """What the speaker, the microphone's sender and the interrupt key need of an echo control."""

    mode: str

    @property
    def muted(self) -> bool:
        """True while the microphone is being held back (half duplex, the model speaking)."""

    def far_end(self, pcm: bytes, played_at: float, *, rate: int | None = None, channels: int = 1, xrun: bool = False) -> None:
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

    def __init__(self, rate: int = INPUT_RATE, *, tail_ms: float = HALF_DUPLEX_TAIL_MS):
        self.rate = rate
        self.tail_s = tail_ms / 1000.0
        self._muted_until = float("-inf")
        self._spans: list[list[float]] = []  # [start, end + tail] of what the speaker played
        self._opened_at = float("-inf")

    def far_end(self, pcm: bytes, played_at: float, *, rate: int | None = None, channels: int = 1, xrun: bool = False) -> None:
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
    muted = False

    def far_end(self, pcm: bytes, played_at: float, *, rate: int | None = None, channels: int = 1, xrun: bool = False) -> None:
        pass

    def near_end(self, pcm: bytes, captured_at: float) -> bytes:
        return pcm

    def open_now(self) -> None:
        pass


@dataclasses.dataclass
class EchoChoice:
    control: EchoControl
    notice: str | None = None  # one line for the user when the wish could not be granted

    @property
    def mode(self) -> str:
        return self.control.mode


def make_echo(mode: str = "aec", *, rate: int = INPUT_RATE, backend: str | None = None) -> EchoChoice:
    """The echo control for `--echo MODE`; `aec` without a canceller falls back to half duplex,
    with a one-line notice saying why and how to get it."""
    if mode == "off":
        return EchoChoice(NoEcho())
    if mode == "half-duplex":
        return EchoChoice(HalfDuplexGate(rate))
    if mode != "aec":
        raise ValueError(f"unknown echo mode '{mode}' (expected one of {', '.join(MODES)})")
    try:
        return EchoChoice(EchoCanceller(rate, backend=backend))
    except EchoUnavailable as exc:
        notice = f"echo: half duplex, the microphone is muted while Gemini speaks: {exc}"
        return EchoChoice(HalfDuplexGate(rate), notice=notice)
