"""The talk session: wires microphone, Live connection, speaker and view.

Everything runs on one asyncio loop: the microphone's chunks go out as they
are captured, the connection's events come in and are dispatched, the view is
refreshed about ten times a second, and keys arrive as commands. The first
Ctrl-C (or `q`) ends the session cleanly; a second one exits at once (130).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Callable
from typing import Any, Protocol

from livecli import events
from livecli.errors import ExitCode, LivecliError
from livecli.audio.pcm import SILENCE_DBFS, level_dbfs
from livecli.events import AssistantState, ConnectionState
from livecli.metrics import Metrics
from livecli.state import TalkState, ToolActivity, describe_arguments
from livecli.tools import CallState, ToolCallStatus, ToolRunner
from livecli.transcript import Speaker, Turn
from livecli.ui.keyboard import Answer, Command, Hush, InputReader, Quit, SendText, ToggleMute

YES = {"y", "yes"}
NO = {"n", "no"}

REFRESH_S = 0.1
SPEECH_DBFS = -40.0  # a chunk this loud (after echo control) counts as the user speaking


class View(Protocol):
    def start(self, state: TalkState) -> None: ...
    def refresh(self, state: TalkState) -> None: ...
    def turn_done(self, turn: Any) -> None: ...
    def tool_done(self, activity: ToolActivity) -> None: ...
    def notice(self, message: str) -> None: ...
    def stop(self, state: TalkState) -> None: ...


class TalkSession:
    def __init__(
        self,
        *,
        state: TalkState,
        connect: Callable[[], Any],
        microphone: Any,
        speaker: Any | None,
        view: View,
        registry: Any | None = None,
        yolo: bool = False,
        recorder: Any | None = None,
        echo: Any | None = None,
        stdin=None,
    ):
        """`registry` (tools), `recorder` (the session record) and `echo` (echo
        control: cleans each microphone chunk before it is sent) are optional."""
        self.state = state
        self._connect = connect
        self._mic = microphone
        self._speaker = speaker
        self._view = view
        self._stop = asyncio.Event()
        self._connection = None
        self._awaiting_reply = False
        self._model_turn_playing = False
        self._interrupts = 0
        self._input = InputReader(state, self._on_command, stdin)
        self._recorder = recorder
        self._echo = echo
        self._hushed = False  # the user stopped this answer: drop the rest of its audio
        self.metrics = Metrics()
        self._speech_ended_at: float | None = None  # end of the last loud microphone chunk
        self._playback_seen: float | None = None
        self.exit_reason = "user"
        state.transcript.on_turn_done = self._turn_done
        self._runner = (
            ToolRunner(registry, approve=self._approve, yolo=yolo, on_update=self._tool_update)
            if registry is not None
            else None
        )
        self._approval: asyncio.Future | None = None

    async def run(self) -> ExitCode:
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGINT, self._on_sigint)
        loop.add_signal_handler(signal.SIGTERM, self.stop)
        self._view.start(self.state)
        refresher = asyncio.create_task(self._refresh_view(), name="view")
        try:
            if self._speaker is not None:
                self._speaker.start()
            self._mic.start()
            await self._talk_until_stopped()
        except BaseException as exc:
            self.exit_reason = f"error: {exc}" if isinstance(exc, LivecliError) else f"crash: {type(exc).__name__}"
            self._record("error", message=str(exc))
            raise
        finally:
            refresher.cancel()
            self._input.stop()
            loop.remove_signal_handler(signal.SIGINT)
            loop.remove_signal_handler(signal.SIGTERM)
            self._mic.close()
            if self._speaker is not None:
                self._speaker.close()
            self.state.connection = ConnectionState.CLOSED
            self.state.assistant = AssistantState.ENDED
            self.state.transcript.finish_all()
            self._view.stop(self.state)
            if self._recorder is not None:
                self._recorder.close(self.exit_reason)
        return ExitCode.OK

    def stop(self) -> None:
        """End the session cleanly (what `q` and the first Ctrl-C do)."""
        self._stop.set()

    async def _talk_until_stopped(self) -> None:
        """Connect and talk; a stop while still connecting gives up at once."""
        talking = asyncio.create_task(self._connect_and_talk(), name="talk")
        stopper = asyncio.create_task(self._stop.wait(), name="stop")
        try:
            await asyncio.wait([talking, stopper], return_when=asyncio.FIRST_COMPLETED)
            if not talking.done() and self._connection is None:
                talking.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await talking
        finally:
            stopper.cancel()
            talking.cancel()

    async def _connect_and_talk(self) -> None:
        async with self._connect() as connection:
            self._connection = connection
            self.state.connection = ConnectionState.CONNECTED
            connected_at = time.monotonic()
            self.state.assistant = AssistantState.LISTENING
            self._input.start()
            tasks = [
                asyncio.create_task(self._send_microphone(connection, connected_at), name="send"),
                asyncio.create_task(self._receive(connection), name="receive"),
            ]
            stopper = asyncio.create_task(self._stop.wait(), name="stop")
            try:
                done, _ = await asyncio.wait([*tasks, stopper], return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    if task is not stopper:
                        task.result()  # a failed task ends the session with its error
            finally:
                for task in [*tasks, stopper]:
                    task.cancel()
                await asyncio.gather(*tasks, stopper, return_exceptions=True)

    async def _send_microphone(self, connection, connected_at: float) -> None:
        """Chunks captured before `connected_at` waited for the connection: they are sent,
        but not counted in the capture-to-send latencies."""
        async for chunk, captured_at in self._mic.chunks():
            if self._echo is not None:  # every chunk, muted or not: it keeps the timeline
                chunk = self._echo.near_end(chunk, captured_at)
                if not chunk:
                    continue
            # The meter shows what the model would hear (after echo control).
            level = self.state.mic_level_dbfs = level_dbfs(chunk)
            if not self.state.muted:
                await connection.send_audio(chunk)
                sent_at = time.monotonic()
                if captured_at >= connected_at:
                    self.metrics.observe("capture_to_send", sent_at - captured_at)  # from the first sample
                    self.metrics.observe("delivered_to_send", sent_at - self._mic.delivered_at)  # livecli's share
                end = captured_at + len(chunk) / (2 * 16000)
                if level > SPEECH_DBFS:
                    self._speech_ended_at = end
                if self._recorder is not None:
                    self._recorder.audio("user", chunk, 16000, at=end)

    async def _receive(self, connection) -> None:
        async for event in connection.events():
            self._dispatch(event)

    def _dispatch(self, event: events.LiveEvent) -> None:
        transcript = self.state.transcript
        match event:
            case events.ModelAudio() if self._hushed:
                pass  # the user stopped this answer
            case events.ModelAudio(pcm=pcm, rate=rate):
                self._awaiting_reply = False
                if self._speaker is not None:
                    self._speaker.play(pcm)
                if self._recorder is not None:
                    self._recorder.audio("model", pcm, rate)
            case events.ModelText(text=text) | events.OutputTranscript(text=text):
                self._awaiting_reply = False
                transcript.add(Speaker.MODEL, text)
            case events.InputTranscript(text=text):
                self._awaiting_reply = True
                transcript.add(Speaker.USER, text)
            case events.Interrupted():
                self._hushed = False
                if self._speaker is not None:
                    self._speaker.flush()
                self._model_turn_playing = False
                transcript.model_interrupted()
                self._record("interrupted")
            case events.TurnComplete():
                self._hushed = False
                self._awaiting_reply = False
                transcript.finish_user_turn()
                if self._speaker is not None:
                    self._speaker.end_of_turn()
                self._model_turn_playing = True
                self._close_played_turn()
            case events.Usage(prompt_tokens=prompt, response_tokens=response, total_tokens=total):
                self.state.total_tokens += total
                self._record("usage", prompt_tokens=prompt, response_tokens=response, total_tokens=total)
            case events.GoAway(time_left_s=left):
                when = f" in {left:.0f} s" if left is not None else ""
                self._notify(f"the service will close this connection{when}")
            case events.ResumptionHandle(handle=handle, resumable=True) if handle:
                self._record("resumption_handle", handle=handle)
            case events.LinkChange() as change:
                self._link_changed(change)
            case events.ToolCall(calls=calls):
                transcript.finish_user_turn()  # the model acts on what was said so far
                self._spawn(self._answer_tools(calls))
            case events.ToolCallCancellation(ids=ids):
                if self._runner is not None:
                    self._runner.cancel(ids)

    def _link_changed(self, change: events.LinkChange) -> None:
        self.state.connection = change.state
        if change.state is ConnectionState.RECONNECTING:
            # An answer cut off by the drop will not be completed.
            self.state.transcript.model_interrupted()
            self._model_turn_playing = False
            self._notify(f"reconnecting (attempt {change.attempt}): {change.reason}")
        elif change.state is ConnectionState.CONNECTED:
            how = "resumed" if change.resumed else f"fresh session: {change.reason}"
            lost = f"; {change.dropped_s:.1f} s of microphone audio did not fit the buffer" if change.dropped_s else ""
            self._notify(f"reconnected in {change.gap_s * 1000:.0f} ms ({how}){lost}")
            self._record(
                "reconnect", reason=change.reason, gap_s=change.gap_s, resumed=change.resumed, dropped_s=change.dropped_s
            )

    def _turn_done(self, turn: Turn) -> None:
        self._view.turn_done(turn)
        if turn.speaker is Speaker.USER:
            self._record("user_turn", text=turn.text.strip(), typed=turn.typed)
        else:
            self._record("model_turn", text=turn.text.strip(), interrupted=turn.interrupted)

    def _record(self, kind: str, **payload) -> None:
        if self._recorder is not None:
            self._recorder.event(kind, **payload)

    # -- tools ----------------------------------------------------------------------------

    async def _answer_tools(self, calls: tuple[events.FunctionCall, ...]) -> None:
        if self._runner is None:
            results = [
                events.FunctionResult(call.id, call.name, {"error": "no tools are enabled in this session"})
                for call in calls
            ]
            await self._connection.send_tool_results(results)
            return
        async for batch in self._runner.answer(calls):
            await self._connection.send_tool_results(batch)

    async def _approve(self, call: events.FunctionCall) -> bool:
        """Ask the user about one call; the runner's timeout cancels the question."""
        self._approval = asyncio.get_running_loop().create_future()
        self.state.approval = f"allow {call.name}({describe_arguments(call.args)})?"
        self._view.notice(f"{self.state.approval} answer y or n")
        try:
            return await self._approval
        finally:
            self._approval = None
            self.state.approval = None

    def _tool_update(self, status: ToolCallStatus) -> None:
        key = status.id or status.name
        finished = status.state not in (CallState.WAITING_APPROVAL, CallState.RUNNING)
        activity = ToolActivity(
            name=status.name,
            args=describe_arguments(status.args),
            state=status.state.value,
            duration_s=status.duration_s,
            summary=status.summary,
            finished=finished,
        )
        if key not in self.state.tools:
            self._record("tool_call", id=status.id, name=status.name, args=status.args)
        self.state.tools[key] = activity
        if finished:
            self._view.tool_done(activity)
            self._record(
                "tool_result",
                id=status.id,
                name=status.name,
                **(status.response or {}),
                state=status.state.value,
                approval=status.approval,
                duration_s=status.duration_s,
            )

    def _close_played_turn(self) -> None:
        """A complete model turn ends for the user when its audio has played."""
        if self._model_turn_playing and not (self._speaker is not None and self._speaker.active):
            self._model_turn_playing = False
            self.state.transcript.model_turn_complete()

    def _check_devices(self) -> None:
        """Devices reopen themselves; say so once per change, and keep the trouble visible."""
        devices = [device for device in (self._mic, self._speaker) if device is not None]
        for device in devices:
            for message in device.pop_notices():
                self._notify(message)
                self._record("device", message=message)
        self.state.device_status = next((d.status for d in devices if d.status), None)
        self.state.mic_gated = self._echo is not None and self._echo.muted
        if self._mic.status is not None:
            self.state.mic_level_dbfs = SILENCE_DBFS  # no chunks arrive while the microphone is down

    def _measure_reply(self) -> None:
        """Voice to voice: the end of the user's speech to the answer starting to play."""
        if self._speaker is None:
            return
        started = self._speaker.buffer.started_at
        if started is None or started == self._playback_seen:
            return
        self._playback_seen = started
        if self._speech_ended_at is not None and started > self._speech_ended_at:
            latency = started - self._speech_ended_at
            self.metrics.observe("voice_to_voice", latency)
            self.state.reply_latency_ms = latency * 1000
            self._speech_ended_at = None

    def final_metrics(self) -> dict:
        """Everything measured, with the devices' own counts."""
        if self._speaker is not None:
            self.metrics.observe_all("receive_to_device", self._speaker.buffer.latencies)
            self.metrics.count("output_underruns", self._speaker.buffer.underruns)
            self.metrics.count("output_underflows", self._speaker.underflows)
            self.metrics.count("output_underflows_audible", self._speaker.audible_underflows)
        self.metrics.count("input_overflows", self._mic.overflows)
        return self.metrics.summary()

    async def _refresh_view(self) -> None:
        while True:
            self._measure_reply()
            self._check_devices()
            self._close_played_turn()
            self.state.assistant = self._assistant_state()
            self._view.refresh(self.state)
            await asyncio.sleep(REFRESH_S)

    def _assistant_state(self) -> AssistantState:
        if self._connection is None:
            return AssistantState.CONNECTING
        if any(not activity.finished for activity in self.state.tools.values()):
            return AssistantState.RUNNING_TOOL
        if self._speaker is not None and self._speaker.active:
            return AssistantState.SPEAKING
        if self.state.transcript.open_turn(Speaker.MODEL) is not None:
            return AssistantState.SPEAKING
        if self._awaiting_reply:
            return AssistantState.THINKING
        return AssistantState.LISTENING

    def _on_command(self, command: Command) -> None:
        match command:
            case Quit():
                self.stop()
            case ToggleMute():
                self.state.muted = not self.state.muted
                if self.state.muted:
                    self.state.mic_level_dbfs = SILENCE_DBFS
                    self._spawn(self._connection.end_audio_stream())
            case Hush():
                self._hush()
            case Answer(yes=yes):
                if self._approval is not None and not self._approval.done():
                    self._approval.set_result(yes)
            case SendText(text=text) if self._approval is not None and text.lower() in YES | NO:
                self._on_command(Answer(text.lower() in YES))
            case SendText(text=text):
                self.state.transcript.add_user_text(text)
                self._awaiting_reply = True
                self._spawn(self._connection.send_text(text))

    def _hush(self) -> None:
        """Silence the answer now; in half duplex this also opens the microphone."""
        if self._speaker is None or not (self._speaker.active or self._model_turn_playing):
            return
        self._hushed = not self._model_turn_playing  # more of this answer may still come
        self._speaker.flush()
        if self._echo is not None:
            self._echo.open_now()
        self.state.transcript.model_interrupted()
        self._model_turn_playing = False
        self._record("interrupted", by="key")

    def _spawn(self, coro) -> None:
        task = asyncio.create_task(coro)
        task.add_done_callback(self._on_side_task_done)

    def _on_side_task_done(self, task: asyncio.Task) -> None:
        if not task.cancelled() and task.exception() is not None:
            self._notify(str(task.exception()))

    def _notify(self, message: str) -> None:
        self.state.notice = message
        self._view.notice(message)

    def _on_sigint(self) -> None:
        self._interrupts += 1
        if self._interrupts == 1:
            self.stop()
            return
        # Second Ctrl-C: the user wants out now.
        with contextlib.suppress(Exception):
            self._input.restore_terminal()
        os._exit(ExitCode.INTERRUPTED)
