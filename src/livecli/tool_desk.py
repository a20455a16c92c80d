"""The talk shell's tool calls: runs them, sends their answers, holds the open approval question.

The conversation core decides what to run and what the user answered; this
carries it out on the event loop (the runner's tasks, the approval future).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from livecli import events
from livecli.conversation import inputs
from livecli.ports import Connection
from livecli.tools import Registry, ToolRunner


class ToolDesk:
    def __init__(self, registry: Registry, *, yolo: bool, feed: Callable[[inputs.Input], None]):
        self._feed = feed
        self._runner = ToolRunner(registry, approve=self._approve, yolo=yolo, on_update=feed)
        self._approval: asyncio.Future[bool] | None = None

    async def run(self, connection: Connection, calls: Sequence[events.FunctionCall]) -> None:
        """Answer the calls, in the batches the runner makes (blocking calls together)."""
        async for batch in self._runner.answer(calls):
            await connection.send_tool_results(batch)

    def cancel(self, ids: Sequence[str]) -> None:
        self._runner.cancel(ids)

    def answer(self, yes: bool) -> None:
        """The user's y or n to the open question, if one is open."""
        if self._approval is not None and not self._approval.done():
            self._approval.set_result(yes)

    async def _approve(self, call: events.FunctionCall) -> bool:
        """Ask the user about one call; the runner's timeout cancels the question."""
        self._approval = asyncio.get_running_loop().create_future()
        self._feed(inputs.ApprovalAsked(call))
        try:
            return await self._approval
        finally:
            self._approval = None
            self._feed(inputs.ApprovalClosed())
