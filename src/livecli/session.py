"""The talk shell: feeds the conversation core and carries out what it decides.

Everything runs on one asyncio loop: the microphone's chunks go out as they
are captured, the connection's events come in, the devices are asked how they
are about ten times a second, and keys arrive as commands — each becomes an
input of the core (`livecli.conversation`), and its effects are carried out
here. The first Ctrl-C (or `q`) ends the session cleanly; a second one exits
at once (130), with the terminal given back.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

from livecli import events, records
from livecli.audio.pcm import level_dbfs
from livecli.conversation import Conversation, inputs
from livecli.conversation import effects as fx
from livecli.errors import ExitCode, LivecliError
from livecli.events import ConnectionState
from livecli.formats import OUTPUT_RATE, seconds_of
from livecli.link import AudioQueue
from livecli.metrics import Metrics
from livecli.picture_desk import PictureDesk
from livecli.ports import Connection, EchoControl, Microphone, PictureSource, Recorder, Speaker, View, show
from livecli.tool_desk import ToolDesk
from livecli.tools import Registry
from livecli.ui.keyboard import InputReader

REFRESH_S = 0.1
PREROLL_S = 1.0  # of microphone audio kept while standing by: the start of what wakes it
BACKLOG_S = 60.0  # kept while a connection opens (as the link keeps while it reconnects)


async def _first(*waits) -> None:
    """Until the first of `waits` (tasks or coroutines) is done; the coroutines made into tasks are cancelled."""
    tasks = [w if isinstance(w, asyncio.Task) else asyncio.create_task(w) for w in waits]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task, wait in zip(tasks, waits):
            if task is not wait:
                task.cancel()


class TalkSession:
    def __init__(
        self,
        *,
        conversation: Conversation,
        connect: Callable[[str | None], AbstractAsyncContextManager[Connection]],
        microphone: Microphone,
        speaker: Speaker | None,
        view: View,
        registry: Registry | None = None,
        yolo: bool = False,
        recorder: Recorder | None = None,
        echo: EchoControl | None = None,
        handle: str | None = None,
        pictures: PictureSource | None = None,
        stdin=None,
    ):
        """`registry` (tools), `recorder` (the session record) and `echo` (cleans each
        microphone chunk before it is sent) are optional."""
        self.core = conversation
        self.state = conversation.state
        self._connect = connect
        self._mic = microphone
        self._speaker = speaker
        self._view = view
        self._recorder = recorder
        self._echo = echo
        self._stop = asyncio.Event()
        self._standby = asyncio.Event()  # the core closed the connection to save cost
        self._wake = asyncio.Event()  # someone spoke or typed: connect again
        self._connection: Connection | None = None
        self._connections = 0
        self._handle = handle  # the latest resumption handle, carried across standbys
        self._pictures = PictureDesk(pictures, self.feed)
        self._side_tasks: set[asyncio.Task] = set()
        self._unsent = AudioQueue(BACKLOG_S)  # microphone audio with no connection up
        self._waiting: list = []  # other sends with no connection up
        self._interrupts = 0
        self._input = InputReader(self.state, self.feed, stdin)
        self._tools = ToolDesk(registry, yolo=yolo, feed=self.feed) if registry is not None else None
        self.metrics = Metrics()
        self.exit_reason = "user"

    async def run(self) -> ExitCode:
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGINT, self._on_sigint)
        loop.add_signal_handler(signal.SIGTERM, self.stop)
        self._view.start(self.state)
        refresher = asyncio.create_task(self._refresh_view(), name="view")
        sharing = asyncio.create_task(self._pictures.share(), name="share")
        error = None
        try:
            for device in (self._speaker, self._mic):
                if device is not None:
                    device.start()
            await self._talk_until_stopped()
        except BaseException as exc:
            error = str(exc)
            self.exit_reason = f"error: {exc}" if isinstance(exc, LivecliError) else f"crash: {type(exc).__name__}"
            raise
        finally:
            refresher.cancel()
            sharing.cancel()
            self._input.stop()
            loop.remove_signal_handler(signal.SIGINT)
            loop.remove_signal_handler(signal.SIGTERM)
            for device in (self._mic, self._speaker):
                if device is not None:
                    device.close()
            self.feed(inputs.Ended(error))
            self._view.stop(self.state)
            if self._recorder is not None:
                self._recorder.close(self.exit_reason)
        return ExitCode.OK

    @property
    def connected(self) -> bool:
        """Whether the service ever accepted the session."""
        return self._connections > 0

    def stop(self) -> None:
        """End the session cleanly (what `q` and the first Ctrl-C do)."""
        self._stop.set()

    def feed(self, item: inputs.Input) -> None:
        """One input to the core; its effects are carried out at once."""
        for effect in self.core.handle(item):
            self._carry_out(effect)

    async def _talk_until_stopped(self) -> None:
        """Connect and talk, standing by between connections when the core says so; a stop
        while still connecting gives up at once."""
        sender = asyncio.create_task(self._send_microphone(), name="send")
        try:
            while not self._stop.is_set():
                talking = asyncio.create_task(self._connect_and_talk(), name="talk")
                await _first(talking, self._stop.wait(), sender)
                if not talking.done() and self._connection is None:
                    talking.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await talking
                if sender.done():
                    sender.result()  # the microphone failed: the session ends with its error
                if self._standby.is_set():
                    await _first(self._wake.wait(), self._stop.wait())
        finally:
            sender.cancel()
            await asyncio.gather(sender, return_exceptions=True)

    async def _connect_and_talk(self) -> None:
        """One connection, until the session stops, the connection fails or the core stands by."""
        woken_at = time.monotonic()
        self._standby.clear()
        async with self._connect(self._handle) as connection:
            self._connection = connection
            if self._connections == 0:
                self.feed(inputs.Connected())
                self._input.start()
            else:
                gap = time.monotonic() - woken_at
                self.feed(
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
                await _first(receiver, self._stop.wait(), self._standby.wait())
                if receiver.done():
                    receiver.result()  # a failed connection ends the session with its error
            finally:
                receiver.cancel()
                await asyncio.gather(receiver, return_exceptions=True)
                self._handle = connection.handle
                self._connection = None

    async def _send_microphone(self) -> None:
        """Chunks captured while no connection is up wait (the pre-roll of a standby, bounded);
        they are sent but not counted in the capture-to-send latencies."""
        async for chunk, captured_at in self._mic.chunks():
            if self._echo is not None:  # every chunk, muted or not: it keeps the timeline
                chunk = self._echo.near_end(chunk, captured_at)
                if not chunk:
                    continue
            ended_at = captured_at + seconds_of(len(chunk))
            for effect in self.core.handle(inputs.MicChunk(chunk, ended_at, level_dbfs(chunk))):
                if not isinstance(effect, fx.SendAudio):
                    self._carry_out(effect)
                elif self._connection is None:
                    self._unsent.append(effect.pcm)
                else:
                    await self._connection.send_audio(effect.pcm)
                    sent_at = time.monotonic()
                    self.metrics.observe("capture_to_send", sent_at - captured_at)  # from the first sample
                    self.metrics.observe("delivered_to_send", sent_at - self._mic.delivered_at)  # livecli's share

    async def _receive(self, connection: Connection) -> None:
        async for event in connection.events():
            self.feed(event)

    async def _refresh_view(self) -> None:
        devices = [device for device in (self._mic, self._speaker) if device is not None]
        while True:
            for device in devices:  # devices reopen themselves: say so once per change
                for message in device.pop_notices():
                    self.feed(inputs.DeviceNotice(message))
            speaker = self._speaker
            self.feed(
                inputs.Tick(
                    speaker_active=speaker is not None and speaker.active,
                    playback_started_at=speaker.buffer.started_at if speaker is not None else None,
                    mic_down=self._mic.status is not None,
                    mic_gated=self._echo is not None and self._echo.muted,
                    echo=f"{self._echo.mode}: {self._echo.reason}" if self._echo is not None else None,
                    device_status=next((d.status for d in devices if d.status), None),
                    now=time.monotonic(),
                    queued_s=speaker.buffer.buffered_bytes / (2 * OUTPUT_RATE) if speaker is not None else 0.0,
                )
            )
            self._view.refresh(self.state)
            await asyncio.sleep(REFRESH_S)

    def _carry_out(self, effect: fx.Effect) -> None:
        speaker, recorder = self._speaker, self._recorder
        match effect:
            case fx.Play(pcm=pcm) if speaker is not None:
                speaker.play(pcm)
            case fx.Flush() if speaker is not None:
                speaker.flush()
            case fx.EndOfTurn() if speaker is not None:
                speaker.end_of_turn()
            case fx.OpenMic() if self._echo is not None:
                self._echo.open_now()
            case fx.SendTextToModel(text=text):
                self._send(lambda connection: connection.send_text(text))
            case fx.SendContext(text=text):
                self._send(lambda connection: connection.send_context(text))
            case fx.SendPicture(jpeg=jpeg, mime_type=mime_type):
                self._send(lambda connection: connection.send_video(jpeg, mime_type))
            case fx.RecordPicture(jpeg=jpeg, mime_type=mime_type) if recorder is not None:
                recorder.picture(jpeg, mime_type)
            case fx.PauseSharing(paused=paused):
                self._pictures.pause(paused)
            case fx.RequestLook():
                self._pictures.look_now()
            case fx.LoadPicture(path=path):
                self._keep(asyncio.create_task(self._pictures.load(path)))
            case fx.UpdateSystem(text=text):
                self._send(lambda connection: connection.update_context(system=text))
            case fx.EndAudioStream():
                self._send(lambda connection: connection.end_audio_stream())
            case fx.SendToolResults(results=results):
                self._send(lambda connection: connection.send_tool_results(list(results)))
            case fx.RunTools(calls=calls) if self._tools is not None:
                self._send(lambda connection: self._tools.run(connection, calls))
            case fx.CancelTools(ids=ids) if self._tools is not None:
                self._tools.cancel(ids)
            case fx.ResolveApproval(yes=yes) if self._tools is not None:
                self._tools.answer(yes)
            case fx.Record(record=record) if recorder is not None:
                recorder.record(record)
            case fx.RecordAudio(stream=stream, pcm=pcm, rate=rate, at=at) if recorder is not None:
                recorder.audio(stream, pcm, rate, at=at)
            case fx.ShowTurn() | fx.ShowTool() | fx.Notify():
                show(self._view, effect)
            case fx.Measure(name=name, seconds=seconds):
                self.metrics.observe(name, seconds)
            case fx.Standby():
                self._standby.set()
                self._unsent.limit_to(PREROLL_S)  # only the start of whatever wakes it
                if speaker is not None:
                    speaker.close()  # its stream costs CPU even when silent
            case fx.Wake():
                if speaker is not None:
                    speaker.start()
                self._wake.set()
            case fx.Stop(reason=reason):
                self.exit_reason = reason
                self.stop()

    def _send(self, make) -> None:
        """Run a send to the service beside the loop's other work; a failure becomes a notice.
        With no connection up (standing by) it waits for the next one."""
        if self._connection is None:
            self._waiting.append(make)
            return
        self._keep(asyncio.create_task(make(self._connection)))

    def _keep(self, task: asyncio.Task) -> None:
        """A task beside the loop's work, held until done (the loop keeps only weak references)."""
        self._side_tasks.add(task)
        task.add_done_callback(self._side_tasks.discard)
        task.add_done_callback(self._on_side_task_done)

    def _on_side_task_done(self, task: asyncio.Task) -> None:
        if not task.cancelled() and task.exception() is not None:
            self.feed(records.Notice(str(task.exception())))  # shown, not stored

    def final_metrics(self) -> dict:
        """Everything measured, with the devices' own counts."""
        return self.metrics.summary(self._mic, self._speaker)

    def _on_sigint(self) -> None:
        self._interrupts += 1
        if self._interrupts == 1:
            self.stop()
            return
        # Second Ctrl-C: the user wants out now, with the terminal as it was.
        with contextlib.suppress(Exception):
            self._input.restore_terminal()
            self._view.stop(self.state)
        os._exit(ExitCode.INTERRUPTED)
