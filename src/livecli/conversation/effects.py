"""What the conversation core asks the talk shell (or replay) to carry out."""

from __future__ import annotations

import dataclasses

from livecli import events, records
from livecli.state import ToolActivity
from livecli.transcript import Turn

# -- effects ----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class Play:
    pcm: bytes
    rate: int


@dataclasses.dataclass(frozen=True, slots=True)
class Flush:
    """Silence the speaker now, dropping what it holds."""


@dataclasses.dataclass(frozen=True, slots=True)
class EndOfTurn:
    """No more audio for this answer: play out what the speaker holds."""


@dataclasses.dataclass(frozen=True, slots=True)
class OpenMic:
    """Open a half-duplex microphone at once (the user stopped the answer)."""


@dataclasses.dataclass(frozen=True, slots=True)
class SendAudio:
    pcm: bytes
    captured_at: float  # when the chunk's last sample was captured


@dataclasses.dataclass(frozen=True, slots=True)
class SendTextToModel:
    text: str


@dataclasses.dataclass(frozen=True, slots=True)
class SendContext:
    """Tell the model something without asking for an answer (it also stops what it is generating)."""

    text: str


@dataclasses.dataclass(frozen=True, slots=True)
class UpdateSystem:
    """A new system instruction for the rest of the session (no new session)."""

    text: str


@dataclasses.dataclass(frozen=True, slots=True)
class SendPicture:
    jpeg: bytes
    mime_type: str


@dataclasses.dataclass(frozen=True, slots=True)
class RecordPicture:
    jpeg: bytes
    mime_type: str


@dataclasses.dataclass(frozen=True, slots=True)
class PauseSharing:
    paused: bool


@dataclasses.dataclass(frozen=True, slots=True)
class RequestLook:
    """Ask the shared source for a fresh frame now."""


@dataclasses.dataclass(frozen=True, slots=True)
class LoadPicture:
    """Read a picture file (`/image PATH`) off the loop; it comes back as a `Picture` input."""

    path: str


@dataclasses.dataclass(frozen=True, slots=True)
class EndAudioStream:
    """Tell the service the microphone went quiet on purpose."""


@dataclasses.dataclass(frozen=True, slots=True)
class RunTools:
    calls: tuple[events.FunctionCall, ...]


@dataclasses.dataclass(frozen=True, slots=True)
class SendToolResults:
    results: tuple[events.FunctionResult, ...]


@dataclasses.dataclass(frozen=True, slots=True)
class CancelTools:
    ids: tuple[str, ...]


@dataclasses.dataclass(frozen=True, slots=True)
class ResolveApproval:
    yes: bool


@dataclasses.dataclass(frozen=True, slots=True)
class Record:
    record: records.Record


@dataclasses.dataclass(frozen=True, slots=True)
class RecordAudio:
    stream: str  # "user" or "model"
    pcm: bytes
    rate: int
    at: float | None = None  # for "user": when the chunk's last sample was captured


@dataclasses.dataclass(frozen=True, slots=True)
class ShowTurn:
    turn: Turn


@dataclasses.dataclass(frozen=True, slots=True)
class ShowTool:
    activity: ToolActivity


@dataclasses.dataclass(frozen=True, slots=True)
class Notify:
    message: str


@dataclasses.dataclass(frozen=True, slots=True)
class Measure:
    name: str
    seconds: float


@dataclasses.dataclass(frozen=True, slots=True)
class Standby:
    """Close the connection (keeping its resumption handle) and the speaker; keep listening locally."""


@dataclasses.dataclass(frozen=True, slots=True)
class Wake:
    """Someone spoke or typed: reopen the speaker and the connection."""


@dataclasses.dataclass(frozen=True, slots=True)
class Stop:
    """End the session cleanly; `reason` goes into the record as how it ended."""

    reason: str = "user"


Effect = (
    Play
    | Flush
    | EndOfTurn
    | OpenMic
    | SendAudio
    | SendTextToModel
    | SendContext
    | UpdateSystem
    | SendPicture
    | RecordPicture
    | PauseSharing
    | RequestLook
    | LoadPicture
    | EndAudioStream
    | RunTools
    | SendToolResults
    | CancelTools
    | ResolveApproval
    | Record
    | RecordAudio
    | ShowTurn
    | ShowTool
    | Notify
    | Measure
    | Standby
    | Wake
    | Stop
)
