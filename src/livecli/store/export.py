"""A stored session as text: for `sessions show`, and Markdown and JSON exports."""

from __future__ import annotations

import datetime
import json
from typing import Any

from livecli import records
from livecli.formats import clock, shorten, source_lines
from livecli.pricing import Cost, UsageTotals
from livecli.store.sessions import Event, SessionInfo


def length(seconds: float) -> str:
    minutes, rest = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{rest:02d}" if hours else f"{minutes}:{rest:02d}"


def started(info: SessionInfo) -> str:
    return datetime.datetime.fromtimestamp(info.started_at).strftime("%Y-%m-%d %H:%M")


def tokens_line(tokens: UsageTotals, cost: Cost | None = None) -> str | None:
    """ "564 tokens (in: 332 text, 165 audio; out: 42 audio; 136 thinking), $0.0019", or None for none."""
    if not tokens.total:
        return None
    parts = [
        f"{side}: " + ", ".join(f"{n:,} {modality.lower()}" for modality, n in sorted(counts.items()))
        for side, counts in (("in", tokens.prompt_by_modality), ("out", tokens.response_by_modality))
        if counts
    ]
    if tokens.thoughts:
        parts.append(f"{tokens.thoughts:,} thinking")
    line = f"{tokens.total:,} tokens" + (f" ({'; '.join(parts)})" if parts else "")
    return line + (f", {cost}" if cost is not None else "")


def describe(event: Event, *, markdown: bool = False, limit: int | None = 300) -> str | None:
    """One line for an event, or None for the ones not worth a line."""
    bold = (lambda s: f"**{s}**") if markdown else (lambda s: s)
    match event.record:
        case records.UserTurn(text=text, typed=typed):
            return f"{bold('You:')} {_text(text)}" + (" (typed)" if typed else "")
        case records.ModelTurn(text=text, interrupted=interrupted, sources=sources, queries=queries):
            pages = [(str(page.get("title") or ""), str(page.get("uri") or "")) for page in sources]
            lines = [f"{bold('Gemini:')} {_text(text)}" + (" [interrupted]" if interrupted else "")]
            return "\n".join(lines + source_lines(pages, queries))
        case records.ToolCalled(name=name, args=args):
            return f"tool call {name}({_short(args, limit)})"
        case records.ToolFinished(name=name, response=response, approval=approval, duration_s=duration):
            error = response.get("error")
            outcome = f"error: {_short(error, limit)}" if error else _short(response.get("result"), limit)
            details = [approval] if approval else []
            if duration is not None:
                details.append(f"{duration:.2f} s")
            return f"tool result {name}: {outcome}" + (f" ({', '.join(details)})" if details else "")
        case records.Reconnected(reason=reason, gap_s=gap, resumed=resumed):
            how = "resumed" if resumed else "fresh session"
            after = f" after {gap:.1f} s" if isinstance(gap, (int, float)) else ""
            return f"reconnected{after} ({how}): {reason}".rstrip(": ")
        case records.Failure(message=message):
            return f"error: {message}"
        case records.Notice(message=message):
            return f"notice: {message}"
        case records.DeviceNotice(message=message):
            return f"device: {message}"
        case records.Interruption() | records.ResumptionHandle() | records.UsageReport() | records.Connected():
            return None  # shown through other lines or the header
        case None if event.kind == records.UNREADABLE:
            return "[an event whose stored data is damaged]"
        case _:
            return f"{event.kind}: {_short(event.data, limit)}"  # a kind this version does not know


def header_lines(info: SessionInfo, cost: Cost | None = None) -> list[str]:
    devices = f"{info.input_device or 'default'} → {info.output_device or 'default'}"
    lines = [
        f"started {started(info)}, {length(info.duration_s)}, {info.turns} turns, {info.ending}",
        f"model {info.model}, voice {info.voice or 'default'}, devices {devices}",
    ]
    if (tokens := tokens_line(info.tokens, cost)) is not None:
        lines.append(tokens)
    if info.continues:
        lines.append(f"continues session {info.continues}")
    if not info.record_history:
        lines.append("recorded without history: no transcript was kept")
    return lines


def show_text(info: SessionInfo, events: list[Event], cost: Cost | None = None) -> str:
    lines = [f"session {info.id}", *header_lines(info, cost), ""]
    lines += [f"[{clock(e.offset_s)}] {line}" for e in events if (line := describe(e)) is not None]
    return "\n".join(lines)


def markdown(info: SessionInfo, events: list[Event], cost: Cost | None = None) -> str:
    lines = [f"# livecli session {info.id}", "", *(f"- {line}" for line in header_lines(info, cost)), ""]
    for event in events:
        line = describe(event, markdown=True, limit=None)
        if line is not None:
            lines += [f"`{clock(event.offset_s)}` {line}", ""]
    return "\n".join(lines)


def as_json(info: SessionInfo, events: list[Event], cost: Cost | None = None) -> str:
    session = info.as_json() | ({"cost": cost.as_json()} if cost is not None else {})
    return json.dumps(
        {"session": session, "events": [{"offset_s": e.offset_s, "kind": e.kind, "data": e.data} for e in events]},
        indent=2,
        ensure_ascii=False,
    )


def _text(value: Any) -> str:
    return str(value or "").strip()


def _short(value: Any, limit: int | None) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if limit is None else shorten(text, limit)
