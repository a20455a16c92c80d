"""Finding PortAudio devices by index or by a part of their name."""

from __future__ import annotations

import dataclasses
from typing import Any, Literal

from livecli.audio.portaudio import quiet, sounddevice
from livecli.errors import AudioError
from livecli.formats import INPUT_RATE, OUTPUT_RATE

Direction = Literal["input", "output"]
# Rates `devices test` asks about: telephony, the Live API's two, and the usual hardware ones.
COMMON_RATES = (8000, INPUT_RATE, 22050, OUTPUT_RATE, 32000, 44100, 48000, 96000)


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


def default_index(direction: Direction) -> int | None:
    """The system default's index, or None when PortAudio has none ("device -1")."""
    sd = sounddevice()
    try:
        return sd.query_devices(kind=direction)["index"]
    except sd.PortAudioError:
        return None


def _device(info: dict[str, Any], hostapis) -> Device:
    return Device(
        index=info["index"],
        name=info["name"],
        hostapi=hostapis[info["hostapi"]]["name"],
        max_input_channels=info["max_input_channels"],
        max_output_channels=info["max_output_channels"],
        default_samplerate=info["default_samplerate"],
    )


NOTHING_FOUND_HINT = "is a device plugged in, and the sound server (PulseAudio, PipeWire) running?"


def default_device(direction: Direction) -> Device:
    """The system default; PortAudio's "Error querying device -1" becomes a reason and a way out."""
    sd = sounddevice()
    try:
        info = sd.query_devices(kind=direction)
    except sd.PortAudioError as exc:
        kind = kind_of(direction)
        if not any(d.channels(direction) for d in list_devices()):
            raise AudioError(f"no {kind} found: PortAudio sees none; {NOTHING_FOUND_HINT}") from None
        option = "--input-device" if direction == "input" else "--output-device"
        raise AudioError(f"no default {kind} ({exc}); choose one with {option} or `livecli devices pick`") from None
    return _device(info, sd.query_hostapis())


def supported_rates(device: Device, direction: Direction) -> list[int]:
    """Which of COMMON_RATES the device accepts, mono or stereo (PortAudio's own check)."""
    sd = sounddevice()
    check = sd.check_input_settings if direction == "input" else sd.check_output_settings
    channel_counts = [c for c in (1, 2) if c <= device.channels(direction)]
    accepted = []
    with quiet():
        for rate in COMMON_RATES:
            for channels in channel_counts:
                try:
                    check(device=device.index, samplerate=rate, channels=channels, dtype="int16")
                except sd.PortAudioError:
                    continue
                accepted.append(rate)
                break
    return accepted


def resolve(spec: str | None, direction: Direction) -> Device:
    """The device a user means: None = system default, a number = index, else a name part."""
    if spec is None:
        return default_device(direction)
    return match(spec, list_devices(), direction)


def match(spec: str, devices: list[Device], direction: Direction) -> Device:
    """Pick one device by index or unique case-insensitive name substring.

    An exact name wins over substrings. One device seen through several host
    APIs (Windows lists a microphone under MME, DirectSound and WASAPI) has the
    same name each time: the first, PortAudio's default host API, is taken.
    """
    usable = [d for d in devices if d.channels(direction) > 0]
    kind = kind_of(direction)
    if spec.strip().isdigit():
        index = int(spec)
        for device in usable:
            if device.index == index:
                return device
        raise AudioError(f"no {kind} with index {index}; {_candidates(usable)}")
    needle = spec.strip().lower()
    for found in (
        [d for d in usable if d.name.lower() == needle],
        [d for d in usable if needle in d.name.lower()],
    ):
        if found and len({d.name for d in found}) == 1:
            return found[0]
        if found:
            raise AudioError(f"'{spec}' matches several {kind}s; {_candidates(found)}")
    raise AudioError(f"no {kind} matches '{spec}'; {_candidates(usable)}")


def kind_of(direction: Direction) -> str:
    return "microphone" if direction == "input" else "speaker"


def _candidates(devices: list[Device]) -> str:
    if not devices:
        return "no devices of that kind were found"
    listed = ", ".join(f"{d.index}: {d.name} ({d.hostapi})" for d in devices)
    return f"candidates: {listed}"
