"""A link to the Live service that outlives its connections.

A connection lasts about ten minutes and networks drop; a conversation should
not. The link keeps the latest session-resumption handle and:

- on `goAway`, waits for a turn boundary (or until the time left forces it),
  opens the replacement connection with the latest handle, then closes the old;
- on a drop (1006, 1011, network error), reconnects with the handle, with
  jittered exponential backoff whose first retry is immediate; a connection
  that dies young (within `settle_s` of opening, before it completed a turn)
  counts as a failed attempt, so a service that accepts and then drops every
  connection is not hammered forever;
- when the handle is refused, starts a fresh session primed with the recent
  transcript; errors retrying cannot fix (bad key, bad request, a quota
  refusal) end the link.

Microphone audio is never lost in a switch: chunks sent since the latest
handle are replayed on the new connection (the resumed session has not heard
them), and chunks captured while no connection is up wait in a backlog. Both
are bounded; past the bound the oldest audio is dropped and counted.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import random
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from livecli import events, formats
from livecli.errors import AuthError, ConnectionFailed
from livecli.events import ConnectionState, LinkChange

BYTES_PER_SECOND = formats.INPUT_BYTES_PER_SECOND
HANDLE_WAIT_S = 1.0  # after a turn boundary, how long to wait for its handle
GO_AWAY_MARGIN_S = 1.0  # switch this long before the service closes
SETTLE_S = 5.0  # a connection that dies sooner, before completing a turn, was a failed attempt
TURN_EVENTS = (
    events.InputTranscript,
    events.InterimInputTranscript,
    events.ModelAudio,
    events.ModelText,
    events.OutputTranscript,
    events.ToolCall,
    events.Interrupted,
)


class AudioQueue:
    """Chunks in order, bounded in seconds of audio; counts what it drops."""

    def __init__(self, max_seconds: float):
        self._chunks: collections.deque[bytes] = collections.deque()
        self._bytes = 0
        self._limit = int(max_seconds * BYTES_PER_SECOND)
        self.dropped_s = 0.0

    def limit_to(self, max_seconds: float) -> None:
        """A new bound; what it leaves out now is dropped (and counted)."""
        self._limit = int(max_seconds * BYTES_PER_SECOND)
        self._trim()

    def append(self, chunk: bytes) -> None:
        self._chunks.append(chunk)
        self._bytes += len(chunk)
        self._trim()

    def _trim(self) -> None:
        while self._bytes > self._limit and self._chunks:
            old = self._chunks.popleft()
            self._bytes -= len(old)
            self.dropped_s += len(old) / BYTES_PER_SECOND

    def prepend(self, chunks: list[bytes]) -> None:
        for chunk in reversed(chunks):
            self._chunks.appendleft(chunk)
            self._bytes += len(chunk)

    def take(self) -> list[bytes]:
        chunks = list(self._chunks)
        self.clear()
        return chunks

    def clear(self) -> None:
        self._chunks.clear()
        self._bytes = 0

    def __iter__(self):
        return iter(list(self._chunks))

    @property
    def seconds(self) -> float:
        return self._bytes / BYTES_PER_SECOND


class Link:
    """`async with Link(connect) as link:` then `async for event in link.events()`.

    `connect(handle)` returns an async context manager giving a connection
    (`livecli.live.LiveConnection` in the product). `history()` gives the recent
    turns [(role, text)] to prime a fresh session when resumption fails, and the
    first one too when `prime` is set (`talk --continue` without a handle).
    The timings default to the service's pace; tests that compress time pass smaller ones.
    """

    def __init__(
        self,
        connect: Callable[[str | None], AbstractAsyncContextManager[Any]],
        *,
        handle: str | None = None,
        history: Callable[[], list[tuple[str, str]]] = list,
        prime: bool = False,
        max_attempts: int = 8,
        replay_s: float = 15.0,
        backlog_s: float = 60.0,
        max_backoff_s: float = 8.0,
        handle_wait_s: float = HANDLE_WAIT_S,
        go_away_margin_s: float = GO_AWAY_MARGIN_S,
        settle_s: float = SETTLE_S,
    ):
        self.handle = handle
        self._connect = connect
        self._history = history
        self._prime_first = prime  # a continued conversation without a usable handle
        self._max_attempts = max_attempts
        self._max_backoff_s = max_backoff_s
        self._handle_wait_s = handle_wait_s
        self._go_away_margin_s = go_away_margin_s
        self._settle_s = settle_s
        self._since_handle = AudioQueue(replay_s)
        self._backlog = AudioQueue(backlog_s)
        self._pending_texts: list[str] = []
        self._queue: asyncio.Queue = asyncio.Queue()
        self._conn = None
        self._stack: contextlib.AsyncExitStack | None = None
        self._supervisor: asyncio.Task | None = None
        self._opened_at = 0.0
        self._proven = False  # the current connection completed a turn
        self._young_deaths = 0  # connections in a row that died young

    @property
    def dropped_audio_s(self) -> float:
        return self._since_handle.dropped_s + self._backlog.dropped_s

    async def __aenter__(self) -> Link:
        # The first connection's failure is the user's problem to fix: no retries,
        # except that a stale handle (talk --continue) falls back to a fresh session.
        try:
            self._stack, self._conn = await self._open(self.handle)
            if self.handle is None and self._prime_first:
                await self._prime(self._conn, resumed=False)
        except AuthError as exc:
            if self.handle is None:
                raise
            self.handle = None
            self._stack, self._conn = await self._open(None)
            await self._prime(self._conn, resumed=False)
            reason = f"could not resume: {exc}"
            self._emit(
                LinkChange(ConnectionState.CONNECTED, reason=reason, resumed=False)
            )  # no gap: not a reconnection
        self._opened_at, self._proven = time.monotonic(), False
        self._supervisor = asyncio.create_task(self._supervise(), name="link")
        return self

    async def __aexit__(self, *exc_info) -> None:
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._supervisor
        await self._close(self._stack)

    async def events(self) -> AsyncIterator[events.LiveEvent]:
        """Every event of every connection, plus LinkChange; raises when the link gives up."""
        while True:
            item = await self._queue.get()
            if isinstance(item, BaseException):
                raise item
            yield item

    async def send_audio(self, pcm: bytes) -> None:
        conn = self._conn
        if conn is None:
            self._backlog.append(pcm)
            return
        try:
            await conn.send_audio(pcm)
        except ConnectionFailed:
            self._backlog.append(pcm)  # the receiving side notices the drop
            return
        self._since_handle.append(pcm)

    async def send_text(self, text: str) -> None:
        conn = self._conn
        if conn is None:
            self._pending_texts.append(text)
            return
        try:
            await conn.send_text(text)
        except ConnectionFailed:
            self._pending_texts.append(text)  # the receiving side notices the drop

    async def send_video(self, data: bytes, mime_type: str = "image/jpeg") -> None:
        """A picture for the model; dropped while no connection is up (the next one is fresher)."""
        conn = self._conn
        if conn is not None:
            with contextlib.suppress(ConnectionFailed):  # the receiving side notices the drop
                await conn.send_video(data, mime_type)

    async def update_context(self, *, system: str | None = None, tools: list | None = None) -> None:
        """A new system instruction or tool list for the rest of the session."""
        if self._conn is None:
            raise ConnectionFailed("context not updated: reconnecting")
        await self._conn.update_context(system=system, tools=tools)

    async def end_audio_stream(self) -> None:
        if self._conn is not None:
            await self._conn.end_audio_stream()

    async def send_context(self, text: str) -> None:
        """Tell the model something without asking for an answer; nothing to tell while reconnecting."""
        if self._conn is not None:
            await self._conn.send_history([("user", text)])

    async def send_tool_results(self, results: list[events.FunctionResult]) -> None:
        if self._conn is None:
            raise ConnectionFailed("tool results not sent: reconnecting")
        await self._conn.send_tool_results(results)

    # -- the supervisor -------------------------------------------------------------------

    async def _supervise(self) -> None:
        try:
            while True:
                try:
                    await self._pump(self._conn)  # returns at a goAway's switch point
                    await self._switch("goAway", dropped=False)
                except ConnectionFailed as exc:
                    young = not self._proven and time.monotonic() - self._opened_at < self._settle_s
                    self._young_deaths = self._young_deaths + 1 if young else 0
                    await self._switch(str(exc), dropped=True)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # given up, or not retryable: the session reports it
            self._queue.put_nowait(exc)

    async def _switch(self, reason: str, *, dropped: bool) -> None:
        """Open the next connection with the latest handle, then retire the old one."""
        lost_at, dropped_before = time.monotonic(), self.dropped_audio_s
        self._conn = None  # from now on the microphone fills the backlog
        old_stack, self._stack = self._stack, None
        if dropped:
            await self._close(old_stack)  # dead already
            old_stack = None
        # a goAway handover is not a reconnection attempt; each connection that died young was one
        attempt = max(1, self._young_deaths) if dropped else 0
        while True:
            if attempt > self._max_attempts:
                raise ConnectionFailed(f"{reason} (gave up after {self._max_attempts} attempts)")
            if attempt:
                self._emit(LinkChange(ConnectionState.RECONNECTING, reason=reason, attempt=attempt))
                await asyncio.sleep(self._backoff(attempt))
            handle = self.handle
            try:
                stack, conn = await self._open(handle)
            except AuthError as exc:
                if handle is None:
                    raise
                self.handle = None  # refused or expired: start afresh, said in the UI
                reason = f"could not resume: {exc}"
                self._emit(LinkChange(ConnectionState.RECONNECTING, reason=reason, attempt=attempt))
                continue
            except ConnectionFailed as exc:
                attempt += 1
                reason = str(exc)
                continue
            try:
                await self._prime(conn, resumed=handle is not None)
            except ConnectionFailed as exc:
                await self._close(stack)
                attempt += 1
                reason = str(exc)
                continue
            break
        self._stack, self._conn = stack, conn
        self._opened_at, self._proven = time.monotonic(), False
        await self._close(old_stack)
        self._emit(
            LinkChange(
                ConnectionState.CONNECTED,
                reason=reason,
                gap_s=time.monotonic() - lost_at,
                resumed=handle is not None,
                dropped_s=self.dropped_audio_s - dropped_before,
            )
        )

    async def _prime(self, conn, *, resumed: bool) -> None:
        """Bring a new connection up to date before it carries live audio."""
        if not resumed:
            history = self._history()
            if history:
                await conn.send_history(history)
        for chunk in self._since_handle:  # heard by the old session only
            await conn.send_audio(chunk)
        while chunks := self._backlog.take():  # captured while no connection was up
            for index, chunk in enumerate(chunks):
                try:
                    await conn.send_audio(chunk)
                except ConnectionFailed:
                    self._backlog.prepend(chunks[index:])
                    raise
                self._since_handle.append(chunk)
        while self._pending_texts:
            await conn.send_text(self._pending_texts[0])
            self._pending_texts.pop(0)

    async def _pump(self, conn) -> None:
        """Forward events until a goAway's switch point; raise ConnectionFailed on a drop."""
        deadline: float | None = None
        boundary_at: float | None = None
        turn_open = False
        working = False  # background work (interactionStatus IN_PROGRESS): more output will come
        stream = conn.events().__aiter__()
        while True:
            timeout = None
            if deadline is not None:
                if not turn_open and not working and boundary_at is None:
                    return  # idle: switch now, the latest handle is current
                until = deadline if boundary_at is None else min(deadline, boundary_at + self._handle_wait_s)
                timeout = max(0.0, until - time.monotonic())
            try:
                event = await asyncio.wait_for(anext(stream), timeout)
            except TimeoutError:
                return
            except StopAsyncIteration:
                raise ConnectionFailed("the Live connection ended") from None
            self._queue.put_nowait(event)
            match event:
                case events.ResumptionHandle(handle=handle, resumable=True) if handle:
                    self.handle = handle
                    self._since_handle.clear()
                    if deadline is not None and not turn_open and not working:
                        return
                case events.GoAway(time_left_s=left):
                    deadline = time.monotonic() + max(
                        0.0, (left if left is not None else 10.0) - self._go_away_margin_s
                    )
                case events.InteractionStatus() as status:
                    working = status.working
                case events.TurnComplete():
                    turn_open = False
                    self._proven = True
                    if deadline is not None and not working:
                        boundary_at = time.monotonic()
                case _ if isinstance(event, TURN_EVENTS):
                    turn_open = True
                    boundary_at = None

    async def _open(self, handle: str | None):
        stack = contextlib.AsyncExitStack()
        try:
            conn = await stack.enter_async_context(self._connect(handle))
        except BaseException:
            await stack.aclose()
            raise
        return stack, conn

    @staticmethod
    async def _close(stack: contextlib.AsyncExitStack | None) -> None:
        if stack is not None:
            with contextlib.suppress(Exception):
                await stack.aclose()

    def _backoff(self, attempt: int) -> float:
        """0 for the first retry, then 0.5, 1, 2, 4… s (capped), with ±50% jitter."""
        if attempt <= 1:
            return 0.0
        base = min(self._max_backoff_s, 0.5 * 2 ** (attempt - 2))
        return base * random.uniform(0.5, 1.5)

    def _emit(self, change: LinkChange) -> None:
        self._queue.put_nowait(change)
