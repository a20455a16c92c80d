"""The conversation core: what a talk session knows and decides, with no I/O.

It owns the talk state (what the view renders), the transcript and the tool
activities. It takes one input at a time — a Live event, a link change, a tool
update, a user command, a device notice, a microphone chunk, a tick of the
clock, or a stored record during replay — and returns the effects the shell
must carry out, in order. No asyncio, no SDK, no Rich, no clock of its own:
times come in with the inputs, so tests feed inputs and assert effects in
microseconds (as pipecat's processors are tested).

Everything said or done becomes a record (`livecli.records`), and records are
applied to the state the same way whether they were just made (talk) or read
back from the store (replay): one set of transitions for both.

The core routes each input and decides what the assistant is doing; the jobs of
their own are its parts, which write what they decide to one `Outbox`: the
answer as the user hears it (`playback`), what the model is shown (`sight`) and
the model's tool calls (`tool_calls`).
"""

from __future__ import annotations

from collections.abc import Iterable

from livecli import events, records
from livecli.conversation import effects as fx
from livecli.conversation import inputs
from livecli.conversation.idle import IdleTimer
from livecli.conversation.outbox import Outbox
from livecli.conversation.playback import AnswerPlayback
from livecli.conversation.sharing import Sharing
from livecli.conversation.tool_calls import ToolCalls
from livecli.events import AssistantState, ConnectionState
from livecli.formats import INPUT_RATE, SILENCE_DBFS, shorten
from livecli.pricing import Overrides, usd_text
from livecli.state import SUMMARY_CHARS, TalkState
from livecli.transcript import Speaker, Transcript, Turn

SPEECH_DBFS = -40.0  # a chunk this loud (after echo control) counts as the user speaking


class Conversation:
    """`effects = conversation.handle(input)`: one input in, the effects to carry out back."""

    def __init__(
        self,
        *,
        model: str,
        voice: str | None,
        earlier: Iterable[Turn] = (),
        has_speaker: bool = True,
        tools_enabled: bool = True,
        prices: Overrides | None = None,
        budget_usd: float | None = None,
        idle_s: float | None = None,
        keep_pictures: bool = False,
        labels: dict[Speaker, str] | None = None,
    ):
        """`prices`: config.toml's price overrides; `budget_usd`: end the session when its estimate
        passes this; `idle_s`: stand by after this long without speech (None: never)."""
        transcript = Transcript(self._turn_done, labels)
        self.state = TalkState(model=model, voice=voice, transcript=transcript, budget_usd=budget_usd)
        self.state.transcript.turns.extend(earlier)
        self._out = Outbox(self.state, prices)
        self._playback = AnswerPlayback(transcript, self._out, has_speaker=has_speaker)
        self._sharing = Sharing(self.state, self._out, keep_pictures=keep_pictures)
        self._tools = ToolCalls(self.state, self._out, enabled=tools_enabled)
        self._budget_warned = False
        self._idle = IdleTimer(idle_s)
        self._awaiting_reply = False  # the user has spoken or typed; no answer yet
        self._input_ended = False
        self._stopping = False
        self._speech_ended_at: float | None = None  # end of the last loud microphone chunk
        self._playback_seen: float | None = None

    def handle(self, item: inputs.Input) -> list[fx.Effect]:
        self._apply(item)
        self._check_budget()  # a usage report (made now or read back) may have moved the estimate
        self.state.assistant = self._assistant_state()
        if self._input_ended and not self._stopping and self._all_answered():
            self._stopping = True
            self._out.emit(fx.Stop())
        return self._out.take()

    # -- dispatch ---------------------------------------------------------------------------

    def _apply(self, item: inputs.Input) -> None:
        match item:
            case inputs.MicChunk():
                self._mic_chunk(item)
            case inputs.Tick():
                self._tick(item)
            case events.ModelAudio() | events.ModelText() | events.OutputTranscript() if self._playback.hushed:
                pass  # the user stopped this answer: what was not heard is not shown either
            case events.ModelAudio(pcm=pcm, rate=rate):
                self._awaiting_reply = False
                self._playback.audio(pcm, rate)
            case events.ModelText(text=text) | events.OutputTranscript(text=text):
                self._awaiting_reply = False
                self.state.transcript.add(Speaker.MODEL, text)
            case events.InputTranscript(text=text):
                self._awaiting_reply = True
                self.state.interim = ""
                self.state.transcript.add(Speaker.USER, text)
            case events.InterimInputTranscript(text=text):
                self.state.interim = text
            case events.VoiceActivity(speaking=speaking):
                self.state.hearing = speaking
            case events.InteractionStatus():
                self.state.working = item.working
            case events.WaitingForInput():
                self.state.working = False
            case events.TurnEndReason(explanation=explanation):
                self._out.record(records.Notice(explanation))
            case events.Grounding(sources=sources, queries=queries):
                self.state.transcript.ground(tuple((s.title, s.uri) for s in sources), queries)
            case events.SessionId(id=session_id):
                self._out.record(records.ServiceSession(session_id))
            case events.GenerationComplete():
                pass  # turnComplete follows once the answer is sent
            case events.Interrupted():
                self._playback.interrupted()
            case events.TurnComplete():
                self._awaiting_reply = False
                self.state.interim = ""
                self.state.transcript.finish_user_turn()
                self._playback.complete()
            case events.Usage():
                self._out.record(
                    records.UsageReport(
                        item.prompt_tokens,
                        item.response_tokens,
                        item.total_tokens,
                        dict(item.prompt_by_modality),
                        dict(item.response_by_modality),
                        item.thoughts_tokens,
                        item.tool_use_tokens,
                    )
                )
            case events.GoAway(time_left_s=left):
                when = f" in {left:.0f} s" if left is not None else ""
                self._out.notify(f"the service will close this connection{when}")
            case events.ResumptionHandle(handle=handle, resumable=True) if handle:
                self._out.record(records.ResumptionHandle(handle))
            case events.ResumptionHandle():
                pass
            case events.LinkChange():
                self._link_changed(item)
            case events.ToolCall(calls=calls):
                self.state.transcript.finish_user_turn()  # the model acts on what was said so far
                self._tools.called(calls)
            case events.ToolCallCancellation(ids=ids):
                self._tools.cancelled(ids)
            case inputs.Connected():
                self.state.connection = ConnectionState.CONNECTED
                self._out.record(records.Connected())
            case inputs.DeviceNotice(message=message):
                self._out.notify(message)
                self._out.record(records.DeviceNotice(message))
            case events.ToolCallStatus():
                self._tools.progress(item)
            case inputs.ApprovalAsked(call=call):
                self._tools.approval_asked(call)
            case inputs.ApprovalClosed():
                self._tools.approval_closed()
            case inputs.SharingStarted(description=description):
                self._sharing.started(description)
            case inputs.SharingStopped(reason=reason):
                self._sharing.stopped(reason)
            case inputs.Picture() if item.asked or self.state.connection is not ConnectionState.STANDBY:
                self._wake("a picture")
                self._sharing.show(item)
            case inputs.Picture():
                pass  # a standby is woken by a picture asked for (/image), not by the shared screen changing
            case (
                inputs.SendText()
                | inputs.ToggleMute()
                | inputs.Hush()
                | inputs.Answer()
                | inputs.Quit()
                | inputs.InputEnded()
                | inputs.ToggleSharing()
                | inputs.LookNow()
            ):
                self._command(item)
            case inputs.Ended(error=error):
                self.state.connection = ConnectionState.CLOSED
                self.state.transcript.finish_all()
                if error is not None:
                    self._out.emit(fx.Record(records.Failure(error)))  # kept; the command line says it
            case _:
                self._apply_record(item)

    def _apply_record(self, record: records.Record) -> None:
        """A stored record read back (replay): the state it stands for, nothing sent or stored."""
        transcript = self.state.transcript
        match record:
            case records.UserTurn(text=text, typed=True):
                transcript.add_user_text(text)
            case records.UserTurn(text=text):
                if transcript.open_turn(Speaker.USER) is None:
                    transcript.add(Speaker.USER, text)
                transcript.finish_user_turn()
            case records.ModelTurn(text=text, interrupted=interrupted):
                if transcript.open_turn(Speaker.MODEL) is None:
                    transcript.add(Speaker.MODEL, text)
                if record.sources or record.queries:
                    transcript.ground(
                        tuple((s.get("title", ""), s.get("uri", "")) for s in record.sources), tuple(record.queries)
                    )
                self._playback.cut_off() if interrupted else transcript.model_turn_complete()
            case records.Connected():
                self.state.connection = ConnectionState.CONNECTED
            case _:
                self._out.apply(record)

    # -- the microphone and the devices ------------------------------------------------------

    def _mic_chunk(self, chunk: inputs.MicChunk) -> None:
        self.state.mic_level_dbfs = chunk.level_dbfs  # what the model would hear
        if self.state.muted:
            return
        if chunk.level_dbfs > SPEECH_DBFS:
            self._speech_ended_at = chunk.ended_at
            self._idle.active(chunk.ended_at)
            self._wake("speech")
        self._out.emit(
            fx.SendAudio(chunk.pcm, chunk.ended_at), fx.RecordAudio("user", chunk.pcm, INPUT_RATE, at=chunk.ended_at)
        )

    def _tick(self, tick: inputs.Tick) -> None:
        self._playback.speaker(sounding=tick.speaker_active, queued_s=tick.queued_s)
        self._watch_idle(tick.now)
        self.state.device_status = tick.device_status
        self.state.mic_gated = tick.mic_gated
        self.state.echo = tick.echo
        if tick.mic_down or self.state.muted:
            self.state.mic_level_dbfs = SILENCE_DBFS
        self._measure_reply(tick.playback_started_at)
        self._playback.close_if_played()

    def _measure_reply(self, started: float | None) -> None:
        """Voice to voice: the end of the user's speech to the answer starting to play."""
        if started is None or started == self._playback_seen:
            return
        self._playback_seen = started
        if self._speech_ended_at is not None and started > self._speech_ended_at:
            latency = started - self._speech_ended_at
            self.state.reply_latency_ms = latency * 1000
            self._speech_ended_at = None
            self._out.emit(fx.Measure("voice_to_voice", latency))

    # -- the link -------------------------------------------------------------------------------

    def _link_changed(self, change: events.LinkChange) -> None:
        self.state.connection = change.state
        if change.state is ConnectionState.RECONNECTING:
            self._playback.cut_off()  # an answer cut off by the drop will not be completed
            attempt = f" (attempt {change.attempt})" if change.attempt else ""
            self._out.notify(f"reconnecting{attempt}: {change.reason}")
        elif change.state is ConnectionState.CONNECTED and change.gap_s is None:  # not a reconnection
            self._out.record(
                records.Notice(f"{change.reason}: continuing in a fresh session that knows the earlier turns")
            )
        elif change.state is ConnectionState.CONNECTED:
            self._out.record(records.Reconnected(change.reason, change.gap_s, change.resumed, change.dropped_s))

    # -- commands -------------------------------------------------------------------------------

    def _command(self, command: inputs.Command) -> None:
        match command:
            case inputs.Quit():
                self._out.emit(fx.Stop())
            case inputs.InputEnded():
                self._input_ended = True
            case inputs.ToggleSharing():
                self._sharing.toggle()
            case inputs.LookNow():
                self._sharing.look_now()
            case inputs.ToggleMute():
                self.state.muted = not self.state.muted
                if self.state.muted:
                    self.state.mic_level_dbfs = SILENCE_DBFS
                    self._out.emit(fx.EndAudioStream())
            case inputs.Hush():
                self._playback.hush()
            case inputs.Answer(yes=yes):
                self._tools.answer(yes)
            case inputs.SendText(text=text) if self._tools.is_typed_answer(text):
                self._tools.typed_answer(text)
            case inputs.SendText(text=text) if text.startswith("/"):
                self._slash_command(text)
            case inputs.SendText(text=text):
                self._wake("typing")
                self.state.transcript.add_user_text(text)
                self._awaiting_reply = True
                self._out.emit(fx.SendTextToModel(text))

    def _slash_command(self, line: str) -> None:
        """`/system TEXT`: a new system instruction for the rest of the session."""
        name, _, argument = line.partition(" ")
        argument = argument.strip()
        if name == "/system" and argument:
            self.state.system = argument
            self._out.record(records.Notice(f"system instruction changed: {shorten(argument, SUMMARY_CHARS)}"))
            self._out.emit(fx.UpdateSystem(argument))
        elif name in ("/image", "/look") and argument:
            self._out.emit(fx.LoadPicture(argument))
        else:
            self._out.notify(
                f"unknown command {shorten(line, 40)}: type /system TEXT or /image PATH (or a line without /)"
            )

    # -- what the assistant is doing ------------------------------------------------------------

    def _assistant_state(self) -> AssistantState:
        if self.state.connection is ConnectionState.CLOSED:
            return AssistantState.ENDED
        if self.state.connection is ConnectionState.CONNECTING:
            return AssistantState.CONNECTING
        if any(not activity.finished for activity in self.state.tools.values()):
            return AssistantState.RUNNING_TOOL
        if self._playback.speaking:
            return AssistantState.SPEAKING
        if self.state.transcript.open_turn(Speaker.MODEL) is not None:
            return AssistantState.SPEAKING
        if self._awaiting_reply:
            return AssistantState.THINKING
        if self.state.working:
            return AssistantState.WORKING
        if self.state.muted:
            return AssistantState.MUTED
        if self.state.hearing:
            return AssistantState.HEARING
        return AssistantState.LISTENING

    def _watch_idle(self, now: float) -> None:
        """Stand by once nobody has spoken, typed or been answered for `idle_s`."""
        busy = self.state.assistant is not AssistantState.LISTENING or self.state.typing
        if self._idle.due(now, busy=busy) and self.state.connection is ConnectionState.CONNECTED:
            self.state.connection = ConnectionState.STANDBY
            self._out.record(
                records.Notice(f"standby after {self._idle.describe()} without speech: speak or type to go on")
            )
            self._out.emit(fx.Standby())

    def _wake(self, why: str) -> None:
        if self.state.connection is ConnectionState.STANDBY:
            self.state.connection = ConnectionState.CONNECTING
            self._out.notify(f"{why}: connecting again…")
            self._out.emit(fx.Wake())
            self._sharing.look_again()  # what is on screen now, not what was before the standby

    def _check_budget(self) -> None:
        """Warn at BUDGET_WARNING of the budget, end the session once the estimate passes it."""
        budget, cost = self.state.budget_usd, self.state.cost
        if budget is None or cost is None or cost.usd is None:
            return
        if cost.usd > budget and not self._stopping:
            self._stopping = True
            reason = f"budget: {cost} passed the budget of {usd_text(budget)}"
            self._out.record(records.Notice(f"{reason}: ending the session"))
            self._out.emit(fx.Stop(reason))
        elif self.state.near_budget and not self._budget_warned:
            self._budget_warned = True
            self._out.notify(f"{cost} of the {usd_text(budget)} budget used: the session ends when it is spent")

    def _all_answered(self) -> bool:
        """Nothing asked is still waiting for (or playing) its answer."""
        idle = (AssistantState.LISTENING, AssistantState.HEARING, AssistantState.MUTED, AssistantState.CONNECTING)
        return self.state.assistant in idle and not (
            self._playback.playing_out or self.state.transcript.open_turn(Speaker.USER)
        )

    # -- the transcript ---------------------------------------------------------------------------

    def _turn_done(self, turn: Turn) -> None:
        """A turn the transcript has closed: shown and stored (a turn changes nothing else on screen)."""
        self._out.emit(fx.ShowTurn(turn))
        text = turn.text.strip()
        if turn.speaker is Speaker.USER:
            self._out.emit(fx.Record(records.UserTurn(text, typed=turn.typed)))
        else:
            sources = [{"title": title, "uri": uri} for title, uri in turn.sources]
            self._out.emit(fx.Record(records.ModelTurn(text, turn.interrupted, sources, list(turn.queries))))
