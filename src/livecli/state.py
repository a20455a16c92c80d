"""What a talk session shows: one object the session updates and views render."""

from __future__ import annotations

import dataclasses
import time

from livecli.events import AssistantState, ConnectionState
from livecli.transcript import Transcript


@dataclasses.dataclass
class TalkState:
    model: str
    voice: str | None
    transcript: Transcript
    started_at: float = dataclasses.field(default_factory=time.monotonic)
    connection: ConnectionState = ConnectionState.CONNECTING
    assistant: AssistantState = AssistantState.CONNECTING
    mic_level_dbfs: float = -96.0
    muted: bool = False
    typing: bool = False
    typed: str = ""
    total_tokens: int = 0
    notice: str = ""

    @property
    def elapsed_s(self) -> float:
        return time.monotonic() - self.started_at
