"""WebRTC's AEC3 echo canceller, from whichever package provides it here.

`pywebrtc-audio` (a 0.4 MB wheel) is a dependency wherever it ships wheels; `livekit`
carries the same AEC3 behind a 30 MB FFI library and is used when that is what is
installed. Each backend cleans one 10 ms int16 frame at a time; `EchoUnavailable`
says in one line why none can run and what to install.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from livecli.formats import INPUT_RATE

INSTALL_HINT = "pipx inject livecli pywebrtc-audio"


class EchoUnavailable(RuntimeError):
    """No echo canceller can run here; the message says why in one line."""


class Backend(Protocol):
    name: str

    def process(self, near: np.ndarray, far: np.ndarray) -> np.ndarray:
        """Feed one reference frame, then clean one microphone frame (both int16, 10 ms)."""

    def set_delay_ms(self, delay_ms: int) -> None: ...


class _PyWebrtcAudio:
    """`pywebrtc-audio`: WebRTC's AEC3 (+ optional noise suppression) in a 0.4 MB wheel."""

    name = "pywebrtc-audio"

    def __init__(self, rate: int, noise_suppression: bool):
        from pywebrtc_audio import AudioProcessor

        self._ap = AudioProcessor(
            sample_rate=rate, echo_cancellation=True, noise_suppression=noise_suppression, ns_level=1
        )

    def process(self, near: np.ndarray, far: np.ndarray) -> np.ndarray:
        return self._ap.process(near, far)

    def set_delay_ms(self, delay_ms: int) -> None:
        self._ap.stream_delay_ms = max(0, int(delay_ms))


class _LiveKit:
    """`livekit`'s `rtc.AudioProcessingModule` (the same AEC3, behind a 30 MB FFI library)."""

    name = "livekit"

    def __init__(self, rate: int, noise_suppression: bool):
        from livekit import rtc

        self._rtc = rtc
        self._rate = rate
        self._apm = rtc.AudioProcessingModule(
            echo_cancellation=True, noise_suppression=noise_suppression, high_pass_filter=True
        )
        self._delay_ms = 0

    def process(self, near: np.ndarray, far: np.ndarray) -> np.ndarray:
        n = len(near)
        reverse = self._rtc.AudioFrame(far.tobytes(), self._rate, 1, n)
        self._apm.process_reverse_stream(reverse)
        frame = self._rtc.AudioFrame(near.tobytes(), self._rate, 1, n)
        self._apm.set_stream_delay_ms(self._delay_ms)  # "must be called" before each process_stream
        self._apm.process_stream(frame)
        return np.frombuffer(frame.data, dtype=np.int16).copy()

    def set_delay_ms(self, delay_ms: int) -> None:
        self._delay_ms = max(0, int(delay_ms))


BACKENDS = {"pywebrtc-audio": _PyWebrtcAudio, "livekit": _LiveKit}


def load_backend(name: str | None = None, *, rate: int = INPUT_RATE, noise_suppression: bool = True) -> Backend:
    """The named backend, or the first that imports; EchoUnavailable says what to install."""
    names = [name] if name else list(BACKENDS)
    reasons = []
    for candidate in names:
        try:
            return BACKENDS[candidate](rate, noise_suppression)
        except KeyError:
            raise EchoUnavailable(f"unknown echo canceller '{candidate}' (known: {', '.join(BACKENDS)})") from None
        except ImportError as exc:
            reasons.append(f"{candidate}: {exc}")
        except Exception as exc:  # a broken native library: say so, do not crash the session
            reasons.append(f"{candidate} failed to start: {exc}")
    if name is None and all("No module named" in r for r in reasons):
        raise EchoUnavailable(f"the echo canceller is not installed ({INSTALL_HINT})")
    raise EchoUnavailable("the echo canceller cannot run: " + "; ".join(reasons))


def available() -> bool:
    try:
        load_backend()
    except EchoUnavailable:
        return False
    return True
