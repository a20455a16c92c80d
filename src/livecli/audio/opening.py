"""Opening a PortAudio stream in the first format the device takes.

livecli wants 16 kHz mono in and 24 kHz mono out. Many devices refuse that:
ALSA `hw:` devices and USB interfaces run at 44.1 or 48 kHz only (PortAudio
says "Invalid sample rate", or "Unanticipated host error" through ALSA
plugins), and some devices are stereo only. We try the wanted rate, the
device's own default rate, 48 and 44.1 kHz, each mono then stereo, and
resample and down/up-mix ourselves. Each format is really opened and started:
PortAudio's format check can pass for a format the device then fails to open.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from livecli.audio.devices import Device, Direction, kind_of
from livecli.audio.portaudio import quiet
from livecli.errors import AudioError

# PortAudio error codes after which another format will not help.
PA_INVALID_DEVICE = -9996
PA_DEVICE_UNAVAILABLE = -9985
DEVICE_GONE = {PA_INVALID_DEVICE, PA_DEVICE_UNAVAILABLE}


@dataclasses.dataclass(frozen=True)
class StreamFormat:
    rate: int
    channels: int

    def __str__(self) -> str:
        layout = {1: "mono", 2: "stereo"}.get(self.channels, f"{self.channels} channels")
        return f"{self.rate} Hz {layout}"


def candidate_formats(device: Device, direction: Direction, wanted_rate: int) -> list[StreamFormat]:
    rates = dict.fromkeys([wanted_rate, int(device.default_samplerate), 48000, 44100])
    channel_counts = [c for c in (1, 2) if c <= device.channels(direction)]
    return [StreamFormat(rate, channels) for rate in rates for channels in channel_counts]


def open_stream(
    sd,
    device: Device,
    direction: Direction,
    wanted_rate: int,
    *,
    block_ms: int,
    make_callback: Callable[[StreamFormat], Callable],
    finished_callback: Callable[[], None] | None = None,
) -> tuple[Any, StreamFormat]:
    """A started stream in the first format that works, and that format."""
    stream_class = sd.RawInputStream if direction == "input" else sd.RawOutputStream
    first_error: Exception | None = None
    for fmt in candidate_formats(device, direction, wanted_rate):
        stream = None
        try:
            with quiet():  # not around start(): a start that hangs would keep stderr silenced
                stream = stream_class(
                    samplerate=fmt.rate,
                    blocksize=int(fmt.rate * block_ms / 1000),
                    device=device.index,
                    channels=fmt.channels,
                    dtype="int16",
                    latency="low",
                    callback=make_callback(fmt),
                    finished_callback=finished_callback,
                )
            stream.start()
        except (sd.PortAudioError, ValueError) as exc:  # ValueError: sounddevice's own device check
            if stream is not None:
                discard(stream)
            first_error = first_error or exc
            if error_code(exc) in DEVICE_GONE:
                break
            continue
        return stream, fmt
    reason = "it has no channels in that direction" if first_error is None else describe_error(first_error)
    raise AudioError(f"cannot open {kind_of(direction)} '{device.name}': {reason}")


def discard(stream) -> None:
    """Abort and close; sounddevice ignores the errors of a stream that already died."""
    stream.abort()
    stream.close()


def error_code(exc: Exception) -> int | None:
    args = getattr(exc, "args", ())
    return args[1] if len(args) > 1 and isinstance(args[1], int) else None


def describe_error(exc: Exception) -> str:
    """PortAudio's message without sounddevice's "Error opening RawInputStream: " prefix."""
    text = str(exc)
    return text.split(": ", 1)[1] if text.startswith("Error ") and ": " in text else text
