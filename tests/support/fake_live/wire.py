"""What the fake server shares with the real service on the wire: frames, refusals, small helpers.

The refusals are worded as the service words them (see /work/shared/NOTES.md, "The real service on
the wire"); a close frame holds at most 123 bytes of reason, so the long ones arrive cut.
"""

from __future__ import annotations

import asyncio
import base64
import json
import math
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

IN_RATE = 16_000
OUT_RATE = 24_000
OUT_MIME = "audio/pcm;rate=24000"
VERTEX_OUT_MIME = "audio/pcm"  # Vertex names no rate (it is 24 kHz)
AUDIO_TOKENS_PER_SECOND = 32
CLOSE_REASON_BYTES = 123  # the most a websocket close frame holds


def cut_reason(text: str) -> str:
    """A close reason as the client receives it: at most 123 bytes of UTF-8."""
    return text.encode("utf-8")[:CLOSE_REASON_BYTES].decode("utf-8", "ignore")


# -- refusals, as (close code, reason) -------------------------------------------------------

API_KEY_INVALID = (1007, "API key not valid. Please pass a valid API key.")
API_KEY_EXPIRED = (1007, "API key expired. Please renew the API key.")
INVALID_ARGUMENT = (1007, "Request contains an invalid argument.")
ONE_MODALITY = (1007, "At most one response modality can be specified in the request.")
HANDLE_INVALID = (1008, "Session resumption handle is invalid or expired.")  # wording not confirmed
GOAWAY_IGNORED = (
    1008,
    "Connection aborted because the client failed to close the connection after receiving a GoAway "
    "signal. Please close the connection and reconnect using a session resumption handle.",
)
DEADLINE_EXPIRED = (1011, "Deadline expired before operation could complete.")
QUOTA_EXCEEDED = (
    1011,
    "You exceeded your current quota, please check your plan and billing details. For more information "
    "on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.",
)
SERVICE_UNAVAILABLE = (1011, "The service is currently unavailable.")  # a spent token (forum report)


def modalities_refused(modalities: list[str]) -> tuple[int, str]:
    return (
        1007,
        f"The requested combination of response modalities ({', '.join(modalities)}) is not supported by "
        "the model. Supported combinations are: AUDIO.",
    )


def model_not_found(model: str, version: str) -> tuple[int, str]:
    return (
        1008,
        f"models/{model} is not found for API version {version}, or is not supported for "
        "bidiGenerateContent. Call ListModels to see the list of available models and their supported methods.",
    )


# -- frames ----------------------------------------------------------------------------------


def frame(message: Mapping[str, Any]) -> bytes:
    """A server message as the service sends it: pretty-printed JSON in a binary frame."""
    return (json.dumps(message, indent=2) + "\n").encode("utf-8")


TOP_LEVEL = {
    "setup": "setup",
    "realtime_input": "realtimeInput",
    "realtimeInput": "realtimeInput",
    "client_content": "clientContent",
    "clientContent": "clientContent",
    "tool_response": "toolResponse",
    "toolResponse": "toolResponse",
    "context_update": "contextUpdate",
    "contextUpdate": "contextUpdate",
}


class CloseConnection(Exception):
    def __init__(self, code: int, reason: str):
        super().__init__(code, reason)
        self.code = code
        self.reason = reason


# -- what the server records ------------------------------------------------------------------


@dataclass
class Received:
    """One recorded event. ``t`` is ``time.monotonic()`` when it happened/arrived."""

    t: float
    kind: str
    data: Any
    mime_type: str | None = None
    conn: int = 0


@dataclass
class Turn:
    """A user turn as the scripted model sees it (passed to callable ``reply_text``)."""

    index: int  # per session, 0-based
    source: str  # 'audio' | 'text' | 'client_content' | 'tool_result'
    user_text: str
    t: float  # when the user turn ended
    conn: int = 0
    tool_calls: list[dict] = field(default_factory=list)
    tool_responses: list[dict] = field(default_factory=list)
    # filled in while the model turn runs
    reply_text: str = ""
    audio_samples_sent: int = 0
    first_audio_t: float | None = None
    interrupted: bool = False
    input_audio_seconds: float = 0.0
    cancel: asyncio.Event | None = field(default=None, repr=False)


@dataclass
class Session:
    id: str
    turns: int = 0
    transcript_index: int = 0
    context_audio_tokens: int = 0
    context_text_tokens: int = 0
    handle_seq: int = 0
    resumed: int = 0
    uuid: str = field(default_factory=lambda: str(uuid.uuid4()))  # Vertex's sessionId


# -- helpers -----------------------------------------------------------------------------------


def make_tone(seconds: float, rate: int = OUT_RATE, freq: float = 440.0, amplitude: int = 8000) -> bytes:
    """Mono int16 little-endian sine with 10 ms fades (no clicks)."""
    n = max(0, int(round(seconds * rate)))
    t = np.arange(n, dtype=np.float64) / rate
    wave = np.sin(2 * np.pi * freq * t) * amplitude
    fade = min(n // 2, int(rate * 0.01))
    if fade:
        ramp = np.linspace(0.0, 1.0, fade)
        wave[:fade] *= ramp
        wave[n - fade :] *= ramp[::-1]
    return wave.astype("<i2").tobytes()


def duration(seconds: float) -> str:
    """protobuf Duration JSON ("5s", "0.5s")."""
    text = f"{max(0.0, seconds):.9f}".rstrip("0").rstrip(".")
    return f"{text or '0'}s"


def b64decode_any(value: str) -> bytes:
    """Accept standard and URL-safe base64, with or without padding."""
    if not isinstance(value, str):
        raise ValueError("base64 data must be a string")
    s = value.strip().replace("-", "+").replace("_", "/")
    s += "=" * (-len(s) % 4)
    return base64.b64decode(s, validate=True)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def g(d: Mapping | None, snake: str, default: Any = None) -> Any:
    """Get a field by its snake_case or lowerCamelCase name (the SDK sends both)."""
    if not isinstance(d, Mapping):
        return default
    if snake in d:
        return d[snake]
    parts = snake.split("_")
    camel = parts[0] + "".join(p[:1].upper() + p[1:] for p in parts[1:])
    return d.get(camel, default)


def rate_of(mime: str | None, default: int = IN_RATE) -> int:
    m = re.search(r"rate=(\d+)", mime or "")
    return int(m.group(1)) if m else default


def text_tokens(text: str) -> int:
    return max(1, math.ceil(len(text) / 4)) if text else 0


def word_fragments(text: str) -> list[str]:
    words = text.split()
    return [w if i == 0 else " " + w for i, w in enumerate(words)]


def elide(body: Any) -> Any:
    """Copy of a client frame body with base64 payloads replaced by their length."""
    if isinstance(body, dict):
        return {
            k: f"<{len(v)} base64 chars>" if k == "data" and isinstance(v, str) and len(v) > 64 else elide(v)
            for k, v in body.items()
        }
    if isinstance(body, list):
        return [elide(v) for v in body]
    return body


def abbrev(obj: Any, limit: int = 600) -> str:
    text = json.dumps(obj, default=repr)
    return text if len(text) <= limit else text[:limit] + "..."
