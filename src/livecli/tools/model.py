"""What a tool is, once loaded, whatever its source (built-in, plugin, file, MCP)."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from google.genai import types

DEFAULT_TIMEOUT_S = 30.0


class Policy(enum.StrEnum):
    """Whether a call runs at once, waits for the user's yes, or is always refused."""

    AUTO = "auto"
    ASK = "ask"
    DENY = "deny"


class Scheduling(enum.StrEnum):
    """When the model takes a non-blocking tool's answer (the Live API's FunctionResponseScheduling)."""

    INTERRUPT = "INTERRUPT"
    WHEN_IDLE = "WHEN_IDLE"
    SILENT = "SILENT"


class ToolError(Exception):
    """Raise this from a tool to send the model just the message as its error, without the exception's type."""


@dataclasses.dataclass(frozen=True)
class Tool:
    name: str
    source: str  # "builtin", "plugin DIST", "file PATH" or "mcp SERVER"
    declaration: types.FunctionDeclaration  # exactly what the model is sent
    invoke: Callable[[dict], Awaitable[Any]] = dataclasses.field(repr=False)
    policy: Policy = Policy.AUTO
    timeout_s: float = DEFAULT_TIMEOUT_S
    scheduling: Scheduling | None = None  # set only for non-blocking tools
    enabled: bool = True

    @property
    def non_blocking(self) -> bool:
        return self.scheduling is not None

    @property
    def summary(self) -> str:
        """The first line of the description, for listings."""
        return (self.declaration.description or "").strip().split("\n", 1)[0]
