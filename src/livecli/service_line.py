"""The talk shell's line to the Live service: one connection at a time, put down on standby.

The core may stand the conversation by to save cost: the connection closes (its
resumption handle kept) and the next speech or typing opens a new one. While no
connection is up — opening the first, standing by, waking — nothing said or typed
is lost: the microphone's chunks wait in a bounded backlog (only a pre-roll while
standing by: the start of what wakes it), the other sends wait in order, and the
next connection gets them all before anything new.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Coroutine
from contextlib import AbstractAsyncContextManager
from typing import Any

from livecli import events
from livecli.conversation import effects as fx
from livecli.conversation import inputs
from livecli.events import ConnectionState
from livecli.link import AudioQueue
from livecli.ports import Connection
from livecli.side_tasks import SideTasks

PREROLL_S = 1.0  # of microphone audio kept while standing by: the start of what wakes it
BACKLOG_S = 60.0  # kept while a connection opens (as the link keeps while it reconnects)

Sending = Callable[[Connection], Coroutine[Any, Any, None]]
Send = fx.SendTextToModel | fx.SendContext | fx.SendPicture | fx.UpdateSystem | fx.EndAudioStream | fx.SendToolResults


async def _first(*waits: asyncio.Task | Coroutine[Any, Any, Any]) -> None:
    """Until the first of `waits` (tasks or coroutines) is done; the coroutines made into tasks are cancelled."""
    tasks = [w if isinstance(w, asyncio.Task) else asyncio.create_task(w) for w in waits]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task, wait in zip(tasks, waits):
            if task is not wait:
                task.cancel()


class ServiceLine:
    def __init__(
        self,
        connect: Callable[[str | None], AbstractAsyncContextManager[Connection]],
        *,
        handle: str | None,
        feed: Callable[[inputs.Input], None],
        tasks: SideTasks,
        on_accepted: Callable[[], None],
    ):
        """`feed` takes the connection's events and changes; `on_accepted` runs when the
        service first accepts the session; `tasks` carries the sends."""
        self._connect = connect
        self._handle = handle  # the latest resumption handle, carried across standbys
        self._feed = feed
        self._tasks = tasks
        self._on_accepted = on_accepted
        self._connection: Connection | None = None
        self._connections = 0
        self._standby = asyncio.Event()  # the core closed the connection to save cost
        self._wake = asyncio.Event()  # someone spoke or typed: connect again
        self._unsent = AudioQueue(BACKLOG_S)  # microphone audio with no connection up
        self._waiting: list[Sending] = []  # other sends with no connection up

    @property
    def accepted(self) -> bool:
        """Whether the service ever accepted the session."""
        return self._connections > 0

    async def talk(self, stop: asyncio.Event, alongside: Coroutine[Any, Any, None]) -> None:
        """Connect and talk until `stop`, standing by between connections when told; a stop while
        still connecting gives up at once. `alongside` (the microphone's sending) runs as long,
        and its failure ends the talk at once, connected or not, with its error."""
        beside = asyncio.create_task(alongside, name="send")
        try:
            while not stop.is_set():
                talking = asyncio.create_task(self._connect_and_talk(stop), name="talk")
                await _first(talking, stop.wait(), beside)
                if not talking.done() and (self._connection is None or beside.done()):
                    talking.cancel()  # a stop while connecting, or the microphone failed
                with contextlib.suppress(asyncio.CancelledError):
                    await talking
                if beside.done():
                    beside.result()  # the microphone failed: the talk ends with its error
                if self._standby.is_set():
                    await _first(self._wake.wait(), stop.wait())
        finally:
            beside.cancel()
            await asyncio.gather(beside, return_exceptions=True)

    def stand_by(self) -> None:
        """Close the connection; keep only the start of what is said until woken."""
        self._standby.set()
        self._unsent.limit_to(PREROLL_S)

    def wake(self) -> None:
        self._wake.set()

    async def send_audio(self, pcm: bytes) -> bool:
        """Whether the chunk went out now; with no connection up it waits for the next one."""
        if self._connection is None:
            self._unsent.append(pcm)
            return False
        await self._connection.send_audio(pcm)
        return True

    def send(self, effect: Send) -> None:
        """What the core sends to the service, as the connection's call."""
        match effect:
            case fx.SendTextToModel(text=text):
                self.send_with(lambda connection: connection.send_text(text))
            case fx.SendContext(text=text):
                self.send_with(lambda connection: connection.send_context(text))
            case fx.SendPicture(jpeg=jpeg, mime_type=mime_type):
                self.send_with(lambda connection: connection.send_video(jpeg, mime_type))
            case fx.UpdateSystem(text=text):
                self.send_with(lambda connection: connection.update_context(system=text))
            case fx.EndAudioStream():
                self.send_with(lambda connection: connection.end_audio_stream())
            case fx.SendToolResults(results=results):
                self.send_with(lambda connection: connection.send_tool_results(list(results)))

    def send_with(self, sending: Sending) -> None:
        """Run a send beside the loop's other work (a failure becomes a notice); with no
        connection up it waits for the next one."""
        if self._connection is None:
            self._waiting.append(sending)
            return
        self._tasks.start(sending(self._connection))

    async def _connect_and_talk(self, stop: asyncio.Event) -> None:
        """One connection, until the session stops, the connection fails or the core stands by."""
        woken_at = time.monotonic()
        self._standby.clear()
        async with self._connect(self._handle) as connection:
            self._connection = connection
            if self._connections == 0:
                self._feed(inputs.Connected())
                self._on_accepted()
            else:
                gap = time.monotonic() - woken_at
                self._feed(
                    events.LinkChange(
                        ConnectionState.CONNECTED, "woken by speech", gap_s=gap, resumed=bool(self._handle)
                    )
                )
            self._connections += 1
            self._wake.clear()
            for chunk in self._unsent.take():  # what was said while no connection was up
                await connection.send_audio(chunk)
            self._unsent.limit_to(BACKLOG_S)
            while self._waiting:  # and typed
                await self._waiting.pop(0)(connection)
            receiver = asyncio.create_task(self._receive(connection), name="receive")
            try:
                await _first(receiver, stop.wait(), self._standby.wait())
                if receiver.done():
                    receiver.result()  # a failed connection ends the session with its error
            finally:
                receiver.cancel()
                await asyncio.gather(receiver, return_exceptions=True)
                self._handle = connection.handle
                self._connection = None

    async def _receive(self, connection: Connection) -> None:
        async for event in connection.events():
            self._feed(event)
