"""What the Live connection reports, in livecli's own terms.

The connection module translates the SDK's messages into these, so the
session, the UI and (later) storage never see `google.genai` types.
"""

from __future__ import annotations

import dataclasses
import enum


class AssistantState(enum.Enum):
    CONNECTING = "connecting"
    LISTENING = "listening"
    THINKING = "thinking"
    SPEAKING = "speaking"
    RUNNING_TOOL = "running a tool"
    MUTED = "muted"
    HEARING = "hearing you"
    WORKING = "working…"
    ENDED = "ended"


class ConnectionState(enum.Enum):
    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    STANDBY = "standby"  # no connection until someone speaks: an idle session costs nothing
    CLOSED = "closed"


@dataclasses.dataclass(frozen=True, slots=True)
class ModelAudio:
    pcm: bytes  # int16 mono little-endian
    rate: int


@dataclasses.dataclass(frozen=True, slots=True)
class ModelText:
    text: str


@dataclasses.dataclass(frozen=True, slots=True)
class InputTranscript:
    text: str


@dataclasses.dataclass(frozen=True, slots=True)
class OutputTranscript:
    text: str


@dataclasses.dataclass(frozen=True, slots=True)
class Interrupted:
    pass


@dataclasses.dataclass(frozen=True, slots=True)
class TurnComplete:
    pass


@dataclasses.dataclass(frozen=True, slots=True)
class TurnEndReason:
    """Why the service ended a turn the way it did (a refused input or answer, a malformed tool
    call, more input needed): `reason` is the service's word, `explanation` a sentence for the user."""

    reason: str
    explanation: str


@dataclasses.dataclass(frozen=True, slots=True)
class WaitingForInput:
    """The model is done for now and waits for the user (nothing more will come unprompted)."""


@dataclasses.dataclass(frozen=True, slots=True)
class GenerationComplete:
    """The model has generated its whole answer; it may still be playing (turnComplete follows)."""


@dataclasses.dataclass(frozen=True, slots=True)
class InteractionStatus:
    """Background work: IN_PROGRESS means more output may follow even after a turn completes
    (the model may speak again for the same request); IDLE means it is done."""

    status: str

    @property
    def working(self) -> bool:
        return self.status == "IN_PROGRESS"


@dataclasses.dataclass(frozen=True, slots=True)
class VoiceActivity:
    """The service hears speech start (True) or stop (False)."""

    speaking: bool


@dataclasses.dataclass(frozen=True, slots=True)
class InterimInputTranscript:
    """The service's running guess at what the user is saying (replaced, not appended)."""

    text: str


@dataclasses.dataclass(frozen=True, slots=True)
class GroundingSource:
    title: str
    uri: str


@dataclasses.dataclass(frozen=True, slots=True)
class Grounding:
    """The answer is grounded in Google Search: the pages it used and the queries it ran."""

    sources: tuple[GroundingSource, ...]
    queries: tuple[str, ...]


@dataclasses.dataclass(frozen=True, slots=True)
class SessionId:
    """The service's id for this session (Vertex sends one with setupComplete)."""

    id: str


@dataclasses.dataclass(frozen=True, slots=True)
class Usage:
    """One usage report: the service reports each turn's own usage (the whole context so far is
    billed again as prompt). `*_by_modality` maps TEXT/AUDIO/IMAGE/VIDEO to tokens."""

    prompt_tokens: int
    response_tokens: int
    total_tokens: int
    thoughts_tokens: int = 0
    tool_use_tokens: int = 0
    cached_tokens: int = 0
    prompt_by_modality: dict[str, int] = dataclasses.field(default_factory=dict)
    response_by_modality: dict[str, int] = dataclasses.field(default_factory=dict)
    tool_use_by_modality: dict[str, int] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True, slots=True)
class GoAway:
    time_left_s: float | None


@dataclasses.dataclass(frozen=True, slots=True)
class ResumptionHandle:
    handle: str | None
    resumable: bool


@dataclasses.dataclass(frozen=True, slots=True)
class FunctionCall:
    id: str | None
    name: str
    args: dict


@dataclasses.dataclass(frozen=True, slots=True)
class ToolCall:
    """The model asks for one or more functions; answer them together."""

    calls: tuple[FunctionCall, ...]


@dataclasses.dataclass(frozen=True, slots=True)
class ToolCallCancellation:
    ids: tuple[str, ...]


@dataclasses.dataclass(frozen=True, slots=True)
class FunctionResult:
    """What goes back to the model for one call: `response` is a JSON-able dict
    ({"result": ...} or {"error": ...}); `scheduling` is for non-blocking tools."""

    id: str | None
    name: str
    response: dict
    scheduling: str | None = None


class CallState(enum.Enum):
    WAITING_APPROVAL = "waiting for approval"
    RUNNING = "running"
    DONE = "done"
    ERROR = "error"
    CANCELLED = "cancelled"
    REFUSED = "refused"


@dataclasses.dataclass(frozen=True, slots=True)
class ToolCallStatus:
    """A call changed state (reported by the tool runner); `response` is what the model
    was sent, once it was; `approval` how the call was let through ("auto", "approved",
    "yolo") or kept out ("refused", "no answer" in time, "denied" by policy)."""

    id: str | None
    name: str
    args: dict
    state: CallState
    duration_s: float | None = None  # running time, once the call has run
    response: dict | None = None
    approval: str | None = None

    @property
    def finished(self) -> bool:
        return self.state not in (CallState.WAITING_APPROVAL, CallState.RUNNING)


@dataclasses.dataclass(frozen=True, slots=True)
class LinkChange:
    """The connection to the service changed (reported by the resilient link).

    `gap_s` is how long no connection carried audio (on CONNECTED after a
    reconnection); `resumed` says whether the server-side session continued;
    `dropped_s` is microphone audio lost meanwhile because the buffers were full.
    """

    state: ConnectionState
    reason: str = ""
    attempt: int = 0
    gap_s: float | None = None
    resumed: bool | None = None
    dropped_s: float = 0.0


LiveEvent = (
    ModelAudio
    | ModelText
    | InputTranscript
    | OutputTranscript
    | Interrupted
    | TurnComplete
    | TurnEndReason
    | WaitingForInput
    | GenerationComplete
    | InteractionStatus
    | VoiceActivity
    | InterimInputTranscript
    | Grounding
    | SessionId
    | Usage
    | GoAway
    | ResumptionHandle
    | ToolCall
    | ToolCallCancellation
    | LinkChange
)
