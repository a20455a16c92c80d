"""The fake server plays the real 2026 service: its frames, its platforms and the 3.8 models' ways.

The client is the unmodified google-genai SDK (or, for the frames themselves, a bare websocket).
"""

from __future__ import annotations

import asyncio
import json
import re
import ssl
import uuid

import pytest
from google import genai
from google.genai import types
from websockets.asyncio.client import connect as ws_connect

from tests.support.fake_live import make_tone
from tests.test_fake_live import audio_of, collect, has, live_config, output_text, speak

LIVE = "gemini-3.8-live"
OLD = "gemini-live-2.5-flash-preview"


def session_with(model=LIVE, config=None):
    return genai.Client().aio.live.connect(model=model, config=config or live_config())


def flags(msgs, *names):
    """For each message, which of `names` its serverContent sets (in the given order)."""
    found = []
    for m in msgs:
        sc = m.server_content
        found.append(tuple(n for n in names if sc is not None and getattr(sc, n, None)))
    return [f for f in found if f]


def test_frames_are_pretty_printed_json_in_binary_frames(fake):
    srv = fake()

    async def main():
        ctx = ssl.create_default_context(cafile=str(srv.ca_path))
        path = "/ws/google.ai.generativelanguage.v1.GenerativeService.BidiGenerateContent"
        async with ws_connect(
            "wss" + srv.base_url[5:] + path, ssl=ctx, additional_headers={"x-goog-api-key": srv.api_key}
        ) as ws:
            await ws.send(json.dumps({"setup": {"model": f"models/{LIVE}"}}))
            return await ws.recv()

    raw = asyncio.run(main())
    assert isinstance(raw, bytes)  # a binary frame
    assert raw == b'{\n  "setupComplete": {}\n}\n'


def test_a_turn_is_shaped_like_the_service_s(fake):
    srv = fake(reply_seconds=1.0, send_speed=20)

    async def main():
        async with session_with() as session:
            await speak(session)
            return await collect(session, has("turn_complete"))

    msgs = asyncio.run(main())
    parts = [p.inline_data for m in msgs if m.data for p in m.server_content.model_turn.parts]
    assert all(0.2 <= len(b.data) / 2 / 24000 <= 0.24 for b in parts[:-1])  # 200-240 ms parts
    assert audio_of(msgs) == make_tone(1.0)
    (done,) = [m for m in msgs if m.server_content and m.server_content.turn_complete]
    usage = done.usage_metadata  # in the same frame as turnComplete
    assert {d.modality for d in usage.prompt_tokens_details} == {types.MediaModality.TEXT, types.MediaModality.AUDIO}
    assert usage.response_tokens_details == [
        types.ModalityTokenCount(modality=types.MediaModality.AUDIO, token_count=32)
    ]
    assert srv.sent[-2].kind == "serverContent+usageMetadata"


def test_vertex_frames_session_id_rateless_audio_model_role_empty_transcription(fake):
    srv = fake(platform="vertex", reply_seconds=0.3, send_speed=20)

    async def main():
        async with session_with() as session:
            session_id = session.session_id
            await session.send_realtime_input(text="hi")
            return session_id, await collect(session, has("turn_complete"))

    session_id, msgs = asyncio.run(main())
    assert uuid.UUID(session_id).version == 4
    assert srv.handshakes[0].data["path"].startswith("/ws/google.cloud.aiplatform.")
    turns = [m.server_content.model_turn for m in msgs if m.data]
    assert {t.role for t in turns} == {"model"} and {t.parts[0].inline_data.mime_type for t in turns} == {"audio/pcm"}
    assert any(m.server_content and m.server_content.output_transcription == types.Transcription() for m in msgs)
    done = msgs[-1]
    assert done.usage_metadata.response_token_count == round(0.3 * 32)  # sent as candidatesTokenCount
    assert "candidatesTokenCount" in srv.sent[-2].data["usageMetadata"]


@pytest.mark.parametrize(
    "platform,shape", [("developer", r"function-call-\d{19}"), ("vertex", r"[0-9a-f-]{36}"), ("vertex-old", None)]
)
def test_tool_call_ids_as_each_platform_makes_them_and_answers_by_name(fake, platform, shape):
    fake(
        platform=platform,
        tool_calls={"weather": {"name": "get_weather", "args": {"city": "Paris"}}},
        reply_text=lambda turn: f"It is {turn.tool_responses[0]['response']['temp']} degrees.",
        reply_seconds=0.2,
        send_speed=20,
        tool_code=True,
    )

    async def main():
        async with session_with(OLD) as session:
            await session.send_realtime_input(text="the weather please")
            msgs = await collect(session, has("tool_call"))
            (call,) = msgs[-1].tool_call.function_calls
            await session.send_tool_response(
                function_responses=types.FunctionResponse(id=call.id, name=call.name, response={"temp": 21})
            )
            return msgs, call, await collect(session, has("turn_complete"))

    before, call, after = asyncio.run(main())
    if shape is None:
        assert call.id is None
    else:
        assert re.fullmatch(shape, call.id)
    code = [
        p.executable_code
        for m in before
        if m.server_content and m.server_content.model_turn
        for p in m.server_content.model_turn.parts
    ]
    assert code and "get_weather" in code[0].code  # the model's code comes before its toolCall
    assert output_text(after) == "It is 21 degrees."


def test_non_blocking_call_the_model_talks_on_and_the_result_follows_its_scheduling(fake):
    srv = fake(
        tool_calls={"lights": {"name": "lights", "args": {"on": True}}},
        interim_reply="Turning them on.",
        reply_text="The lights are on.",
        reply_seconds=0.2,
        send_speed=20,
    )

    async def ask_and_answer(session, scheduling):
        await session.send_realtime_input(text="lights on")
        spoken = await collect(session, has("turn_complete"))
        (call,) = next(m for m in spoken if m.tool_call).tool_call.function_calls
        await session.send_tool_response(
            function_responses=types.FunctionResponse(
                id=call.id, name=call.name, response={"ok": True}, scheduling=scheduling
            )
        )
        return spoken

    async def main():
        async with session_with(LIVE) as session:  # 3.8: NON_BLOCKING unless declared otherwise
            first = await ask_and_answer(session, "SILENT")
            assert await asyncio.to_thread(srv.wait_event, "tool_result_scheduled")
            await ask_and_answer(session, "WHEN_IDLE")
            return first, await collect(session, has("turn_complete"))

    first, result = asyncio.run(main())
    assert output_text(first) == "Turning them on."  # spoken while the tool runs
    assert output_text(result) == "The lights are on."  # WHEN_IDLE: its own turn afterwards
    assert [e.data["scheduling"] for e in srv.events("tool_result_scheduled")] == ["SILENT", "WHEN_IDLE"]
    assert srv.events("tool_call_cancellation") == []


def test_non_blocking_result_with_interrupt_cuts_the_model_short(fake):
    srv = fake(
        tool_calls={"timer": {"name": "timer", "args": {}}},
        reply_text=lambda turn: "Time is up." if turn.source == "tool_result" else "A long story " * 20,
        reply_seconds=3.0,
        send_speed=1.0,
    )

    async def main():
        async with session_with(LIVE) as session:
            await session.send_realtime_input(text="start the timer")
            call = (await collect(session, has("tool_call")))[-1].tool_call.function_calls[0]
            await collect(session, has("turn_complete"))
            await session.send_realtime_input(text="tell me a story")
            await collect(session, has("model_turn"))  # the story has begun
            await session.send_tool_response(
                function_responses=types.FunctionResponse(
                    id=call.id, name=call.name, response={}, scheduling="INTERRUPT"
                )
            )
            return await collect(session, has("turn_complete", 2))

    msgs = asyncio.run(main())
    assert flags(msgs, "interrupted", "turn_complete")[:2] == [("interrupted",), ("turn_complete",)]
    assert output_text(msgs).endswith("Time is up.")
    assert srv.events("interrupted")[0].data["cause"] == "tool_result"


def test_blocking_call_is_cancelled_by_new_input(fake):
    fake(tool_calls={"lights": {"name": "lights", "args": {}}}, reply_seconds=0.2, send_speed=20)
    blocking = types.Tool(function_declarations=[types.FunctionDeclaration(name="lights", behavior="BLOCKING")])
    config = live_config().model_copy(update={"tools": [blocking]})

    async def main():
        async with session_with(LIVE, config) as session:
            await session.send_realtime_input(text="lights on")
            call = (await collect(session, has("tool_call")))[-1].tool_call.function_calls[0]
            await session.send_realtime_input(text="never mind")
            msgs = await collect(session, has("tool_call_cancellation"))
            return call, msgs[-1].tool_call_cancellation.ids

    call, cancelled = asyncio.run(main())
    assert cancelled == [call.id]


def test_one_message_carries_audio_transcription_turn_complete_and_usage_with_thoughts(fake):
    srv = fake(
        pack_turn_end=True,
        thoughts="The user greets me.",
        reply_text="Hello there friend",
        reply_seconds=0.5,
        echo_text=False,
    )

    async def main():
        async with session_with() as session:
            await session.send_realtime_input(text="hi")
            return await collect(session, has("turn_complete"))

    msgs = asyncio.run(main())
    last = msgs[-1]
    sc = last.server_content
    assert sc.model_turn.parts[0].inline_data and sc.output_transcription.text
    assert sc.generation_complete and sc.turn_complete and last.usage_metadata.thoughts_token_count == 5
    thought = [
        p
        for m in msgs
        if m.server_content and m.server_content.model_turn
        for p in m.server_content.model_turn.parts
        if p.thought
    ]
    assert thought[0].text == "The user greets me."
    assert audio_of(msgs) == make_tone(0.5)
    assert output_text(msgs) == "Hello there friend"
    assert srv.sent[-2].kind == "serverContent+usageMetadata"


def test_extended_thinking_works_in_the_background_and_speaks_again(fake):
    srv = fake(
        reply_text="The answer is 42.", filler_text="Let me think.", reply_seconds=0.2, send_speed=20, echo_text=False
    )
    config = live_config().model_copy(update={"thinking_config": types.ThinkingConfig(thinking_level="HIGH")})

    async def main():
        async with session_with("gemini-3.8-live-extended-thinking", config) as session:
            await session.send_realtime_input(text="what is the answer")
            msgs = []
            async for m in session.receive():  # the SDK's receive() stops at IDLE, not at turnComplete
                msgs.append(m)
            return msgs

    msgs = asyncio.run(main())
    statuses = [
        (
            m.server_content.interaction_status.value if m.server_content.interaction_status else None,
            bool(m.server_content.turn_complete),
        )
        for m in msgs
        if m.server_content and (m.server_content.interaction_status or m.server_content.turn_complete)
    ]
    assert statuses == [("IN_PROGRESS", False), ("IN_PROGRESS", True), ("IDLE", True)]
    assert output_text(msgs) == "Let me think.The answer is 42."
    assert srv.setups[0]["generationConfig"]["thinkingConfig"]


def test_refused_turn_says_why_and_waits_for_input(fake):
    fake(turn_complete_reason=lambda turn: "NEED_MORE_INPUT" if "what" in turn.user_text else None)

    async def main():
        async with session_with() as session:
            await session.send_realtime_input(text="what")
            return await collect(session, has("turn_complete"))

    (msg,) = asyncio.run(main())
    sc = msg.server_content
    assert sc.turn_complete_reason == types.TurnCompleteReason.NEED_MORE_INPUT and sc.waiting_for_input
    assert msg.usage_metadata is not None


def test_voice_activity_and_interim_transcription_while_the_user_speaks(fake):
    fake(
        voice_activity=True, interim_transcripts=True, user_transcripts=("turn on the lights",), transcript_word_ms=100
    )

    async def main():
        async with session_with() as session:
            await speak(session, speech_s=0.6)
            return await collect(session, has("turn_complete"))

    msgs = asyncio.run(main())
    activity = [m.voice_activity.voice_activity_type for m in msgs if m.voice_activity]
    assert activity == [types.VoiceActivityType.ACTIVITY_START, types.VoiceActivityType.ACTIVITY_END]
    interim = [
        m.server_content.interim_input_transcription.text
        for m in msgs
        if m.server_content and m.server_content.interim_input_transcription
    ]
    assert interim[0] == "turn" and interim[-1].startswith("turn on")
    final = "".join(
        m.server_content.input_transcription.text
        for m in msgs
        if m.server_content and m.server_content.input_transcription
    )
    assert final == "turn on the lights"


def test_grounding_when_the_setup_has_google_search(fake):
    grounding = {
        "webSearchQueries": ["weather paris"],
        "groundingChunks": [{"web": {"uri": "https://example.org/paris", "title": "Paris weather"}}],
    }
    fake(grounding=grounding, reply_seconds=0.2, send_speed=20)
    search = live_config().model_copy(update={"tools": [types.Tool(google_search=types.GoogleSearch())]})

    async def main(config):
        async with session_with(LIVE, config) as session:
            await session.send_realtime_input(text="weather")
            return await collect(session, has("turn_complete"))

    found = [
        m.server_content.grounding_metadata
        for m in asyncio.run(main(search))
        if m.server_content and m.server_content.grounding_metadata
    ]
    assert (
        found[0].web_search_queries == ["weather paris"] and found[0].grounding_chunks[0].web.title == "Paris weather"
    )
    without = asyncio.run(main(live_config()))
    assert not any(m.server_content and m.server_content.grounding_metadata for m in without)


def test_video_frames_are_kept_and_context_updates_apply(fake):
    srv = fake(reply_seconds=0.2, send_speed=20)

    async def main():
        async with session_with() as session:
            await session.send_realtime_input(video=types.Blob(data=b"\xff\xd8jpeg", mime_type="image/jpeg"))
            await session.send_context_update(system_instruction="Speak like a pirate.")
            await session.send_realtime_input(text="hi")
            await collect(session, has("turn_complete"))

    asyncio.run(main())
    assert [(r.kind, r.data, r.mime_type) for r in srv.media_in] == [("video", b"\xff\xd8jpeg", "image/jpeg")]
    (update,) = srv.context_updates
    assert update.data["systemInstruction"]["parts"][0]["text"] == "Speak like a pirate."


def test_translate_model_takes_translation_config_and_speech_only(fake):
    srv = fake(reply_text="Bonjour", reply_seconds=0.2, send_speed=20)
    config = types.LiveConnectConfig(
        response_modalities=["AUDIO"],
        input_audio_transcription=types.AudioTranscriptionConfig(),
        output_audio_transcription=types.AudioTranscriptionConfig(),
        translation_config=types.TranslationConfig(target_language_code="fr"),
    )

    async def main():
        async with session_with("gemini-3.5-live-translate-preview", config) as session:
            await speak(session)
            return await collect(session, has("turn_complete"))

    assert output_text(asyncio.run(main())) == "Bonjour"
    assert srv.setups[0]["generationConfig"]["translationConfig"] == {"targetLanguageCode": "fr"}
