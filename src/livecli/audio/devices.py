"""Finding PortAudio devices by index or by a part of their name."""

from __future__ import annotations

import dataclasses
from typing import Any, Literal

from livecli.errors import AudioError

Direction = Literal["input", "output"]
PORTAUDIO_HINT = "install PortAudio: `sudo apt-get install libportaudio2` (Debian/Ubuntu), `brew install portaudio` (macOS)"


def sounddevice():
    """Import sounddevice on first use; a missing PortAudio is a one-line error."""
    try:
        import sounddevice as sd
    except OSError as exc:
        raise AudioError(f"PortAudio library not found ({exc}); {PORTAUDIO_HINT}") from None
    return sd


@dataclasses.dataclass(frozen=True)
class Device:
    index: int
    name: str
    hostapi: str
    max_input_channels: int
    max_output_channels: int
    default_samplerate: float

    def channels(self, direction: Direction) -> int:
        return self.max_input_channels if direction == "input" else self.max_output_channels


def list_devices() -> list[Device]:
    sd = sounddevice()
    hostapis = sd.query_hostapis()
    return [_device(info, hostapis) for info in sd.query_devices()]


def _device(info: dict[str, Any], hostapis) -> Device:
    return Device(
        index=info["index"],
        name=info["name"],
        hostapi=hostapis[info["hostapi"]]["name"],
        max_input_channels=info["max_input_channels"],
        max_output_channels=info["max_output_channels"],
        default_samplerate=info["default_samplerate"],
    )


def default_device(direction: Direction) -> Device:
    sd = sounddevice()
    try:
        info = sd.query_devices(kind=direction)
    except sd.PortAudioError as exc:
        raise AudioError(f"no default {direction} device ({exc}); list devices with `livecli devices`") from None
    return _device(info, sd.query_hostapis())


def resolve(spec: str | None, direction: Direction) -> Device:
    """The device a user means: None = system default, a number = index, else a name part."""
    if spec is None:
        return default_device(direction)
    return match(spec, list_devices(), direction)


def match(spec: str, devices: list[Device], direction: Direction) -> Device:
    """Pick one device by index or unique case-insensitive name substring."""
    usable = [d for d in devices if d.channels(direction) > 0]
    kind = "microphone" if direction == "input" else "speaker"
    if spec.strip().isdigit():
        index = int(spec)
        for device in usable:
            if device.index == index:
                return device
        raise AudioError(f"no {kind} with index {index}; {_candidates(usable)}")
    needle = spec.strip().lower()
    exact = [d for d in usable if d.name.lower() == needle]
    if len(exact) == 1:
        return exact[0]
    found = [d for d in usable if needle in d.name.lower()]
    if len(found) == 1:
        return found[0]
    if not found:
        raise AudioError(f"no {kind} matches '{spec}'; {_candidates(usable)}")
    raise AudioError(f"'{spec}' matches several {kind}s; {_candidates(found)}")


def _candidates(devices: list[Device]) -> str:
    if not devices:
        return "no devices of that kind were found"
    listed = ", ".join(f"{d.index}: {d.name}" for d in devices)
    return f"candidates: {listed}"
