"""A stored session as text: for `sessions show`, and Markdown and JSON exports."""

from __future__ import annotations

import datetime
import json
from typing import Any

from livecli.formats import clock
from livecli.store.sessions import Event, SessionInfo

HIDDEN_KINDS = {"interrupted", "resumption_handle", "usage"}  # shown through other lines or the header


def length(seconds: float) -> str:
    minutes, rest = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{rest:02d}" if hours else f"{minutes}:{rest:02d}"


def started(info: SessionInfo) -> str:
    return datetime.datetime.fromtimestamp(info.started_at).strftime("%Y-%m-%d %H:%M")


def total_tokens(events: list[Event]) -> int:
    return sum(int(e.data.get("total_tokens") or 0) for e in events if e.kind == "usage")


def describe(event: Event, *, markdown: bool = False, limit: int | None = 300) -> str | None:
    """One line for an event, or None for the ones not worth a line."""
    data = event.data
    bold = (lambda s: f"**{s}**") if markdown else (lambda s: s)
    match event.kind:
        case "user_turn":
            return f"{bold('You:')} {_text(data.get('text'))}" + (" (typed)" if data.get("typed") else "")
        case "model_turn":
            return f"{bold('Gemini:')} {_text(data.get('text'))}" + (" [interrupted]" if data.get("interrupted") else "")
        case "tool_call":
            return f"tool call {data.get('name')}({_short(data.get('args', {}), limit)})"
        case "tool_result":
            outcome = f"error: {_short(data['error'], limit)}" if data.get("error") else _short(data.get("result"), limit)
            details = [str(data["approval"])] if data.get("approval") else []
            if isinstance(data.get("duration_s"), (int, float)):
                details.append(f"{data['duration_s']:.2f} s")
            return f"tool result {data.get('name')}: {outcome}" + (f" ({', '.join(details)})" if details else "")
        case "reconnect":
            how = "resumed" if data.get("resumed") else "fresh session"
            gap = data.get("gap_s")
            after = f" after {gap:.1f} s" if isinstance(gap, (int, float)) else ""
            return f"reconnected{after} ({how}): {data.get('reason', '')}".rstrip(": ")
        case "error" | "notice":
            return f"{event.kind}: {data.get('message', '')}"
        case "unreadable":
            return "[an event whose stored data is damaged]"
        case kind if kind in HIDDEN_KINDS:
            return None
        case kind:
            return f"{kind}: {_short(data, limit)}"


def header_lines(info: SessionInfo, events: list[Event]) -> list[str]:
    devices = f"{info.input_device or 'default'} → {info.output_device or 'default'}"
    lines = [
        f"started {started(info)}, {length(info.duration_s)}, {info.turns} turns, {info.ending}",
        f"model {info.model}, voice {info.voice or 'default'}, devices {devices}",
    ]
    tokens = total_tokens(events)
    if tokens:
        lines.append(f"{tokens:,} tokens")
    if info.continues:
        lines.append(f"continues session {info.continues}")
    if not info.record_history:
        lines.append("recorded without history: no transcript was kept")
    return lines


def show_text(info: SessionInfo, events: list[Event]) -> str:
    lines = [f"session {info.id}", *header_lines(info, events), ""]
    lines += [f"[{clock(e.offset_s)}] {line}" for e in events if (line := describe(e)) is not None]
    return "\n".join(lines)


def markdown(info: SessionInfo, events: list[Event]) -> str:
    lines = [f"# livecli session {info.id}", "", *(f"- {line}" for line in header_lines(info, events)), ""]
    for event in events:
        line = describe(event, markdown=True, limit=None)
        if line is not None:
            lines += [f"`{clock(event.offset_s)}` {line}", ""]
    return "\n".join(lines)


def as_json(info: SessionInfo, events: list[Event]) -> str:
    return json.dumps(
        {"session": info.as_json(), "events": [{"offset_s": e.offset_s, "kind": e.kind, "data": e.data} for e in events]},
        indent=2,
        ensure_ascii=False,
    )


def _text(value: Any) -> str:
    return str(value or "").strip()


def _short(value: Any, limit: int | None) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if limit is None or len(text) <= limit else text[: limit - 1] + "…"
