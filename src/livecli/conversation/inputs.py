"""What the conversation core takes, besides Live events (`livecli.events`) and stored
records (`livecli.records`): device facts, the microphone, tool progress and the user's commands."""

from __future__ import annotations

import dataclasses

from livecli import events, records

# -- inputs that are not Live events ----------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class Connected:
    """The first connection is up: the service accepted the session."""


@dataclasses.dataclass(frozen=True, slots=True)
class MicChunk:
    """A microphone chunk after echo control; `ended_at` is when its last sample was captured."""

    pcm: bytes
    ended_at: float
    level_dbfs: float


@dataclasses.dataclass(frozen=True, slots=True)
class Tick:
    """What the devices say now (the shell asks them about ten times a second)."""

    speaker_active: bool = False
    playback_started_at: float | None = None  # when the speaker last began to sound after silence
    mic_down: bool = False  # the microphone is being reopened: no chunks arrive
    mic_gated: bool = False  # half duplex: the microphone is off while Gemini speaks
    device_status: str | None = None
    now: float = 0.0  # time.monotonic(), for the idle timer
    queued_s: float = 0.0  # model audio the speaker holds, not yet heard
    echo: str | None = None  # the echo control's mode and why ("aec: the microphone hears the speaker")


@dataclasses.dataclass(frozen=True, slots=True)
class DeviceNotice:
    message: str


@dataclasses.dataclass(frozen=True, slots=True)
class ApprovalAsked:
    call: events.FunctionCall


@dataclasses.dataclass(frozen=True, slots=True)
class ApprovalClosed:
    """The question is no longer open (answered, timed out or cancelled)."""


@dataclasses.dataclass(frozen=True, slots=True)
class SendText:
    text: str


@dataclasses.dataclass(frozen=True, slots=True)
class ToggleMute:
    pass


@dataclasses.dataclass(frozen=True, slots=True)
class Hush:
    """Stop the assistant talking (the interrupt key, for half duplex above all)."""


@dataclasses.dataclass(frozen=True, slots=True)
class Answer:
    """y or n to the tool call waiting for approval."""

    yes: bool


@dataclasses.dataclass(frozen=True, slots=True)
class Quit:
    pass


@dataclasses.dataclass(frozen=True, slots=True)
class ToggleSharing:
    """Pause or resume sharing the screen or camera."""


@dataclasses.dataclass(frozen=True, slots=True)
class LookNow:
    """Send a fresh frame of what is shared now, changed or not."""


@dataclasses.dataclass(frozen=True, slots=True)
class SharingStarted:
    description: str  # "screen 1 (1920x1080)"


@dataclasses.dataclass(frozen=True, slots=True)
class SharingStopped:
    reason: str  # one line: why the picture source stopped (the conversation goes on)


@dataclasses.dataclass(frozen=True, slots=True)
class Picture:
    """A picture ready to show the model: a frame of what is shared, or a file (`/image PATH`)."""

    jpeg: bytes
    mime_type: str
    width: int
    height: int
    source: str
    asked: bool = False  # the user asked for it (/image), not the shared screen's change


@dataclasses.dataclass(frozen=True, slots=True)
class InputEnded:
    """Typed input (a pipe, a file, /dev/null) has run out: end once every question is answered."""


@dataclasses.dataclass(frozen=True, slots=True)
class Ended:
    """The session is over (`reason` goes into the record's exit reason)."""

    error: str | None = None


Command = SendText | ToggleMute | Hush | Answer | Quit | InputEnded | ToggleSharing | LookNow
Input = (
    events.LiveEvent
    | events.ToolCallStatus
    | Connected
    | MicChunk
    | Tick
    | DeviceNotice
    | ApprovalAsked
    | ApprovalClosed
    | SharingStarted
    | SharingStopped
    | Picture
    | Command
    | Ended
    | records.Record
)
