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
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from livecli import events, records
from livecli.conversation import effects as fx
from livecli.conversation import facts, inputs
from livecli.conversation.idle import IdleTimer
from livecli.events import AssistantState, ConnectionState
from livecli.formats import INPUT_RATE, SILENCE_DBFS, seconds_of, shorten
from livecli.pricing import Overrides, usd_text
from livecli.state import SUMMARY_CHARS, TalkState, describe_arguments
from livecli.transcript import Speaker, Transcript, Turn

SPEECH_DBFS = -40.0  # a chunk this loud (after echo control) counts as the user speaking
YES = {"y", "yes"}
NO = {"n", "no"}
NO_TOOLS = {"error": "no tools are enabled in this session"}
HEARD_WORDS = 8  # of a stopped answer, told back to the model


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
        self._prices = prices
        self._budget_warned = False
        self._idle = IdleTimer(idle_s)
        self._keep_pictures = keep_pictures
        self.state.transcript.turns.extend(earlier)
        self._has_speaker = has_speaker
        self._tools_enabled = tools_enabled
        self._effects: list[fx.Effect] = []
        self._answer_audio_s = 0.0  # model audio received for the open answer
        self._queued_s = 0.0  # of which the speaker has not played yet
        self._awaiting_reply = False  # the user has spoken or typed; no answer yet
        self._model_turn_playing = False  # complete, but its audio may still be playing
        self._hushed = False  # the user stopped this answer: drop the rest of it
        self._input_ended = False
        self._stopping = False
        self._speaker_active = False
        self._speech_ended_at: float | None = None  # end of the last loud microphone chunk
        self._playback_seen: float | None = None

    def handle(self, item: inputs.Input) -> list[fx.Effect]:
        self._apply(item)
        self.state.assistant = self._assistant_state()
        if self._input_ended and not self._stopping and self._all_answered():
            self._stopping = True
            self._emit(fx.Stop())
        effects, self._effects = self._effects, []
        return effects

    # -- dispatch ---------------------------------------------------------------------------

    def _apply(self, item: inputs.Input) -> None:
        match item:
            case inputs.MicChunk():
                self._mic_chunk(item)
            case inputs.Tick():
                self._tick(item)
            case events.ModelAudio() | events.ModelText() | events.OutputTranscript() if self._hushed:
                pass  # the user stopped this answer: what was not heard is not shown either
            case events.ModelAudio(pcm=pcm, rate=rate):
                self._awaiting_reply = False
                self._answer_audio_s += seconds_of(len(pcm), rate)
                self._speaker_active = self._has_speaker  # until the devices say otherwise
                self._emit(fx.Play(pcm, rate), fx.RecordAudio("model", pcm, rate))
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
                self._record(records.Notice(explanation))
            case events.Grounding(sources=sources, queries=queries):
                self.state.transcript.ground(tuple((s.title, s.uri) for s in sources), queries)
            case events.SessionId(id=session_id):
                self._record(records.ServiceSession(session_id))
            case events.GenerationComplete():
                pass  # turnComplete follows once the answer is sent
            case events.Interrupted():
                self._hushed = False
                self._silence()
                self._model_interrupted()
                self._record(records.Interruption())
            case events.TurnComplete():
                self._hushed = False
                self._awaiting_reply = False
                self.state.interim = ""
                self.state.transcript.finish_user_turn()
                self._emit(fx.EndOfTurn())
                self._model_turn_playing = True
                self._close_played_turn()
            case events.Usage():
                self._record(
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
                self._notify(f"the service will close this connection{when}")
            case events.ResumptionHandle(handle=handle, resumable=True) if handle:
                self._record(records.ResumptionHandle(handle))
            case events.ResumptionHandle():
                pass
            case events.LinkChange():
                self._link_changed(item)
            case events.ToolCall(calls=calls):
                self.state.transcript.finish_user_turn()  # the model acts on what was said so far
                if self._tools_enabled:
                    self._emit(fx.RunTools(calls))
                else:
                    results = tuple(events.FunctionResult(call.id, call.name, dict(NO_TOOLS)) for call in calls)
                    self._emit(fx.SendToolResults(results))
            case events.ToolCallCancellation(ids=ids):
                self._emit(fx.CancelTools(ids))
            case inputs.Connected():
                self.state.connection = ConnectionState.CONNECTED
                self._record(records.Connected())
            case inputs.DeviceNotice(message=message):
                self._notify(message)
                self._record(records.DeviceNotice(message))
            case events.ToolCallStatus():
                self._tool_update(item)
            case inputs.ApprovalAsked(call=call):
                self.state.approval = f"allow {call.name}({describe_arguments(call.args)})?"
                self._emit(fx.Notify(f"{self.state.approval} answer y or n"))
            case inputs.ApprovalClosed():
                self.state.approval = None
            case inputs.SharingStarted(description=description):
                self.state.sharing, self.state.sharing_paused = description, False
                self._record(records.Notice(f"sharing {description} with the model"))
            case inputs.SharingStopped(reason=reason):
                self.state.sharing = None
                self._record(records.Notice(reason))
            case inputs.Picture():
                self._picture(item)
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
                    self._emit(fx.Record(records.Failure(error)))  # kept; the command line says it
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
                self._model_interrupted() if interrupted else transcript.model_turn_complete()
            case records.Connected():
                self.state.connection = ConnectionState.CONNECTED
            case _:
                self._apply_fact(record)

    def _apply_fact(self, record: records.Record) -> None:
        """What a record changes on screen, made now or read back (livecli.conversation.facts)."""
        self._emit(*facts.apply(self.state, record, self._prices))
        if isinstance(record, records.UsageReport):
            self._check_budget()

    # -- the microphone and the devices ------------------------------------------------------

    def _mic_chunk(self, chunk: inputs.MicChunk) -> None:
        self.state.mic_level_dbfs = chunk.level_dbfs  # what the model would hear
        if self.state.muted:
            return
        if chunk.level_dbfs > SPEECH_DBFS:
            self._speech_ended_at = chunk.ended_at
            self._idle.active(chunk.ended_at)
            self._wake("speech")
        self._emit(
            fx.SendAudio(chunk.pcm, chunk.ended_at), fx.RecordAudio("user", chunk.pcm, INPUT_RATE, at=chunk.ended_at)
        )

    def _tick(self, tick: inputs.Tick) -> None:
        self._speaker_active = tick.speaker_active
        self._queued_s = tick.queued_s
        self._watch_idle(tick.now)
        self.state.device_status = tick.device_status
        self.state.mic_gated = tick.mic_gated
        self.state.echo = tick.echo
        if tick.mic_down or self.state.muted:
            self.state.mic_level_dbfs = SILENCE_DBFS
        self._measure_reply(tick.playback_started_at)
        self._close_played_turn()

    def _measure_reply(self, started: float | None) -> None:
        """Voice to voice: the end of the user's speech to the answer starting to play."""
        if started is None or started == self._playback_seen:
            return
        self._playback_seen = started
        if self._speech_ended_at is not None and started > self._speech_ended_at:
            latency = started - self._speech_ended_at
            self.state.reply_latency_ms = latency * 1000
            self._speech_ended_at = None
            self._emit(fx.Measure("voice_to_voice", latency))

    def _close_played_turn(self) -> None:
        """A complete model turn ends for the user when its audio has played."""
        if self._model_turn_playing and not (self._has_speaker and self._speaker_active):
            self._model_turn_playing = False
            self._answer_audio_s = 0.0
            self.state.transcript.model_turn_complete()

    def _silence(self) -> None:
        self._speaker_active = False
        self._emit(fx.Flush())

    def _model_interrupted(self) -> None:
        self._model_turn_playing = False
        self._answer_audio_s = 0.0
        self.state.transcript.model_interrupted()

    # -- the link -------------------------------------------------------------------------------

    def _link_changed(self, change: events.LinkChange) -> None:
        self.state.connection = change.state
        if change.state is ConnectionState.RECONNECTING:
            self._model_interrupted()  # an answer cut off by the drop will not be completed
            attempt = f" (attempt {change.attempt})" if change.attempt else ""
            self._notify(f"reconnecting{attempt}: {change.reason}")
        elif change.state is ConnectionState.CONNECTED and change.gap_s is None:  # not a reconnection
            self._record(records.Notice(f"{change.reason}: continuing in a fresh session that knows the earlier turns"))
        elif change.state is ConnectionState.CONNECTED:
            self._record(records.Reconnected(change.reason, change.gap_s, change.resumed, change.dropped_s))

    # -- tools ----------------------------------------------------------------------------------

    def _tool_update(self, update: events.ToolCallStatus) -> None:
        key = update.id or update.name
        if key not in self.state.tools:
            self._record(records.ToolCalled(update.id, update.name, dict(update.args)))
        if not update.finished:
            current = self.state.tools[key]
            self.state.tools[key] = dataclasses.replace(current, state=update.state.value)
            return
        finished = records.ToolFinished(
            id=update.id,
            name=update.name,
            response=dict(update.response or {}),
            state=update.state.value,
            approval=update.approval,
            duration_s=update.duration_s,
        )
        self._record(finished)

    # -- commands -------------------------------------------------------------------------------

    def _command(self, command: inputs.Command) -> None:
        match command:
            case inputs.Quit():
                self._emit(fx.Stop())
            case inputs.InputEnded():
                self._input_ended = True
            case inputs.ToggleSharing() if self.state.sharing is not None:
                self.state.sharing_paused = not self.state.sharing_paused
                self._notify(
                    f"{'paused sharing' if self.state.sharing_paused else 'sharing again'}: {self.state.sharing}"
                )
                self._emit(fx.PauseSharing(self.state.sharing_paused))
            case inputs.LookNow() if self.state.sharing is not None:
                if not self.state.sharing_paused:  # a paused share shows nothing
                    self._emit(fx.RequestLook())
            case inputs.ToggleSharing() | inputs.LookNow():
                self._notify("nothing is shared: talk --screen or --camera shares, /image PATH shows a picture")
            case inputs.ToggleMute():
                self.state.muted = not self.state.muted
                if self.state.muted:
                    self.state.mic_level_dbfs = SILENCE_DBFS
                    self._emit(fx.EndAudioStream())
            case inputs.Hush():
                self._hush()
            case inputs.Answer(yes=yes):
                if self.state.approval is not None:
                    self._emit(fx.ResolveApproval(yes))
            case inputs.SendText(text=text) if self.state.approval is not None and text.lower() in YES | NO:
                self._emit(fx.ResolveApproval(text.lower() in YES))
            case inputs.SendText(text=text) if text.startswith("/"):
                self._slash_command(text)
            case inputs.SendText(text=text):
                self._wake("typing")
                self.state.transcript.add_user_text(text)
                self._awaiting_reply = True
                self._emit(fx.SendTextToModel(text))

    def _slash_command(self, line: str) -> None:
        """`/system TEXT`: a new system instruction for the rest of the session."""
        name, _, argument = line.partition(" ")
        argument = argument.strip()
        if name == "/system" and argument:
            self.state.system = argument
            self._record(records.Notice(f"system instruction changed: {shorten(argument, SUMMARY_CHARS)}"))
            self._emit(fx.UpdateSystem(argument))
        elif name in ("/image", "/look") and argument:
            self._emit(fx.LoadPicture(argument))
        else:
            self._notify(f"unknown command {shorten(line, 40)}: type /system TEXT or /image PATH (or a line without /)")

    def _picture(self, picture: inputs.Picture) -> None:
        """Show the model a picture; the record says so, and keeps it when pictures are kept.
        A standby is not woken by the shared screen changing, only by a picture asked for."""
        if self.state.connection is ConnectionState.STANDBY and not picture.asked:
            return
        self._wake("a picture")
        self._emit(fx.SendPicture(picture.jpeg, picture.mime_type))
        kept = self._keep_pictures
        if kept:
            self._emit(fx.RecordPicture(picture.jpeg, picture.mime_type))
        self._record(records.PictureSent(picture.source, picture.width, picture.height, len(picture.jpeg), kept))

    def _hush(self) -> None:
        """Silence the answer now; in half duplex this also opens the microphone."""
        if not self._has_speaker or not (self._speaker_active or self._model_turn_playing):
            return
        self._hushed = not self._model_turn_playing  # more of this answer may still come
        self._silence()
        self._emit(fx.OpenMic())
        answer = self.state.transcript.open_turn(Speaker.MODEL)
        if answer is not None and self._answer_audio_s > 0:  # its words run ahead of its voice: keep what was heard
            answer.cut((self._answer_audio_s - self._queued_s) / self._answer_audio_s)
        heard = " ".join(answer.text.split()[-HEARD_WORDS:]) if answer is not None else ""
        self._model_interrupted()
        self._record(records.Interruption(by="key"))
        if self._hushed:  # the model is still talking: stop it, and say how far the user listened
            where = f' after "…{heard}"' if heard else ""
            self._emit(fx.SendContext(f"[I stopped your answer{where}. Wait for me to speak.]"))

    # -- what the assistant is doing ------------------------------------------------------------

    def _assistant_state(self) -> AssistantState:
        if self.state.connection is ConnectionState.CLOSED:
            return AssistantState.ENDED
        if self.state.connection is ConnectionState.CONNECTING:
            return AssistantState.CONNECTING
        if any(not activity.finished for activity in self.state.tools.values()):
            return AssistantState.RUNNING_TOOL
        if self._has_speaker and self._speaker_active:
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
            self._record(
                records.Notice(f"standby after {self._idle.describe()} without speech: speak or type to go on")
            )
            self._emit(fx.Standby())

    def _wake(self, why: str) -> None:
        if self.state.connection is ConnectionState.STANDBY:
            self.state.connection = ConnectionState.CONNECTING
            self._notify(f"{why}: connecting again…")
            self._emit(fx.Wake())
            if self.state.sharing is not None and not self.state.sharing_paused:
                self._emit(fx.RequestLook())  # what is on screen now, not what was before the standby

    def _check_budget(self) -> None:
        """Warn at BUDGET_WARNING of the budget, end the session once the estimate passes it."""
        budget, cost = self.state.budget_usd, self.state.cost
        if budget is None or cost is None or cost.usd is None:
            return
        if cost.usd > budget and not self._stopping:
            self._stopping = True
            reason = f"budget: {cost} passed the budget of {usd_text(budget)}"
            self._record(records.Notice(f"{reason}: ending the session"))
            self._emit(fx.Stop(reason))
        elif self.state.near_budget and not self._budget_warned:
            self._budget_warned = True
            self._notify(f"{cost} of the {usd_text(budget)} budget used: the session ends when it is spent")

    def _all_answered(self) -> bool:
        """Nothing asked is still waiting for (or playing) its answer."""
        idle = (AssistantState.LISTENING, AssistantState.HEARING, AssistantState.MUTED, AssistantState.CONNECTING)
        return self.state.assistant in idle and not (
            self._model_turn_playing or self.state.transcript.open_turn(Speaker.USER)
        )

    # -- effects --------------------------------------------------------------------------------

    def _turn_done(self, turn: Turn) -> None:
        self._emit(fx.ShowTurn(turn))
        text = turn.text.strip()
        if turn.speaker is Speaker.USER:
            self._effects.append(fx.Record(records.UserTurn(text, typed=turn.typed)))
        else:
            sources = [{"title": title, "uri": uri} for title, uri in turn.sources]
            self._effects.append(fx.Record(records.ModelTurn(text, turn.interrupted, sources, list(turn.queries))))

    def _record(self, record: records.Record) -> None:
        """A fact made now: stored, and applied to what the user sees."""
        self._emit(fx.Record(record))
        self._apply_fact(record)

    def _notify(self, message: str) -> None:
        self._emit(*facts.notify(self.state, message))

    def _emit(self, *effects: fx.Effect) -> None:
        self._effects.extend(effects)
