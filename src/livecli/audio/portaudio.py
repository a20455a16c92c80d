"""The process's one PortAudio: loading it, keeping it quiet, re-scanning its devices.

PortAudio fixes its device list (and the system defaults) when it initialises;
terminating and initialising it again is the only way to see a device plugged
in since. Terminating frees every open stream under sounddevice's feet, so a
re-scan first asks every open stream (they register here) to let go of its
PortAudio stream; they reopen on their own afterwards.

PortAudio prints diagnostics straight to file descriptor 2 when a probe fails
("Expression ... failed"): calls that may fail run inside `quiet()` so the user
sees livecli's one-line messages, not that noise. ALSA's own lines are silenced
for the whole process when PortAudio is first loaded (see `alsa`).

Callbacks get PortAudio's timestamps on its own clock; `dac_time` and `adc_time`
turn them into time.monotonic(), so the echo canceller can line up what the
speaker played with what the microphone heard.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from typing import Protocol

from livecli.audio import alsa
from livecli.errors import AudioError

PORTAUDIO_HINT = (
    "install PortAudio: `sudo apt-get install libportaudio2` (Debian/Ubuntu), `brew install portaudio` (macOS)"
)

# Held around every call that opens, closes or re-scans, so a re-scan never
# races an open stream.
lock = threading.RLock()


class Releasable(Protocol):
    def release_for_rescan(self) -> None:
        """Close the PortAudio stream now; reopen it later."""


_open: set[Releasable] = set()


def sounddevice():
    """Import sounddevice on first use, with ALSA's own error lines silenced (see `alsa`);
    a missing PortAudio is a one-line error."""
    alsa.silence()
    try:
        import sounddevice as sd
    except OSError as exc:
        raise AudioError(f"PortAudio library not found ({exc}); {PORTAUDIO_HINT}") from None
    return sd


@contextlib.contextmanager
def quiet():
    """Send fd 2 to /dev/null for the duration (PortAudio/ALSA probe noise)."""
    with lock:
        sys.stderr.flush()
        try:
            saved = os.dup(2)
        except OSError:  # no stderr at all: nothing to silence
            yield
            return
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def register(stream: Releasable) -> None:
    with lock:
        _open.add(stream)


def unregister(stream: Releasable) -> None:
    with lock:
        _open.discard(stream)


def rescan() -> None:
    """Re-read the device list: every registered stream lets go first."""
    sd = sounddevice()
    with lock:
        for stream in list(_open):
            stream.release_for_rescan()
        with quiet():
            sd._terminate()
            sd._initialize()


def version() -> str:
    return sounddevice().get_portaudio_version()[1]


def dac_time(time_info, *, now: float | None = None, fallback_latency: float = 0.0) -> float:
    """In an output callback: when the block's first sample reaches the DAC, in time.monotonic().

    PortAudio's times are on its own clock (CLOCK_REALTIME through ALSA): only the difference
    `outputBufferDacTime - currentTime` is used. Host APIs that leave them at 0 get
    `now + fallback_latency` (pass the stream's `latency`)."""
    now = time.monotonic() if now is None else now
    ahead = time_info.outputBufferDacTime - time_info.currentTime
    if time_info.currentTime <= 0 or time_info.outputBufferDacTime <= 0 or not 0 <= ahead < 2.0:
        ahead = fallback_latency
    return now + ahead


def adc_time(time_info, *, now: float | None = None, fallback_latency: float = 0.0, block_s: float = 0.0) -> float:
    """In an input callback: when the block's first sample left the ADC, in time.monotonic().
    Without PortAudio times: `now - fallback_latency - block_s` (the block's length)."""
    now = time.monotonic() if now is None else now
    behind = time_info.currentTime - time_info.inputBufferAdcTime
    if time_info.currentTime <= 0 or time_info.inputBufferAdcTime <= 0 or not 0 <= behind < 2.0:
        behind = fallback_latency + block_s
    return now - behind
