"""What a session record holds: one frozen dataclass per stored kind.

The conversation core produces these, the recorder stores them, and the store,
exports, timeline and replay read them back through `parse`. The kind names
below are the only place a stored kind is spelled (the schema's SQL aside).
A payload is stored as JSON; reading one back tolerates missing fields, so old
records stay readable.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar


@dataclasses.dataclass(frozen=True, slots=True)
class UserTurn:
    KIND: ClassVar[str] = "user_turn"
    text: str = ""
    typed: bool = False


@dataclasses.dataclass(frozen=True, slots=True)
class ModelTurn:
    """`sources` ({"title", "uri"}) and `queries`: the Google Search results the answer is grounded in."""

    KIND: ClassVar[str] = "model_turn"
    text: str = ""
    interrupted: bool = False
    sources: list = dataclasses.field(default_factory=list)
    queries: list = dataclasses.field(default_factory=list)


@dataclasses.dataclass(frozen=True, slots=True)
class ToolCalled:
    """The model asked for a function (before approval or running)."""

    KIND: ClassVar[str] = "tool_call"
    id: str | None = None
    name: str = ""
    args: dict = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True, slots=True)
class ToolFinished:
    """How a call ended: `response` is what the model was sent ({"result": …} or {"error": …});
    `approval` how it was let through ("auto", "approved", "yolo") or kept out ("refused",
    "no answer", "denied")."""

    KIND: ClassVar[str] = "tool_result"
    id: str | None
    name: str
    response: dict
    state: str
    approval: str | None = None
    duration_s: float | None = None

    def payload(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            **self.response,
            "state": self.state,
            "approval": self.approval,
            "duration_s": self.duration_s,
        }

    @classmethod
    def from_payload(cls, data: dict) -> ToolFinished:
        duration = data.get("duration_s")
        return cls(
            id=_optional_str(data.get("id")),
            name=str(data.get("name") or ""),
            response={key: data[key] for key in ("result", "error") if key in data},
            state=str(data.get("state") or "done"),
            approval=_optional_str(data.get("approval")),
            duration_s=float(duration) if isinstance(duration, (int, float)) else None,
        )


@dataclasses.dataclass(frozen=True, slots=True)
class Interruption:
    """The model's answer was cut: by the service (the user spoke) or by a key (`by="key"`)."""

    KIND: ClassVar[str] = "interrupted"
    by: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class UsageReport:
    """One usage report from the service: each counts its own turn. The details give
    tokens per modality ("AUDIO", "TEXT", "IMAGE", "VIDEO"), as the service names them."""

    KIND: ClassVar[str] = "usage"
    prompt_tokens: int = 0
    response_tokens: int = 0
    total_tokens: int = 0
    prompt_details: dict = dataclasses.field(default_factory=dict)
    response_details: dict = dataclasses.field(default_factory=dict)
    thoughts_tokens: int = 0
    tool_use_prompt_tokens: int = 0


@dataclasses.dataclass(frozen=True, slots=True)
class ResumptionHandle:
    KIND: ClassVar[str] = "resumption_handle"
    handle: str = ""


@dataclasses.dataclass(frozen=True, slots=True)
class Connected:
    """The service accepted the session (a start that never got here failed)."""

    KIND: ClassVar[str] = "connected"


@dataclasses.dataclass(frozen=True, slots=True)
class PictureSent:
    """A picture the model was shown: a frame of the shared screen or camera, or a file (`/image`).
    `kept`: its JPEG is in the record's pictures (record_pictures, with record_audio)."""

    KIND: ClassVar[str] = "picture"
    source: str = ""
    width: int = 0
    height: int = 0
    size: int = 0  # bytes of JPEG
    kept: bool = False


@dataclasses.dataclass(frozen=True, slots=True)
class ServiceSession:
    """The service's own id for the session (Vertex sends one), for support requests."""

    KIND: ClassVar[str] = "service_session"
    id: str = ""


@dataclasses.dataclass(frozen=True, slots=True)
class Reconnected:
    KIND: ClassVar[str] = "reconnect"
    reason: str = ""
    gap_s: float | None = None
    resumed: bool | None = None
    dropped_s: float = 0.0


@dataclasses.dataclass(frozen=True, slots=True)
class DeviceNotice:
    KIND: ClassVar[str] = "device"
    message: str = ""


@dataclasses.dataclass(frozen=True, slots=True)
class Notice:
    KIND: ClassVar[str] = "notice"
    message: str = ""


@dataclasses.dataclass(frozen=True, slots=True)
class Failure:
    """What ended the session with an error."""

    KIND: ClassVar[str] = "error"
    message: str = ""


Record = (
    UserTurn
    | ModelTurn
    | ToolCalled
    | ToolFinished
    | Interruption
    | UsageReport
    | ResumptionHandle
    | Connected
    | PictureSent
    | ServiceSession
    | Reconnected
    | DeviceNotice
    | Notice
    | Failure
)

KINDS: dict[str, type] = {
    cls.KIND: cls
    for cls in (
        UserTurn,
        ModelTurn,
        ToolCalled,
        ToolFinished,
        Interruption,
        UsageReport,
        ResumptionHandle,
        Connected,
        PictureSent,
        ServiceSession,
        Reconnected,
        DeviceNotice,
        Notice,
        Failure,
    )
}
TURNS = (UserTurn, ModelTurn)
# What `record_history = false` keeps out: everything that was said or done.
CONTENT = (UserTurn, ModelTurn, ToolCalled, ToolFinished)
UNREADABLE = "unreadable"  # how the store reports a payload it cannot read


def payload(record: Record) -> dict[str, Any]:
    """The JSON-able dict stored for `record`."""
    if isinstance(record, ToolFinished):
        return record.payload()
    return {
        field.name: value
        for field in dataclasses.fields(record)
        if (value := getattr(record, field.name)) or field.default_factory is dataclasses.MISSING  # no empty extras
    }


def parse(kind: str, data: dict) -> Record | None:
    """The record stored as `kind` with `data`; None for a kind this version does not know."""
    cls = KINDS.get(kind)
    if cls is None:
        return None
    if cls is ToolFinished:
        return ToolFinished.from_payload(data)
    return cls(**{field.name: data[field.name] for field in dataclasses.fields(cls) if field.name in data})


def _optional_str(value: Any) -> str | None:
    return None if value is None else str(value)
