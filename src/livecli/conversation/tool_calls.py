"""The model's tool calls as the conversation sees them: run or refused, their progress recorded,
the approval question asked and answered (y/n by key or typed).

The shell's tool desk runs the tools and asks for approval; this part decides what is sent back,
recorded and shown, so a call looks the same live and replayed (`facts`).
"""

from __future__ import annotations

import dataclasses

from livecli import events, records
from livecli.conversation import effects as fx
from livecli.conversation.outbox import Outbox
from livecli.state import TalkState, describe_arguments

YES = {"y", "yes"}
NO = {"n", "no"}
NO_TOOLS = {"error": "no tools are enabled in this session"}


class ToolCalls:
    def __init__(self, state: TalkState, out: Outbox, *, enabled: bool):
        """`enabled`: the session has tools; if not, every call is answered with an error."""
        self._state = state
        self._out = out
        self._enabled = enabled

    def called(self, calls: tuple[events.FunctionCall, ...]) -> None:
        if self._enabled:
            self._out.emit(fx.RunTools(calls))
        else:
            results = tuple(events.FunctionResult(call.id, call.name, dict(NO_TOOLS)) for call in calls)
            self._out.emit(fx.SendToolResults(results))

    def cancelled(self, ids: tuple[str, ...]) -> None:
        """The model withdrew these calls: their answers are no longer wanted."""
        self._out.emit(fx.CancelTools(ids))

    def progress(self, update: events.ToolCallStatus) -> None:
        """A call started, changed state or finished: the first and the last are recorded."""
        key = update.id or update.name
        if key not in self._state.tools:
            self._out.record(records.ToolCalled(update.id, update.name, dict(update.args)))
        if not update.finished:
            current = self._state.tools[key]
            self._state.tools[key] = dataclasses.replace(current, state=update.state.value)
            return
        finished = records.ToolFinished(
            id=update.id,
            name=update.name,
            response=dict(update.response or {}),
            state=update.state.value,
            approval=update.approval,
            duration_s=update.duration_s,
        )
        self._out.record(finished)

    def approval_asked(self, call: events.FunctionCall) -> None:
        self._state.approval = f"allow {call.name}({describe_arguments(call.args)})?"
        self._out.emit(fx.Notify(f"{self._state.approval} answer y or n"))

    def approval_closed(self) -> None:
        self._state.approval = None

    def answer(self, yes: bool) -> None:
        if self._state.approval is not None:
            self._out.emit(fx.ResolveApproval(yes))

    def is_typed_answer(self, text: str) -> bool:
        """A typed y/yes or n/no while a call waits for approval (otherwise it is said to the model)."""
        return self._state.approval is not None and text.lower() in YES | NO

    def typed_answer(self, text: str) -> None:
        self.answer(text.lower() in YES)
