"""Running the model's function calls: concurrently, each with its timeout and
approval, every outcome an answer for the model (never a crash).

Every change of a call's state is reported as a ToolCallStatus, for the talk UI
and the session record.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable

import pydantic_core

from livecli.events import CallState, FunctionCall, FunctionResult, ToolCallStatus
from livecli.tools.model import Policy, Tool, ToolError
from livecli.tools.registry import Registry


class ToolRunner:
    """Runs calls against a registry; `approve` asks the user about one call (True = yes)."""

    def __init__(
        self,
        registry: Registry,
        *,
        approve: Callable[[FunctionCall], Awaitable[bool]],
        yolo: bool = False,
        on_update: Callable[[ToolCallStatus], None] = lambda status: None,
    ):
        self._registry = registry
        self._approve = approve
        self._yolo = yolo
        self._on_update = on_update
        self._approval_lock = asyncio.Lock()  # one question on screen at a time
        self._tasks: dict[str, asyncio.Task] = {}

    async def run(self, calls: Iterable[FunctionCall]) -> list[FunctionResult]:
        """Every call's answer, together (cancelled calls have none)."""
        return [result async for batch in self.answer(calls) for result in batch]

    async def answer(self, calls: Iterable[FunctionCall]) -> AsyncIterator[list[FunctionResult]]:
        """The answers to send, in batches: the blocking calls' answers together,
        then each non-blocking call's answer when it is ready."""
        tasks = {asyncio.create_task(self._run_one(call)): call for call in calls}
        for task, call in tasks.items():
            if call.id is not None:
                self._tasks[call.id] = task
        blocking = {t for t, call in tasks.items() if not self._is_non_blocking(call)}
        pending = set(tasks)
        try:
            while pending:
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                ready = [t for t in done if t not in blocking]
                if blocking and not blocking & pending:
                    ready += [t for t in tasks if t in blocking]  # in the model's order
                    blocking = set()
                batch = [t.result() for t in ready if not t.cancelled()]
                if batch:
                    yield batch
        finally:
            for task, call in tasks.items():
                task.cancel()
                self._tasks.pop(call.id, None)

    def cancel(self, ids: Iterable[str]) -> None:
        """Stop these calls (the model no longer wants them): they get no answer."""
        for call_id in ids:
            task = self._tasks.get(call_id)
            if task is not None:
                task.cancel()

    def _is_non_blocking(self, call: FunctionCall) -> bool:
        tool = self._registry.get(call.name)
        return tool is not None and tool.non_blocking

    async def _run_one(self, call: FunctionCall) -> FunctionResult:
        tool = self._registry.get(call.name)
        if tool is None:
            return self._finish(call, None, CallState.ERROR, {"error": f"there is no tool called '{call.name}'"})
        if tool.policy is Policy.DENY:
            return self._finish(
                call, tool, CallState.REFUSED, {"error": "the user does not allow this tool"}, approval="denied"
            )
        try:
            approval = "auto"
            if tool.policy is Policy.ASK:
                approval = "yolo" if self._yolo else await self._ask(call)
            if approval in ("refused", "no answer"):
                return self._finish(
                    call, tool, CallState.REFUSED, {"error": "the user refused this call"}, approval=approval
                )
            return await self._invoke(call, tool, approval)
        except asyncio.CancelledError:
            self._report(call, CallState.CANCELLED)
            raise

    async def _ask(self, call: FunctionCall) -> str:
        """ "approved", "refused" or "no answer" (in time; a failing prompt counts as none)."""
        async with self._approval_lock:
            self._report(call, CallState.WAITING_APPROVAL)
            try:
                async with asyncio.timeout(self._registry.config.approval_timeout_s):
                    return "approved" if await self._approve(call) else "refused"
            except Exception:
                return "no answer"

    async def _invoke(self, call: FunctionCall, tool: Tool, approval: str) -> FunctionResult:
        self._report(call, CallState.RUNNING, approval=approval)
        started = time.monotonic()
        state = CallState.ERROR
        try:
            async with asyncio.timeout(tool.timeout_s) as deadline:
                value = await tool.invoke(dict(call.args or {}))
            response = {"result": pydantic_core.to_jsonable_python(value, fallback=str)}
            if value is None or value in ("", [], {}, ()):
                # An empty result makes the model call again with other arguments: say what it means.
                response = {
                    "result": f"{tool.name} ran and found nothing ({value!r}); this is the answer, not a failure"
                }
            state = CallState.DONE
        except ToolError as exc:
            response = {"error": str(exc)}
        except Exception as exc:
            if isinstance(exc, TimeoutError) and deadline.expired():
                response = {"error": f"{tool.name} did not finish within {tool.timeout_s:g} s"}
            else:
                response = {"error": f"{type(exc).__name__}: {exc}"}
        return self._finish(call, tool, state, response, started=started, approval=approval)

    def _finish(
        self,
        call: FunctionCall,
        tool: Tool | None,
        state: CallState,
        response: dict,
        *,
        started: float | None = None,
        approval: str | None = None,
    ) -> FunctionResult:
        duration = time.monotonic() - started if started is not None else None
        self._report(call, state, duration_s=duration, response=response, approval=approval)
        scheduling = tool.scheduling.value if tool is not None and tool.scheduling is not None else None
        return FunctionResult(id=call.id, name=call.name, response=response, scheduling=scheduling)

    def _report(self, call: FunctionCall, state: CallState, **details) -> None:
        self._on_update(ToolCallStatus(id=call.id, name=call.name, args=dict(call.args or {}), state=state, **details))
