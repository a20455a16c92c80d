"""The talk shell's line to the service: nothing said or typed is lost while no connection is up.

An in-memory connection stands in for the Live link; each story runs in
milliseconds. The slow proof through the fake Live server is
test_session.py's standby test.
"""

import asyncio
import contextlib

import pytest

from livecli import events
from livecli.conversation import effects as fx
from livecli.conversation.inputs import Connected
from livecli.events import ConnectionState
from livecli.service_line import ServiceLine
from livecli.side_tasks import SideTasks

CHUNK = 3200  # 100 ms of microphone audio


class MemoryConnection:
    """Keeps what is sent to it, in order; nothing comes back."""

    def __init__(self, handle: str):
        self.handle = handle
        self.sent: list[tuple[str, object]] = []
        self.closed = False

    async def send_audio(self, pcm):
        self.sent.append(("audio", pcm))

    async def send_text(self, text):
        self.sent.append(("text", text))

    async def events(self):
        await asyncio.Event().wait()
        yield  # an async generator, like the link's events


class Service:
    """Opens a `MemoryConnection` per connect once `open` is set; each gets a new handle."""

    def __init__(self):
        self.open = asyncio.Event()
        self.asked: list[str | None] = []  # the handle each connect was given
        self.connections: list[MemoryConnection] = []

    @contextlib.asynccontextmanager
    async def connect(self, handle):
        await self.open.wait()
        self.asked.append(handle)
        connection = MemoryConnection(f"handle-{len(self.connections) + 1}")
        self.connections.append(connection)
        try:
            yield connection
        finally:
            connection.closed = True


class Line:
    """A `ServiceLine` to `service`, with what it fed, how often it was accepted and its sends' failures."""

    def __init__(self, service: Service, handle: str | None = None):
        self.fed: list = []
        self.accepted = 0
        self.failures: list[BaseException] = []
        self.line = ServiceLine(
            service.connect,
            handle=handle,
            feed=self.fed.append,
            tasks=SideTasks(self.failures.append),
            on_accepted=self._on_accepted,
        )

    def _on_accepted(self):
        self.accepted += 1


async def until(condition):
    while not condition():
        await asyncio.sleep(0)


async def forever():
    await asyncio.Event().wait()


def chunk(n: int) -> bytes:
    return bytes([n]) * CHUNK


def test_what_is_said_and_typed_before_the_service_accepts_reaches_it_first_in_order():
    async def story():
        service = Service()
        kept = Line(service)
        line, stop = kept.line, asyncio.Event()
        talking = asyncio.create_task(line.talk(stop, alongside=forever()))
        assert not await line.send_audio(chunk(1))  # no connection yet: it waits
        line.send(fx.SendTextToModel("hello"))
        assert not await line.send_audio(chunk(2))
        assert not line.accepted
        service.open.set()
        await until(lambda: service.connections and len(service.connections[0].sent) == 3)
        assert await line.send_audio(chunk(3))  # now it goes out at once
        stop.set()
        await talking
        return service, kept

    service, kept = asyncio.run(story())
    assert service.asked == [None]
    assert service.connections[0].sent == [
        ("audio", chunk(1)),
        ("audio", chunk(2)),
        ("text", "hello"),
        ("audio", chunk(3)),
    ]
    assert kept.fed == [Connected()] and kept.accepted == 1 and kept.line.accepted
    assert kept.failures == [] and service.connections[0].closed


def test_a_standby_keeps_only_the_start_of_what_wakes_it_and_resumes_the_same_session():
    async def story():
        service = Service()
        service.open.set()
        kept = Line(service, handle="handle-0")
        line, stop = kept.line, asyncio.Event()
        talking = asyncio.create_task(line.talk(stop, alongside=forever()))
        await until(lambda: service.connections)
        line.stand_by()
        await until(lambda: service.connections[0].closed)
        for n in range(30):  # 3 s said while standing by
            assert not await line.send_audio(chunk(n))
        line.send(fx.SendTextToModel("and then"))
        line.wake()
        await until(lambda: len(service.connections) == 2 and len(service.connections[1].sent) == 11)
        stop.set()
        await talking
        return service, kept

    service, kept = asyncio.run(story())
    assert service.asked == ["handle-0", "handle-1"]  # the second gets the handle of the one stood down
    assert service.connections[0].sent == []
    # The last second (the pre-roll), then what was typed.
    assert service.connections[1].sent == [("audio", chunk(n)) for n in range(20, 30)] + [("text", "and then")]
    assert kept.fed[0] == Connected() and kept.accepted == 1  # the keys start once
    assert isinstance(kept.fed[1], events.LinkChange)
    assert (kept.fed[1].state, kept.fed[1].reason, kept.fed[1].resumed) == (
        ConnectionState.CONNECTED,
        "woken by speech",
        True,
    )


def test_a_stop_while_still_connecting_gives_up_at_once():
    async def story():
        service = Service()  # it never opens
        kept = Line(service)
        stop = asyncio.Event()
        talking = asyncio.create_task(kept.line.talk(stop, alongside=forever()))
        await asyncio.sleep(0)
        stop.set()
        await talking
        return service, kept

    service, kept = asyncio.run(story())
    assert service.asked == [] and kept.fed == [] and not kept.line.accepted


@pytest.mark.parametrize("connected", [False, True], ids=["while connecting", "while connected"])
def test_the_microphone_failing_ends_the_talk_at_once_with_its_error(connected):
    async def story():
        service = Service()
        if connected:
            service.open.set()
        kept = Line(service)

        async def failing_microphone():
            if connected:
                await until(lambda: kept.line.accepted)
            raise OSError("the microphone is gone")

        talking = asyncio.create_task(kept.line.talk(asyncio.Event(), alongside=failing_microphone()))
        done, _ = await asyncio.wait({talking}, timeout=5)  # the connection would hold it forever
        if not done:
            talking.cancel()
            return "still talking", [c.closed for c in service.connections]
        return str(talking.exception()), [c.closed for c in service.connections]

    assert asyncio.run(story()) == ("the microphone is gone", [True] if connected else [])
