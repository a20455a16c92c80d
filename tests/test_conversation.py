"""The conversation core, fed one input at a time: what the user sees, hears and what is sent and kept.

Each test tells one story of a talk session in microseconds; the end-to-end tests
prove the same through real devices.
"""

from livecli import events, records
from livecli.conversation import Conversation
from livecli.conversation import effects as fx
from livecli.conversation.inputs import (
    Answer,
    ApprovalAsked,
    ApprovalClosed,
    Connected,
    DeviceNotice,
    Ended,
    Hush,
    InputEnded,
    LookNow,
    MicChunk,
    Picture,
    Quit,
    SendText,
    SharingStarted,
    SharingStopped,
    Tick,
    ToggleMute,
    ToggleSharing,
)
from livecli.events import AssistantState, CallState, ConnectionState, FunctionCall, LinkChange, ToolCallStatus
from livecli.transcript import Speaker, Turn

LOUD = -20.0
QUIET = -70.0


def run(conversation, *items):
    """Feed `items` in order; every effect they caused, in order."""
    found = []
    for item in items:
        found += conversation.handle(item)
    return found


def connected(**options) -> Conversation:
    conversation = Conversation(model="gemini-3.8-live", voice="Kore", **options)
    conversation.handle(Connected())
    return conversation


def stored(effects):
    return [effect.record for effect in effects if isinstance(effect, fx.Record)]


def shown(effects):
    return [effect.turn.line() for effect in effects if isinstance(effect, fx.ShowTurn)]


def of(kind, effects):
    return [effect for effect in effects if isinstance(effect, kind)]


def test_a_spoken_question_is_sent_answered_played_and_kept_in_order():
    talk = connected()
    effects = run(
        talk,
        MicChunk(b"\x01\x00" * 1600, ended_at=10.1, level_dbfs=LOUD),
        events.InputTranscript("what time"),
        events.InputTranscript(" is it"),
    )
    assert of(fx.SendAudio, effects) == [fx.SendAudio(b"\x01\x00" * 1600, 10.1)]
    assert of(fx.RecordAudio, effects)[0].stream == "user"
    assert talk.state.assistant is AssistantState.THINKING

    effects = run(talk, events.ModelAudio(b"\x00\x00" * 240, 24000), events.OutputTranscript("It is noon."))
    assert of(fx.Play, effects) == [fx.Play(b"\x00\x00" * 240, 24000)]
    assert talk.state.assistant is AssistantState.SPEAKING

    effects = run(talk, Tick(speaker_active=True, playback_started_at=10.9), events.TurnComplete())
    assert shown(effects) == ["You: what time is it"]  # the user's turn closes when the answer is complete
    assert of(fx.Measure, effects) == [fx.Measure("voice_to_voice", 10.9 - 10.1)]
    assert talk.state.reply_latency_ms == (10.9 - 10.1) * 1000
    assert of(fx.EndOfTurn, effects) == [fx.EndOfTurn()]

    effects = run(talk, Tick(speaker_active=True))
    assert shown(effects) == []  # still playing: the answer is not over for the user
    effects = run(talk, Tick(speaker_active=False))
    assert shown(effects) == ["Gemini: It is noon."]
    assert stored(effects) == [records.ModelTurn("It is noon.")]
    assert talk.state.assistant is AssistantState.LISTENING


def test_barge_in_silences_the_speaker_and_marks_the_answer_cut():
    talk = connected()
    run(talk, events.OutputTranscript("A long story"), Tick(speaker_active=True))
    effects = run(talk, events.InputTranscript("stop"), events.Interrupted())
    assert of(fx.Flush, effects) == [fx.Flush()]
    assert shown(effects) == ["Gemini: A long story [interrupted]"]
    assert records.Interruption() in stored(effects)
    assert talk.state.transcript.open_turn(Speaker.USER).text == "stop"  # the barge-in keeps its words


def test_the_hush_key_stops_the_answer_and_drops_the_rest_of_its_audio():
    talk = connected()
    run(talk, events.OutputTranscript("Once upon"), Tick(speaker_active=True))
    effects = run(talk, Hush())
    assert of(fx.Flush, effects) and of(fx.OpenMic, effects)
    assert records.Interruption(by="key") in stored(effects)
    assert of(fx.Play, run(talk, events.ModelAudio(b"\x00\x00" * 240, 24000))) == []
    run(talk, events.TurnComplete(), Tick(speaker_active=False))
    assert of(fx.Play, run(talk, events.ModelAudio(b"\x00\x00" * 240, 24000))) != []  # the next answer plays


def test_a_hushed_answer_shows_only_what_was_heard_and_the_model_is_told():
    talk = connected()
    run(talk, events.OutputTranscript("One two three four five six seven eight nine"), Tick(speaker_active=True))
    effects = run(talk, Hush())
    assert shown(effects) == ["Gemini: One two three four five six seven eight nine [interrupted]"]
    assert of(fx.SendContext, effects) == [
        fx.SendContext(
            '[I stopped your answer after "…two three four five six seven eight nine". Wait for me to speak.]'
        )
    ]
    effects = run(talk, events.OutputTranscript(" ten eleven"), Tick(speaker_active=False))
    assert talk.state.transcript.open_turn(Speaker.MODEL) is None  # the unheard rest is not printed
    assert talk.state.assistant is AssistantState.LISTENING


def test_hush_after_the_answer_is_complete_only_silences_it():
    talk = connected()
    run(talk, events.ModelAudio(b"\x00\x00" * 240, 24000), events.OutputTranscript("Done."), events.TurnComplete())
    effects = run(talk, Hush())
    assert of(fx.Flush, effects) and not of(fx.SendContext, effects)  # nothing more is coming


def test_hush_with_nothing_playing_does_nothing():
    assert run(connected(), Hush()) == []


def test_mute_stops_sending_and_tells_the_service_once():
    talk = connected()
    effects = run(talk, ToggleMute())
    assert of(fx.EndAudioStream, effects) == [fx.EndAudioStream()]
    assert talk.state.muted
    effects = run(talk, MicChunk(b"\x01\x00" * 1600, ended_at=1.0, level_dbfs=LOUD))
    assert of(fx.SendAudio, effects) == [] and of(fx.RecordAudio, effects) == []
    run(talk, ToggleMute())
    assert of(fx.SendAudio, run(talk, MicChunk(b"\x01\x00", ended_at=2.0, level_dbfs=QUIET)))


def test_muted_says_so_instead_of_listening():
    talk = connected()
    run(talk, ToggleMute())
    assert talk.state.assistant is AssistantState.MUTED
    run(talk, ToggleMute())
    assert talk.state.assistant is AssistantState.LISTENING


def test_the_end_of_piped_input_ends_the_session_once_the_answer_has_played():
    talk = connected()
    effects = run(talk, SendText("what is the capital of France?"), InputEnded())
    assert of(fx.Stop, effects) == []  # the question waits for its answer
    effects = run(
        talk, events.ModelAudio(b"\x00\x00" * 240, 24000), events.OutputTranscript("Paris."), events.TurnComplete()
    )
    assert of(fx.Stop, effects) == []  # still playing
    effects = run(talk, Tick(speaker_active=False))
    assert shown(effects) == ["Gemini: Paris."] and of(fx.Stop, effects) == [fx.Stop()]
    assert of(fx.Stop, run(talk, Tick())) == []  # said once


def test_empty_input_ends_the_session_at_once():
    assert run(Conversation(model="m", voice=None), InputEnded()) == [fx.Stop()]


def test_typed_text_is_a_whole_turn_sent_as_text():
    talk = connected()
    effects = run(talk, SendText("hello by keyboard"))
    assert of(fx.SendTextToModel, effects) == [fx.SendTextToModel("hello by keyboard")]
    assert stored(effects) == [records.UserTurn("hello by keyboard", typed=True)]
    assert talk.state.assistant is AssistantState.THINKING


def test_a_tool_call_that_needs_approval_asks_and_takes_the_answer():
    talk = connected()
    call = FunctionCall("c1", "delete_file", {"path": "/tmp/x"})
    effects = run(talk, events.InputTranscript("delete it"), events.ToolCall((call,)))
    assert of(fx.RunTools, effects) == [fx.RunTools((call,))]
    assert shown(effects) == ["You: delete it"]  # the model acts on what was said so far

    effects = run(
        talk,
        ToolCallStatus("c1", "delete_file", call.args, CallState.WAITING_APPROVAL),
        ApprovalAsked(call),
    )
    assert stored(effects) == [records.ToolCalled("c1", "delete_file", {"path": "/tmp/x"})]
    assert talk.state.approval == "allow delete_file(path='/tmp/x')?"
    assert talk.state.assistant is AssistantState.RUNNING_TOOL
    assert run(talk, SendText("y")) == [fx.ResolveApproval(True)]  # a typed y answers, it is not sent

    run(talk, ApprovalClosed(), ToolCallStatus("c1", "delete_file", call.args, CallState.RUNNING, approval="approved"))
    effects = run(
        talk,
        ToolCallStatus(
            "c1", "delete_file", call.args, CallState.DONE, 0.25, {"result": "deleted /tmp/x"}, approval="approved"
        ),
    )
    assert stored(effects) == [
        records.ToolFinished("c1", "delete_file", {"result": "deleted /tmp/x"}, "done", "approved", 0.25)
    ]
    [activity] = [effect.activity for effect in of(fx.ShowTool, effects)]
    assert activity.line() == "Tool: delete_file(path='/tmp/x') → \"deleted /tmp/x\" [done, 0.2 s]"
    assert talk.state.approval is None and talk.state.assistant is AssistantState.THINKING  # the answer comes next


def test_an_approval_key_without_a_question_does_nothing():
    assert run(connected(), Answer(True)) == []


def test_without_tools_every_call_is_answered_with_an_error():
    talk = connected(tools_enabled=False)
    effects = run(talk, events.ToolCall((FunctionCall("c1", "anything", {}),)))
    [send] = of(fx.SendToolResults, effects)
    assert send.results == (events.FunctionResult("c1", "anything", {"error": "no tools are enabled in this session"}),)


def test_the_model_cancelling_a_call_stops_it():
    assert run(connected(), events.ToolCallCancellation(("c1", "c2"))) == [fx.CancelTools(("c1", "c2"))]


def test_a_goaway_handover_is_announced_and_the_handles_are_kept():
    talk = connected()
    effects = run(talk, events.ResumptionHandle("h1", True), events.GoAway(50.0), events.ResumptionHandle(None, False))
    assert stored(effects) == [records.ResumptionHandle("h1")]
    assert of(fx.Notify, effects) == [fx.Notify("the service will close this connection in 50 s")]
    effects = run(talk, LinkChange(ConnectionState.CONNECTED, "goAway", gap_s=0.0, resumed=True))
    assert stored(effects) == [records.Reconnected("goAway", 0.0, True, 0.0)]
    assert talk.state.connection is ConnectionState.CONNECTED


def test_a_drop_cuts_the_answer_and_the_resume_says_how_long_it_took():
    talk = connected()
    run(talk, events.OutputTranscript("Half an ans"))
    effects = run(talk, LinkChange(ConnectionState.RECONNECTING, "closed (1006)", attempt=1))
    assert shown(effects) == ["Gemini: Half an ans [interrupted]"]
    assert talk.state.connection is ConnectionState.RECONNECTING
    effects = run(talk, LinkChange(ConnectionState.CONNECTED, "closed (1006)", gap_s=0.42, resumed=True, dropped_s=1.5))
    assert of(fx.Notify, effects) == [
        fx.Notify("reconnected in 420 ms (resumed); 1.5 s of microphone audio did not fit the buffer")
    ]


def test_a_continued_session_that_cannot_resume_says_so_without_a_reconnection():
    talk = connected()
    effects = run(talk, LinkChange(ConnectionState.CONNECTED, "could not resume: handle expired", resumed=False))
    assert stored(effects) == [
        records.Notice("could not resume: handle expired: continuing in a fresh session that knows the earlier turns")
    ]


def test_a_lost_device_is_said_once_kept_in_the_record_and_shown_until_it_is_back():
    talk = connected()
    effects = run(
        talk, DeviceNotice("microphone 'USB' lost: reopening…"), Tick(mic_down=True, device_status="no microphone")
    )
    assert stored(effects) == [records.DeviceNotice("microphone 'USB' lost: reopening…")]
    assert talk.state.device_status == "no microphone" and talk.state.mic_level_dbfs == -96.0
    run(talk, DeviceNotice("microphone 'USB' back"), Tick())
    assert talk.state.device_status is None


def test_usage_reports_add_up():
    talk = connected()
    effects = run(talk, events.Usage(100, 20, 120), events.Usage(150, 30, 180))
    assert [r.total_tokens for r in stored(effects)] == [120, 180]
    assert talk.state.usage.total == 300


def audio_turn(prompt_audio: int, response_audio: int) -> records.UsageReport:
    """A usage report as the service sends it: each turn's own tokens, per modality."""
    return records.UsageReport(
        prompt_audio, response_audio, prompt_audio + response_audio, {"AUDIO": prompt_audio}, {"AUDIO": response_audio}
    )


def test_the_cost_so_far_is_estimated_from_the_models_prices():
    talk = connected()
    run(talk, audio_turn(1_000_000, 0), audio_turn(0, 100_000))  # $3.00 in, $1.20 out on gemini-3.8-live
    assert str(talk.state.cost) == "$4.20"


def test_a_model_without_a_known_price_says_so():
    talk = Conversation(model="gemini-9-live-experimental", voice=None)
    run(talk, Connected(), audio_turn(1000, 1000))
    assert str(talk.state.cost) == "unknown price"


def test_config_prices_override_the_published_ones():
    talk = Conversation(
        model="gemini-9-live-experimental", voice=None, prices={"gemini-9-live-experimental": {"input_audio": 1.0}}
    )
    run(talk, Connected(), audio_turn(1_000_000, 0))
    assert str(talk.state.cost) == "$1.00"


def test_the_budget_warns_at_80_percent_and_ends_the_session_when_spent():
    talk = connected(budget_usd=0.50)
    effects = run(talk, audio_turn(100_000, 0))  # $0.30
    assert of(fx.Stop, effects) == [] and not talk.state.near_budget
    effects = run(talk, audio_turn(40_000, 0))  # $0.42
    assert of(fx.Notify, effects) == [fx.Notify("$0.42 of the $0.50 budget used: the session ends when it is spent")]
    assert talk.state.near_budget
    effects = run(talk, audio_turn(30_000, 0))  # $0.51
    assert of(fx.Stop, effects) == [fx.Stop("budget: $0.51 passed the budget of $0.50")]
    assert stored(effects)[-1] == records.Notice("budget: $0.51 passed the budget of $0.50: ending the session")
    assert of(fx.Stop, run(talk, audio_turn(1000, 0))) == []  # said once


def test_quit_stops_and_the_end_keeps_every_open_turn():
    talk = connected()
    assert run(talk, Quit()) == [fx.Stop()]
    run(talk, events.InputTranscript("one more thing"))
    effects = run(talk, Ended("the Live connection closed (1011): boom"))
    assert stored(effects) == [
        records.UserTurn("one more thing"),
        records.Failure("the Live connection closed (1011): boom"),
    ]
    assert talk.state.assistant is AssistantState.ENDED


def test_without_a_speaker_an_answer_is_over_when_it_is_complete():
    talk = connected(has_speaker=False)
    effects = run(talk, events.ModelText("Hello."), events.TurnComplete())
    assert shown(effects) == ["Gemini: Hello."]


def test_a_continued_conversation_starts_with_its_earlier_turns():
    earlier = [Turn(Speaker.USER, "hi", done=True), Turn(Speaker.MODEL, "hello", done=True)]
    talk = Conversation(model="m", voice=None, earlier=earlier)
    assert talk.state.transcript.recent() == [("user", "hi"), ("model", "hello")]
    assert talk.state.assistant is AssistantState.CONNECTING


def test_replayed_records_rebuild_what_talk_showed():
    talk = Conversation(model="m", voice=None)
    effects = run(
        talk,
        records.Connected(),
        events.InputTranscript("what is 2+2"),
        records.UserTurn("what is 2+2"),
        events.OutputTranscript("Four"),
        records.ToolCalled("c1", "add", {"a": 2, "b": 2}),
        records.ToolFinished("c1", "add", {"result": 4}, "done", "auto", 0.01),
        records.ModelTurn("Four", interrupted=False),
        records.UserTurn("thanks", typed=True),
        records.Reconnected("goAway", 0.05, True),
        records.UsageReport(total_tokens=42),
    )
    assert shown(effects) == ["You: what is 2+2", "Gemini: Four", "You: thanks"]
    assert [e.activity.line() for e in of(fx.ShowTool, effects)] == ["Tool: add(a=2, b=2) → 4 [done, 0.0 s]"]
    assert talk.state.usage.total == 42 and talk.state.notice == "reconnected in 50 ms (resumed)"


def test_an_idle_session_stands_by_and_speech_wakes_it_without_losing_a_word():
    talk = connected(idle_s=60.0)
    run(talk, Tick(now=100.0), MicChunk(b"\x01\x00", ended_at=100.1, level_dbfs=QUIET))
    assert of(fx.Standby, run(talk, Tick(now=159.0))) == []
    effects = run(talk, Tick(now=160.2))
    assert of(fx.Standby, effects) == [fx.Standby()]
    assert stored(effects) == [records.Notice("standby after 1 min without speech: speak or type to go on")]
    assert talk.state.connection is ConnectionState.STANDBY
    assert of(fx.Standby, run(talk, Tick(now=300.0))) == []  # once

    effects = run(talk, MicChunk(b"\x10\x00" * 1600, ended_at=301.0, level_dbfs=LOUD))
    assert of(fx.Wake, effects) == [fx.Wake()]
    assert of(fx.SendAudio, effects)  # the shell keeps it for the new connection
    assert talk.state.connection is ConnectionState.CONNECTING
    effects = run(talk, LinkChange(ConnectionState.CONNECTED, "woken by speech", gap_s=0.4, resumed=True))
    assert talk.state.connection is ConnectionState.CONNECTED


def test_typing_wakes_a_standby_too():
    talk = connected(idle_s=10.0)
    run(talk, Tick(now=0.0), Tick(now=11.0))
    effects = run(talk, SendText("still there?"))
    assert of(fx.Wake, effects) == [fx.Wake()] and of(fx.SendTextToModel, effects)


def test_a_conversation_in_progress_never_stands_by():
    talk = connected(idle_s=10.0)
    run(talk, Tick(now=0.0), events.InputTranscript("tell me a long story"))
    assert of(fx.Standby, run(talk, Tick(now=30.0, speaker_active=True))) == []  # thinking, then speaking
    assert of(fx.Standby, run(talk, Tick(now=35.0))) == []  # the idle time counts from the last activity


def test_a_grounded_answer_keeps_its_sources_under_it():
    talk = connected(has_speaker=False)
    grounding = events.Grounding(
        (events.GroundingSource("Weather in Paris", "https://example.org/paris"),), ("paris weather",)
    )
    effects = run(talk, events.OutputTranscript("It is 21 degrees."), grounding, events.TurnComplete())
    [turn] = [effect.turn for effect in of(fx.ShowTurn, effects)]
    assert turn.source_lines() == [
        "  source: Weather in Paris <https://example.org/paris>",
        "  searched: paris weather",
    ]
    assert stored(effects) == [
        records.ModelTurn(
            "It is 21 degrees.",
            False,
            [{"title": "Weather in Paris", "uri": "https://example.org/paris"}],
            ["paris weather"],
        )
    ]
    replayed = Conversation(model="m", voice=None)
    [turn] = [e.turn for e in of(fx.ShowTurn, run(replayed, stored(effects)[0]))]
    assert turn.sources == (("Weather in Paris", "https://example.org/paris"),)


def test_background_work_shows_working_and_its_follow_up_is_an_answer_like_any_other():
    talk = connected(has_speaker=False)
    run(talk, SendText("book a table"))
    effects = run(
        talk, events.OutputTranscript("One moment."), events.InteractionStatus("IN_PROGRESS"), events.TurnComplete()
    )
    assert shown(effects) == ["Gemini: One moment."]
    assert talk.state.assistant is AssistantState.WORKING
    effects = run(
        talk, events.OutputTranscript("Booked for eight."), events.InteractionStatus("IDLE"), events.TurnComplete()
    )
    assert shown(effects) == ["Gemini: Booked for eight."]
    assert talk.state.assistant is AssistantState.LISTENING


def test_piped_input_waits_for_background_work_to_finish():
    talk = connected(has_speaker=False)
    run(talk, SendText("book a table"), InputEnded())
    effects = run(
        talk, events.OutputTranscript("One moment."), events.InteractionStatus("IN_PROGRESS"), events.TurnComplete()
    )
    assert of(fx.Stop, effects) == []
    effects = run(talk, events.OutputTranscript("Booked."), events.WaitingForInput(), events.TurnComplete())
    assert of(fx.Stop, effects) == [fx.Stop()]


def test_a_refused_answer_says_why():
    talk = connected()
    effects = run(
        talk,
        events.TurnEndReason(
            "PROHIBITED_INPUT_CONTENT", "the service refused to answer: the input broke its content policy"
        ),
    )
    assert stored(effects) == [records.Notice("the service refused to answer: the input broke its content policy")]
    assert talk.state.notice.startswith("the service refused")


def test_the_service_hearing_speech_and_its_running_guess_are_shown():
    talk = connected()
    run(talk, events.VoiceActivity(True), events.InterimInputTranscript("open the"))
    assert talk.state.assistant is AssistantState.HEARING and talk.state.interim == "open the"
    run(
        talk,
        events.InterimInputTranscript("open the window"),
        events.InputTranscript("open the window"),
        events.VoiceActivity(False),
    )
    assert talk.state.interim == "" and talk.state.assistant is AssistantState.THINKING


def test_one_message_with_several_things_loses_none():
    talk = connected(has_speaker=False)
    message = [  # what live.translate_message makes of one server message, in order
        events.ModelAudio(b"\x00\x00" * 4800, 24000),
        events.OutputTranscript("Hello."),
        events.GenerationComplete(),
        events.TurnComplete(),
        events.Usage(10, 5, 15, prompt_by_modality={"AUDIO": 10}, response_by_modality={"AUDIO": 5}),
    ]
    effects = run(talk, *message)
    assert of(fx.Play, effects) and shown(effects) == ["Gemini: Hello."]
    assert talk.state.usage.prompt_by_modality == {"AUDIO": 10}


def test_system_command_changes_the_instruction_without_a_new_session():
    talk = connected()
    effects = run(talk, SendText("/system Answer in French."))
    assert of(fx.UpdateSystem, effects) == [fx.UpdateSystem("Answer in French.")]
    assert of(fx.SendTextToModel, effects) == [] and talk.state.system == "Answer in French."
    effects = run(talk, SendText("/sytem typo"))
    assert of(fx.Notify, effects)[0].message.startswith("unknown command /sytem typo")
    assert of(fx.SendTextToModel, effects) == []


def test_the_service_session_id_is_kept():
    assert stored(run(connected(), events.SessionId("4d9f-uuid"))) == [records.ServiceSession("4d9f-uuid")]


def frame(source="screen 1 (1280x720)", asked=False):
    return Picture(b"\xff\xd8jpeg", "image/jpeg", 1024, 576, source, asked=asked)


def test_a_shared_screen_is_sent_said_in_the_header_paused_by_key_and_kept_when_asked_to():
    talk = connected(keep_pictures=True)
    effects = run(talk, SharingStarted("screen 1 (1280x720)"), frame())
    assert talk.state.sharing == "screen 1 (1280x720)"
    assert of(fx.SendPicture, effects) == [fx.SendPicture(b"\xff\xd8jpeg", "image/jpeg")]
    assert of(fx.RecordPicture, effects) and records.PictureSent("screen 1 (1280x720)", 1024, 576, 6, True) in stored(
        effects
    )
    assert run(talk, LookNow()) == [fx.RequestLook()]
    effects = run(talk, ToggleSharing())
    assert of(fx.PauseSharing, effects) == [fx.PauseSharing(True)] and talk.state.sharing_paused
    assert run(talk, LookNow()) == []  # nothing is looked at while paused
    assert of(fx.PauseSharing, run(talk, ToggleSharing())) == [fx.PauseSharing(False)]


def test_pictures_are_not_kept_unless_asked_and_a_failed_source_is_one_line():
    talk = connected()
    effects = run(talk, frame())
    assert of(fx.RecordPicture, effects) == [] and stored(effects)[-1].kept is False
    effects = run(talk, SharingStopped("cannot share the screen: no display (DISPLAY is unset)"))
    assert stored(effects) == [records.Notice("cannot share the screen: no display (DISPLAY is unset)")]
    assert talk.state.sharing is None


def test_image_command_loads_the_file_off_the_loop_and_sends_it():
    talk = connected()
    assert run(talk, SendText("/image ~/shot.png")) == [fx.LoadPicture("~/shot.png")]
    assert of(fx.SendPicture, run(talk, frame("diagram.png", asked=True)))


def test_a_changing_screen_does_not_wake_a_standby_but_an_asked_picture_does():
    talk = connected(idle_s=1.0)
    run(talk, SharingStarted("screen 1"), Tick(now=0.0), Tick(now=2.0))
    assert talk.state.connection is ConnectionState.STANDBY
    assert run(talk, frame()) == []
    effects = run(talk, frame("diagram.png", asked=True))
    assert of(fx.Wake, effects) and of(fx.RequestLook, effects) and of(fx.SendPicture, effects)


def test_a_hushed_answer_keeps_only_the_words_that_were_heard():
    talk = connected()
    second = b"\x00\x00" * 24000
    run(
        talk,
        *[events.ModelAudio(second, 24000)] * 4,
        events.OutputTranscript("one two three four five six seven eight"),
    )
    effects = run(talk, Tick(speaker_active=True, queued_s=3.0), Hush())  # 1 s of 4 heard
    assert shown(effects) == ["Gemini: one two… [interrupted]"]
    assert of(fx.SendContext, effects) == [
        fx.SendContext('[I stopped your answer after "…one two…". Wait for me to speak.]')
    ]
