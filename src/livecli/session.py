"""The talk shell: feeds the conversation core and carries out what it decides.

Everything runs on one asyncio loop: the microphone's chunks go out as they
are captured, the connection's events come in, the devices are asked how they
are about ten times a second, and keys arrive as commands — each becomes an
input of the core (`livecli.conversation`), and its effects are carried out
here or by the shell's desks: the line to the service (connecting, standing by,
waking), the tools, the pictures. The first Ctrl-C (or `q`) ends the session
cleanly; a second one exits at once (130), with the terminal given back.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

from livecli import records
from livecli.audio.pcm import level_dbfs
from livecli.conversation import Conversation, inputs
from livecli.conversation import effects as fx
from livecli.device_watch import DeviceWatch
from livecli.errors import ExitCode, LivecliError
from livecli.formats import seconds_of
from livecli.metrics import Metrics
from livecli.picture_desk import PictureDesk
from livecli.ports import Connection, EchoControl, Microphone, PictureSource, Recorder, Speaker, View, show
from livecli.service_line import ServiceLine
from livecli.side_tasks import SideTasks
from livecli.tool_desk import ToolDesk
from livecli.tools import Registry
from livecli.ui.keyboard import InputReader

REFRESH_S = 0.1


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
        self._mic = microphone
        self._speaker = speaker
        self._view = view
        self._recorder = recorder
        self._echo = echo
        self._stop = asyncio.Event()
        self._tasks = SideTasks(lambda error: self.feed(records.Notice(str(error))))  # shown, not stored
        self._input = InputReader(self.state, self.feed, stdin)
        self._line = ServiceLine(
            connect, handle=handle, feed=self.feed, tasks=self._tasks, on_accepted=self._input.start
        )
        self._devices = DeviceWatch(microphone, speaker, echo)
        self._pictures = PictureDesk(pictures, self.feed)
        self._tools = ToolDesk(registry, yolo=yolo, feed=self.feed) if registry is not None else None
        self._interrupts = 0
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
            await self._line.talk(self._stop, alongside=self._send_microphone())
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
        return self._line.accepted

    def stop(self) -> None:
        """End the session cleanly (what `q` and the first Ctrl-C do)."""
        self._stop.set()

    def feed(self, item: inputs.Input) -> None:
        """One input to the core; its effects are carried out at once."""
        for effect in self.core.handle(item):
            self._carry_out(effect)

    async def _send_microphone(self) -> None:
        """Each chunk, cleaned of echo, goes to the core; what it sends while no connection is
        up waits (see `ServiceLine`) and is not counted in the capture-to-send latencies."""
        async for chunk, captured_at in self._mic.chunks():
            if self._echo is not None:  # every chunk, muted or not: it keeps the timeline
                chunk = self._echo.near_end(chunk, captured_at)
                if not chunk:
                    continue
            ended_at = captured_at + seconds_of(len(chunk))
            for effect in self.core.handle(inputs.MicChunk(chunk, ended_at, level_dbfs(chunk))):
                if not isinstance(effect, fx.SendAudio):
                    self._carry_out(effect)
                elif await self._line.send_audio(effect.pcm):
                    sent_at = time.monotonic()
                    self.metrics.observe("capture_to_send", sent_at - captured_at)  # from the first sample
                    self.metrics.observe("delivered_to_send", sent_at - self._mic.delivered_at)  # livecli's share

    async def _refresh_view(self) -> None:
        while True:
            for item in self._devices.poll():
                self.feed(item)
            self._view.refresh(self.state)
            await asyncio.sleep(REFRESH_S)

    def _carry_out(self, effect: fx.Effect) -> None:
        speaker, recorder, tools = self._speaker, self._recorder, self._tools
        match effect:
            case fx.Play(pcm=pcm) if speaker is not None:
                speaker.play(pcm)
            case fx.Flush() if speaker is not None:
                speaker.flush()
            case fx.EndOfTurn() if speaker is not None:
                speaker.end_of_turn()
            case fx.OpenMic() if self._echo is not None:
                self._echo.open_now()
            case (
                fx.SendTextToModel()
                | fx.SendContext()
                | fx.SendPicture()
                | fx.UpdateSystem()
                | fx.EndAudioStream()
                | fx.SendToolResults()
            ):
                self._line.send(effect)
            case fx.RecordPicture(jpeg=jpeg, mime_type=mime_type) if recorder is not None:
                recorder.picture(jpeg, mime_type)
            case fx.PauseSharing(paused=paused):
                self._pictures.pause(paused)
            case fx.RequestLook():
                self._pictures.look_now()
            case fx.LoadPicture(path=path):
                self._tasks.start(self._pictures.load(path))
            case fx.RunTools(calls=calls) if tools is not None:
                self._line.send_with(lambda connection: tools.run(connection, calls))
            case fx.CancelTools(ids=ids) if tools is not None:
                tools.cancel(ids)
            case fx.ResolveApproval(yes=yes) if tools is not None:
                tools.answer(yes)
            case fx.Record(record=record) if recorder is not None:
                recorder.record(record)
            case fx.RecordAudio(stream=stream, pcm=pcm, rate=rate, at=at) if recorder is not None:
                recorder.audio(stream, pcm, rate, at=at)
            case fx.ShowTurn() | fx.ShowTool() | fx.Notify():
                show(self._view, effect)
            case fx.Measure(name=name, seconds=seconds):
                self.metrics.observe(name, seconds)
            case fx.Standby():
                self._line.stand_by()
                if speaker is not None:
                    speaker.close()  # its stream costs CPU even when silent
            case fx.Wake():
                if speaker is not None:
                    speaker.start()
                self._line.wake()
            case fx.Stop(reason=reason):
                self.exit_reason = reason
                self.stop()

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
