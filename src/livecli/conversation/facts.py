"""What a record changes on screen, whether it was just made (talk) or read back (replay).

One function of the state, so a tool call, a usage report or a reconnection looks the same
live and replayed; it returns the effects the view should show.
"""

from __future__ import annotations

import json

from livecli import records
from livecli.conversation import effects as fx
from livecli.events import ConnectionState
from livecli.formats import shorten
from livecli.pricing import Overrides, UsageTotals, estimate
from livecli.state import SUMMARY_CHARS, TalkState, ToolActivity, describe_arguments


def apply(state: TalkState, record: records.Record, prices: Overrides | None) -> list[fx.Effect]:
    match record:
        case records.ToolCalled(id=call_id, name=name, args=args):
            after = len(state.transcript.turns)
            state.tools[call_id or name] = ToolActivity(name, describe_arguments(args), "running", after_turn=after)
        case records.ToolFinished():
            activity = finished_tool(state, record)
            state.tools[record.id or record.name] = activity
            return [fx.ShowTool(activity)]
        case records.UsageReport():
            state.usage = state.usage + UsageTotals.of(record)
            state.cost = estimate(state.model, state.usage, prices)
        case records.Reconnected():
            state.connection = ConnectionState.CONNECTED
            return notify(state, reconnected_message(record))
        case records.Notice(message=message) | records.Failure(message=message) | records.DeviceNotice(message=message):
            return notify(state, message)
        case records.PictureSent(source=source, width=width, height=height):
            state.notice = f"picture sent: {source} ({width}x{height})"  # in the status line, not printed
        case _:
            pass  # turns are recorded when the transcript closes them; the rest show nothing
    return []


def finished_tool(state: TalkState, record: records.ToolFinished) -> ToolActivity:
    """A finished call as the user sees it, where its start was."""
    earlier = state.tools.get(record.id or record.name)
    outcome = record.response.get("result", record.response.get("error"))
    summary = (
        shorten(json.dumps(outcome, ensure_ascii=False, default=str), SUMMARY_CHARS) if outcome is not None else ""
    )
    return ToolActivity(
        name=record.name,
        args=earlier.args if earlier is not None else "",
        state=record.state,
        duration_s=record.duration_s,
        summary=summary,
        finished=True,
        after_turn=earlier.after_turn if earlier is not None else len(state.transcript.turns),
    )


def notify(state: TalkState, message: str) -> list[fx.Effect]:
    state.notice = message
    return [fx.Notify(message)]


def reconnected_message(record: records.Reconnected) -> str:
    gap = f" in {record.gap_s * 1000:.0f} ms" if record.gap_s else ""
    how = "resumed" if record.resumed else f"fresh session: {record.reason}"
    lost = f"; {record.dropped_s:.1f} s of microphone audio did not fit the buffer" if record.dropped_s else ""
    return f"reconnected{gap} ({how}){lost}"
