"""livecli's Live connection against the fake 2026 service: every new field becomes an event, the
per-model table shapes the setup, and refusals become one line the user can act on."""

from __future__ import annotations

import asyncio
import uuid

import numpy as np
import pytest

from livecli import events
from livecli.errors import AuthError, ConfigError, ConnectionFailed, QuotaExceeded
from livecli.live import LiveConnection, build_config, live_models
from livecli.models import can_reply_in_text
from livecli.settings import Settings
from tests.support.fake_live import make_tone
from tests.support.file_audio import silence, tone

THINKING = "gemini-3.8-live-extended-thinking"
TRANSLATE = "gemini-3.5-live-translate-preview"


async def events_until(conn: LiveConnection, done, timeout: float = 8.0) -> list:
    found: list = []

    async def run():
        async for event in conn.events():
            found.append(event)
            if done(found):
                return

    await asyncio.wait_for(run(), timeout)
    return found


def turns_done(n: int = 1):
    return lambda found: sum(isinstance(e, events.TurnComplete) for e in found) >= n


def converse(text: str | None = None, *, speech=None, settings=None, until=None, api_key="key", **options):
    """Open a LiveConnection, say `text` (or send `speech` PCM), and collect events until `until`."""

    async def main():
        async with LiveConnection(settings or Settings(), api_key=api_key, **options) as conn:
            if text is not None:
                await conn.send_text(text)
            if speech is not None:
                for start in range(0, len(speech), 3200):
                    await conn.send_audio(speech[start : start + 3200])
            return await events_until(conn, until or turns_done())

    return asyncio.run(main())


def kinds(found) -> list[str]:
    return [type(e).__name__ for e in found]


def test_turn_end_arrives_in_one_message_and_in_order(fake):
    fake(
        api_key="key",
        pack_turn_end=True,
        thoughts="Secret reasoning.",
        echo_text=False,
        reply_text="Hello there friend",
        reply_seconds=0.5,
    )
    found = converse("hi", until=lambda f: any(isinstance(e, events.Usage) for e in f))
    # the last message held the last audio part, the transcription, generationComplete, turnComplete, usage
    assert kinds(found)[-5:] == ["ModelAudio", "OutputTranscript", "GenerationComplete", "TurnComplete", "Usage"]
    assert b"".join(e.pcm for e in found if isinstance(e, events.ModelAudio)) == make_tone(0.5)
    assert "".join(e.text for e in found if isinstance(e, events.OutputTranscript)) == "Hello there friend"
    assert not any("Secret" in str(e) for e in found)  # thought parts never reach livecli
    usage = found[-1]
    assert usage.thoughts_tokens == 5 and usage.response_by_modality == {"AUDIO": 16}
    assert usage.prompt_by_modality["TEXT"] > 0 and usage.total_tokens == usage.prompt_tokens + 16 + 5


def test_a_refused_turn_says_why_and_the_model_waits(fake):
    fake(api_key="key", turn_complete_reason="PROHIBITED_INPUT_CONTENT", waiting_for_input=True)
    found = converse("something bad")
    reason = next(e for e in found if isinstance(e, events.TurnEndReason))
    assert reason == events.TurnEndReason(
        "PROHIBITED_INPUT_CONTENT", "the service refused what was said (prohibited content)"
    )
    assert kinds(found)[-3:] == ["TurnEndReason", "WaitingForInput", "TurnComplete"]


def test_hearing_the_user_voice_activity_and_interim_transcription(fake):
    fake(
        api_key="key",
        voice_activity=True,
        interim_transcripts=True,
        user_transcripts=("open the window",),
        transcript_word_ms=100,
    )
    speech = np.concatenate([tone(0.6), silence(0.7)]).tobytes()
    found = converse(speech=speech)
    activity = [e.speaking for e in found if isinstance(e, events.VoiceActivity)]
    assert activity == [True, False]
    interim = [e.text for e in found if isinstance(e, events.InterimInputTranscript)]
    assert interim and interim[0] == "open" and all(b.startswith(a) for a, b in zip(interim, interim[1:]))
    assert "".join(e.text for e in found if isinstance(e, events.InputTranscript)) == "open the window"


def test_grounded_answer_names_its_sources_and_queries(fake):
    from google.genai import types

    fake(
        api_key="key",
        grounding={
            "webSearchQueries": ["tallest building"],
            "groundingChunks": [
                {"web": {"uri": "https://example.org/a", "title": "Skyscrapers"}},
                {"web": {"uri": "https://example.org/b"}},
            ],
        },
        reply_seconds=0.2,
        send_speed=20,
    )
    found = converse("what is the tallest building", tools=[types.Tool(google_search=types.GoogleSearch())])
    (grounding,) = [e for e in found if isinstance(e, events.Grounding)]
    assert grounding.queries == ("tallest building",)
    assert grounding.sources == (
        events.GroundingSource("Skyscrapers", "https://example.org/a"),
        events.GroundingSource("https://example.org/b", "https://example.org/b"),
    )


def test_background_work_reports_its_status_and_speaks_again(fake):
    fake(
        api_key="key",
        echo_text=False,
        filler_text="One moment.",
        reply_text="It is done.",
        reply_seconds=0.2,
        send_speed=20,
    )
    found = converse("plan my trip", settings=Settings(model=THINKING), thinking_level="high", until=turns_done(2))
    sequence = [
        e.status if isinstance(e, events.InteractionStatus) else type(e).__name__
        for e in found
        if isinstance(e, (events.InteractionStatus, events.TurnComplete))
    ]
    assert sequence == ["IN_PROGRESS", "IN_PROGRESS", "TurnComplete", "IDLE", "TurnComplete"]
    assert "".join(e.text for e in found if isinstance(e, events.OutputTranscript)) == "One moment.It is done."


def test_vertex_session_id_rateless_audio_and_calls_without_ids_answered_by_name(fake):
    server = fake(
        platform="vertex-old",
        tool_calls={"time": {"name": "clock", "args": {}}},
        reply_text=lambda turn: (
            f"It is {turn.tool_responses[0]['response']['result']}." if turn.tool_responses else "Hm."
        ),
        reply_seconds=0.2,
        send_speed=20,
    )

    async def main():
        async with LiveConnection(Settings(), api_key=None) as conn:  # Vertex from the environment
            assert conn.session_id is not None
            await conn.send_text("what time is it")
            found = await events_until(conn, lambda f: any(isinstance(e, events.ToolCall) for e in f))
            (call,) = found[-1].calls
            await conn.send_tool_results([events.FunctionResult(call.id, call.name, {"result": "noon"})])
            # 3.8 runs calls in the background: the turn ends, the result is spoken in the next
            return found + await events_until(conn, turns_done(2))

    found = asyncio.run(main())
    assert isinstance(found[0], events.SessionId) and uuid.UUID(found[0].id)
    assert kinds(found).count("SessionId") == 1
    assert {e.rate for e in found if isinstance(e, events.ModelAudio)} == {24000}  # audio/pcm, no rate
    assert "".join(e.text for e in found if isinstance(e, events.OutputTranscript)) == "It is noon."
    assert server.tool_responses[0].data == [{"name": "clock", "response": {"result": "noon"}}]


# ------------------------------------------------------------------ the per-model table


def test_talk_text_on_a_model_that_only_speaks_asks_for_its_transcription():
    config = build_config(Settings(text=True))
    assert not can_reply_in_text("gemini-3.8-live")
    assert config.response_modalities == ["AUDIO"] and config.output_audio_transcription is not None
    older = build_config(Settings(text=True, model="gemini-live-2.5-flash-preview"))
    assert older.response_modalities == ["TEXT"] and older.output_audio_transcription is None


def test_thinking_levels_and_translation_only_where_the_model_takes_them():
    assert build_config(Settings(model=THINKING), thinking_level="low").thinking_config.thinking_level.value == "LOW"
    with pytest.raises(ConfigError, match="gemini-3.8-live takes no thinking level"):
        build_config(Settings(), thinking_level="high")
    with pytest.raises(ConfigError, match="takes low, medium, high"):
        build_config(Settings(model=THINKING), thinking_level="extreme")
    with pytest.raises(ConfigError, match="give the language to translate into"):
        build_config(Settings(model=TRANSLATE))
    with pytest.raises(ConfigError, match="does not translate"):
        build_config(Settings(), translate_to="de")


@pytest.mark.parametrize(
    "model,options",
    [("gemini-3.8-live", {}), (THINKING, {"thinking_level": "medium"}), (TRANSLATE, {"translate_to": "fr"})],
)
def test_each_model_takes_the_setup_livecli_builds_for_it(fake, model, options):
    from google.genai import types

    server = fake(api_key="key", reply_seconds=0.2, send_speed=20)
    settings = Settings(model=model, system="Be brief.", text=True, voice="Kore")
    tools = [types.Tool(function_declarations=[types.FunctionDeclaration(name="f", description="d")])]

    async def main():
        async with LiveConnection(settings, api_key="key", tools=tools, **options):
            pass

    asyncio.run(main())  # the fake refuses what the real model would
    setup = server.setups[0]
    assert not {"proactivity"} & set(setup) and "enableAffectiveDialog" not in setup["generationConfig"]
    if model == TRANSLATE:
        assert "tools" not in setup and "systemInstruction" not in setup


# ------------------------------------------------------------------ refusals


def refused(server, settings=None, during=None, api_key="key") -> BaseException:
    async def main():
        async with LiveConnection(settings or Settings(), api_key=api_key) as conn:
            if during is not None:
                await asyncio.to_thread(during)
            await events_until(conn, lambda found: False, timeout=10)

    with pytest.raises(Exception) as info:
        asyncio.run(main())
    return info.value


def test_quota_refusal_is_one_line_with_the_service_s_words_and_what_to_do(fake):
    error = refused(fake(api_key="key", quota_exceeded=True))
    assert isinstance(error, QuotaExceeded)
    assert str(error).startswith("the Live service refused for quota (1011): You exceeded your current quota")
    assert "livecli does not retry" in str(error) and "\n" not in str(error)


def test_unknown_model_names_it_and_how_to_list_live_models(fake):
    error = refused(fake(api_key="key"), Settings(model="gemini-4-live-nope"))
    assert isinstance(error, AuthError)
    assert str(error) == (
        "the Live service does not know the model 'gemini-4-live-nope' or cannot do Live with it (API version v1) — "
        "`livecli models` lists the Live models your key can use"
    )


def test_live_models_lists_what_the_key_can_hold_a_live_session_with(fake):
    fake(api_key="key")
    models = live_models("key")
    assert "gemini-3.8-live" in models and "text-embedding-004" not in models
    with pytest.raises(AuthError, match=r"^the service did not list its models \(400\): API key not valid"):
        live_models("wrong")


def test_a_rest_call_to_a_service_that_cannot_be_reached_is_one_line(fake, monkeypatch):
    fake(api_key="key")
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", "https://127.0.0.1:9")  # nothing listens there
    with pytest.raises(ConnectionFailed, match=r"^cannot reach the Live service: Connection refused$"):
        live_models("key")


def test_invalid_argument_names_the_settings_likely_at_fault(fake):
    server = fake(api_key="key")
    error = refused(
        server,
        Settings(voice="Nobody", language="xx-XX"),
        during=lambda: server.close_connections(1007, "Request contains an invalid argument."),
    )
    assert isinstance(error, AuthError)
    assert str(error) == (
        "the Live service refused the session (1007): Request contains an invalid argument. — "
        "check voice 'Nobody', language 'xx-XX' (unset to try without)"
    )
    text_on_audio_model = refused(server, Settings(text=True, model="gemini-2.5-flash-native-audio-preview-12-2025"))
    assert "may not answer in text: set text = false" in str(text_on_audio_model)


def test_a_goaway_ignored_and_a_deadline_cut_are_drops_to_resume(fake):
    server = fake(api_key="key", connection_deadline=0.3)
    assert isinstance(refused(server), ConnectionFailed)
    server.connection_deadline = None
    error = refused(server, during=lambda: server.go_away(time_left=0.1))
    assert isinstance(error, ConnectionFailed) and "after its goAway (1008)" in str(error)


def test_api_version_setting_and_new_sends(fake):
    server = fake(api_key="key", reply_seconds=0.2, send_speed=20)

    async def main():
        async with LiveConnection(Settings(api_version="v1beta"), api_key="key") as conn:
            await conn.send_video(b"\xff\xd8frame")
            await conn.update_context(system="From now on, answer in French.")
            await conn.send_text("hello")
            await events_until(conn, turns_done())

    asyncio.run(main())
    assert ".v1beta.GenerativeService.BidiGenerateContent" in server.handshakes[0].data["path"]
    assert [(r.kind, r.data) for r in server.media_in] == [("video", b"\xff\xd8frame")]
    assert server.context_updates[0].data["systemInstruction"]["parts"][0]["text"] == "From now on, answer in French."
