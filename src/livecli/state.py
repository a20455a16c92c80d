"""What a talk session shows: one object the session updates and views render."""

from __future__ import annotations

import dataclasses
import time

from livecli.events import AssistantState, ConnectionState
from livecli.formats import shorten
from livecli.pricing import BUDGET_WARNING, Cost, UsageTotals
from livecli.transcript import Transcript

ARGUMENT_CHARS = 60
SUMMARY_CHARS = 80


def describe_arguments(args: dict) -> str:
    """Call arguments as the user reads them: name=value, shortened."""
    return shorten(", ".join(f"{name}={value!r}" for name, value in args.items()), ARGUMENT_CHARS)


@dataclasses.dataclass
class ToolActivity:
    """One tool call as the user sees it."""

    name: str
    args: str
    state: str
    duration_s: float | None = None
    summary: str = ""
    finished: bool = False
    after_turn: int = 0  # how many turns the transcript held when the call came: it shows after them

    def line(self) -> str:
        timing = f", {self.duration_s:.1f} s" if self.duration_s is not None else ""
        result = f" → {self.summary}" if self.summary else ""
        return f"Tool: {self.name}({self.args}){result} [{self.state}{timing}]"


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
    mic_gated: bool = False  # half duplex: the microphone is off while Gemini speaks
    typing: bool = False
    typed: str = ""
    usage: UsageTotals = dataclasses.field(default_factory=UsageTotals)  # summed usage reports
    cost: Cost | None = None  # the estimate for `usage`, once there is one
    budget_usd: float | None = None
    reply_latency_ms: float | None = None  # voice to voice, last answer
    notice: str = ""
    device_status: str | None = None  # while a device is down or replaced by the default
    tools: dict[str, ToolActivity] = dataclasses.field(default_factory=dict)  # by call id
    approval: str | None = None  # the question while a tool call waits for y/n
    replaying: bool = False  # `livecli replay`: a recording, not a live connection
    working: bool = False  # the model works in the background: more may come after its answer
    hearing: bool = False  # the service hears the user speak
    interim: str = ""  # the service's running guess at what the user is saying
    system: str | None = None  # a system instruction changed in the session (`/system TEXT`)
    sharing: str | None = None  # what the model is shown ("screen 1 (1920x1080)"), while shared
    sharing_paused: bool = False
    echo: str | None = None  # which echo control is active and why

    @property
    def near_budget(self) -> bool:
        """The estimate has come within sight of the budget (BUDGET_WARNING of it)."""
        usd = self.cost.usd if self.cost is not None else None
        return self.budget_usd is not None and usd is not None and usd >= BUDGET_WARNING * self.budget_usd

    @property
    def elapsed_s(self) -> float:
        return time.monotonic() - self.started_at
