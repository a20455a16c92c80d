"""How the talk shell's devices are, asked about ten times a second.

The microphone and the speaker reopen themselves when lost and the echo control
may fall back; each poll gives what they told since (once per change) and how
they are now, as inputs of the conversation core.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from livecli.conversation import inputs
from livecli.formats import OUTPUT_RATE, seconds_of
from livecli.ports import EchoControl, Microphone, Speaker


class DeviceWatch:
    def __init__(self, microphone: Microphone, speaker: Speaker | None, echo: EchoControl | None):
        self._mic = microphone
        self._speaker = speaker
        self._echo = echo
        self._devices = [device for device in (microphone, speaker) if device is not None]

    def poll(self) -> Iterator[inputs.DeviceNotice | inputs.Tick]:
        """Each device's notices, then a `Tick`."""
        for device in self._devices:
            for message in device.pop_notices():
                yield inputs.DeviceNotice(message)
        speaker, echo = self._speaker, self._echo
        yield inputs.Tick(
            speaker_active=speaker is not None and speaker.active,
            playback_started_at=speaker.buffer.started_at if speaker is not None else None,
            mic_down=self._mic.status is not None,
            mic_gated=echo is not None and echo.muted,
            echo=f"{echo.mode}: {echo.reason}" if echo is not None else None,
            device_status=next((d.status for d in self._devices if d.status), None),
            now=time.monotonic(),
            queued_s=seconds_of(speaker.buffer.buffered_bytes, OUTPUT_RATE) if speaker is not None else 0.0,
        )
