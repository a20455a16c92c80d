"""Tests of the fake Gemini Live server, with the unmodified google-genai SDK as client."""

from __future__ import annotations

import asyncio
import base64
import json
import warnings
from collections.abc import Callable

import pydantic
import pytest
import websockets
from google import genai
from google.genai import errors, types

from tests.support.fake_live import InvalidServerMessage, make_tone, validate_server_message

MODEL = "gemini-live-2.5-flash-preview"
IN_MIME = "audio/pcm;rate=16000"
CHUNK = 1600  # samples: 100 ms at 16 kHz
SPEECH = make_tone(0.1, rate=16_000, freq=300, amplitude=6000)  # RMS ~4200
SILENCE = bytes(CHUNK * 2)


def live_config(*, modalities=("AUDIO",), handle: str | None = None) -> types.LiveConnectConfig:
    return types.LiveConnectConfig(
        response_modalities=list(modalities),
        input_audio_transcription=types.AudioTranscriptionConfig(),
        output_audio_transcription=types.AudioTranscriptionConfig(),
        session_resumption=types.SessionResumptionConfig(handle=handle),
    )


async def speak(session, speech_s: float = 0.5, silence_s: float = 0.7) -> bytes:
    """Send 100 ms chunks: a tone (speech) then silence, as fast as possible."""
    sent = b""
    for chunk in [SPEECH] * round(speech_s * 10) + [SILENCE] * round(silence_s * 10):
        await session.send_realtime_input(audio=types.Blob(data=chunk, mime_type=IN_MIME))
        sent += chunk
    return sent


async def collect(session, until: Callable[[list], bool], timeout: float = 5.0) -> list[types.LiveServerMessage]:
    """Receive (across turnComplete boundaries) until ``until(messages)`` is true."""
    msgs: list[types.LiveServerMessage] = []

    async def run():
        while True:
            async for msg in session.receive():
                msgs.append(msg)
                if until(msgs):
                    return

    await asyncio.wait_for(run(), timeout)
    return msgs


def has(attr: str, count: int = 1) -> Callable[[list], bool]:
    def check(msgs):
        n = 0
        for m in msgs:
            sc = m.server_content
            if getattr(m, attr, None) is not None or (sc is not None and getattr(sc, attr, None)):
                n += 1
        return n >= count

    return check


def audio_of(msgs) -> bytes:
    return b"".join(m.data for m in msgs if m.data)


def input_text(msgs) -> str:
    return "".join(
        m.server_content.input_transcription.text
        for m in msgs
        if m.server_content and m.server_content.input_transcription
    )


def output_text(msgs) -> str:
    return "".join(
        m.server_content.output_transcription.text or ""  # Vertex also sends empty ones
        for m in msgs
        if m.server_content and m.server_content.output_transcription
    )


# --------------------------------------------------------------------------- tests


def test_setup_round_trip(fake):
    srv = fake()

    async def main():
        client = genai.Client()
        async with client.aio.live.connect(model=MODEL, config=live_config()) as session:
            assert session.setup_complete is not None
            assert srv.wait_for(lambda: srv.active_connections == 1, 2)

    asyncio.run(main())
    hs = srv.handshakes[0].data
    assert hs["path"] == "/ws/google.ai.generativelanguage.v1.GenerativeService.BidiGenerateContent"
    assert dict((k.lower(), v) for k, v in hs["headers"].items())["x-goog-api-key"] == "test-key"
    setup = srv.setups[0]
    assert setup["model"] == f"models/{MODEL}"
    assert setup["generationConfig"]["responseModalities"] == ["AUDIO"]
    assert setup["sessionResumption"] == {}
    assert setup["inputAudioTranscription"] == {} and setup["outputAudioTranscription"] == {}
    assert srv.sent[0].data == {"setupComplete": {}}
    assert srv.wait_event("closed")


def test_speech_turn_produces_full_model_turn(fake):
    srv = fake(reply_seconds=0.4, send_speed=4.0, reply_text="Hi! How can I help?", speed=1)  # its times are checked

    async def main():
        client = genai.Client()
        async with client.aio.live.connect(model=MODEL, config=live_config()) as session:
            sent = await speak(session)
            msgs = await collect(session, has("session_resumption_update"))
        return sent, msgs

    sent, msgs = asyncio.run(main())

    # what the server got: URL-safe base64 from the SDK, decoded back to the same PCM
    assert b"".join(r.data for r in srv.audio_in) == sent
    assert {r.mime_type for r in srv.audio_in} == {IN_MIME}
    assert srv.client_frames[0].kind == "realtimeInput"

    assert input_text(msgs) == "hello there"
    audio = audio_of(msgs)
    assert len(audio) == 2 * int(0.4 * 24_000)
    assert audio == make_tone(0.4)
    blobs = [p.inline_data for m in msgs if m.data for p in m.server_content.model_turn.parts]
    assert {b.mime_type for b in blobs} == {"audio/pcm;rate=24000"}
    assert all(4800 <= len(b.data) // 2 <= 5760 for b in blobs[:-1])  # 200-240 ms parts, as the service's
    assert output_text(msgs) == "Hi! How can I help?"

    kinds = [
        "gen"
        if m.server_content and m.server_content.generation_complete
        else "tc"
        if m.server_content and m.server_content.turn_complete
        else None
        for m in msgs
    ]
    assert kinds.index("gen") < kinds.index("tc")
    done = next(m for m in msgs if m.server_content and m.server_content.turn_complete)
    usage = done.usage_metadata
    assert usage is not None and usage.prompt_token_count > 0
    assert usage.response_token_count == round(0.4 * 32)
    assert usage.total_token_count == usage.prompt_token_count + usage.response_token_count
    assert usage.response_tokens_details[0].modality == types.MediaModality.AUDIO

    update = msgs[-1].session_resumption_update
    assert update.resumable is True and update.new_handle == srv.handles[-1]

    kinds = [e.kind for e in srv.log]
    for k in ("speech_start", "speech_end", "model_audio_first", "model_audio_last", "turn_complete"):
        assert k in kinds
    first, last = srv.events("model_audio_first")[0].t, srv.events("model_audio_last")[0].t
    assert first < last  # paced: the parts go out over time, not at once
    # turnComplete waits until the reply would have finished playing in real time
    assert srv.events("turn_complete")[0].t >= first + 0.4
    assert srv.events("speech_start")[0].t <= srv.events("speech_end")[0].t < first


def test_audio_stream_end_ends_speech_at_once(fake):
    srv = fake(reply_seconds=0.2, send_speed=20, silence_ms=10_000)

    async def main():
        client = genai.Client()
        async with client.aio.live.connect(model=MODEL, config=live_config()) as session:
            await speak(session, 0.3, 0.0)
            await session.send_realtime_input(audio_stream_end=True)
            return await collect(session, has("turn_complete"))

    msgs = asyncio.run(main())
    assert len(audio_of(msgs)) == 2 * int(0.2 * 24_000)
    assert [e.kind for e in srv.log if e.kind in ("audio_stream_end", "speech_end")] == [
        "audio_stream_end",
        "speech_end",
    ]


def test_text_input_reply(fake):
    srv = fake(reply_seconds=0.1, send_speed=20)

    async def main():
        client = genai.Client()
        async with client.aio.live.connect(model=MODEL, config=live_config()) as session:
            await session.send_realtime_input(text="what time is it")
            first = await collect(session, has("turn_complete"))
            await session.send_client_content(
                turns=types.Content(role="user", parts=[types.Part(text="and the date")]), turn_complete=True
            )
            second = await collect(session, has("turn_complete"))
        async with client.aio.live.connect(model=MODEL, config=live_config(modalities=["TEXT"])) as session:
            await session.send_realtime_input(text="ping")
            third = await collect(session, has("turn_complete"))
        return first, second, third

    first, second, third = asyncio.run(main())
    assert output_text(first) == "You said: what time is it"
    assert len(audio_of(first)) == 2 * int(0.1 * 24_000)
    assert output_text(second) == "You said: and the date"
    assert [(r.kind, r.data) for r in srv.text_in] == [
        ("realtime_text", "what time is it"),
        ("client_content", "and the date"),
        ("realtime_text", "ping"),
    ]
    # TEXT modality: text parts, no audio, no output transcription
    assert "".join(m.text for m in third if m.text) == "You said: ping"
    assert audio_of(third) == b"" and output_text(third) == ""
    done = [m for m in third if m.server_content and m.server_content.turn_complete][0]
    assert done.usage_metadata.response_tokens_details[0].modality == types.MediaModality.TEXT


def test_wrong_key_is_closed_with_1007(fake, monkeypatch):
    srv = fake(api_key="the-right-key")
    monkeypatch.setenv("GEMINI_API_KEY", "a-wrong-key")

    async def main():
        client = genai.Client()
        async with client.aio.live.connect(model=MODEL, config=live_config()):
            pass

    with pytest.raises(errors.APIError) as info:
        asyncio.run(main())
    assert info.value.code == 1007
    assert "API key not valid" in str(info.value)
    assert srv.wait_event("auth_failed")
    assert srv.sent == []  # no setupComplete


def test_wrong_path_is_404_and_v1beta_is_accepted(fake, monkeypatch):
    srv = fake(reply_seconds=0.1, send_speed=20)

    async def main():
        wrong = genai.Client(http_options=types.HttpOptions(base_url=srv.base_url + "/nope/"))
        with pytest.raises(websockets.exceptions.InvalidStatus):
            async with wrong.aio.live.connect(model=MODEL, config=live_config()):
                pass
        beta = genai.Client(http_options=types.HttpOptions(api_version="v1beta"))
        async with beta.aio.live.connect(model=MODEL, config=live_config()) as session:
            assert session.setup_complete is not None

    asyncio.run(main())
    assert ".v1beta." in srv.handshakes[-1].data["path"]


def test_barge_in_while_reply_is_audible(fake):
    # 2 s of reply sent at 40x: fully generated after ~50 ms, but audible for 2 s, and
    # turnComplete waits for the (assumed real-time) playback to end
    srv = fake(reply_seconds=2.0, send_speed=40, user_transcripts=("hello there", "stop please"))

    async def main():
        client = genai.Client()
        async with client.aio.live.connect(model=MODEL, config=live_config()) as session:
            await speak(session)
            msgs = await collect(session, has("generation_complete"))
            assert not has("turn_complete")(msgs)
            await speak(session)  # the user talks over the (still playing) reply
            msgs += await collect(session, has("generation_complete"), timeout=5)
            return msgs

    msgs = asyncio.run(main())
    flags = [
        next(
            (k for k in ("generation_complete", "interrupted", "turn_complete") if getattr(m.server_content, k, None)),
            None,
        )
        for m in msgs
        if m.server_content
    ]
    flags = [f for f in flags if f]
    assert flags == ["generation_complete", "interrupted", "turn_complete", "generation_complete"]
    assert input_text(msgs) == "hello therestop please"
    assert len(audio_of(msgs)) == 2 * 2 * 48_000  # both replies, complete
    (intr,) = srv.events("interrupted")
    first_audio = srv.events("model_audio_first")[0].t
    assert first_audio < intr.t < first_audio + 2.0
    assert intr.data["cause"] == "speech"
    (done,) = srv.events("turn_complete")
    assert done.data["interrupted"] is True and done.t < first_audio + 2.0


def test_barge_in_after_turn_complete_when_not_waiting_for_playback(fake):
    srv = fake(
        reply_seconds=2.0,
        send_speed=40,
        user_transcripts=("hello there", "stop please"),
        turn_complete_after_playback=False,
    )

    async def main():
        client = genai.Client()
        async with client.aio.live.connect(model=MODEL, config=live_config()) as session:
            await speak(session)
            await collect(session, has("turn_complete"))
            await speak(session)
            return await collect(session, has("turn_complete"), timeout=5)

    msgs = asyncio.run(main())
    assert any(m.server_content and m.server_content.interrupted for m in msgs)
    assert input_text(msgs) == "stop please"
    (intr,) = srv.events("interrupted")
    first_audio = srv.events("model_audio_first")[0].t
    assert srv.events("turn_complete")[0].t < intr.t < first_audio + 2.0


def test_barge_in_mid_generation_and_not_after_playback(fake):
    srv = fake(reply_seconds=2.0, send_speed=1.0)

    async def main():
        client = genai.Client()
        async with client.aio.live.connect(model=MODEL, config=live_config()) as session:
            await speak(session)
            await collect(session, has("model_turn"))  # the reply has started
            await speak(session, 0.3, 0.0)  # barge in
            msgs = await collect(session, has("interrupted"))
            msgs += await collect(session, has("turn_complete"))
            return msgs

    msgs = asyncio.run(main())
    assert not any(m.server_content and m.server_content.generation_complete for m in msgs)
    (intr,) = srv.events("interrupted")
    assert intr.data["audio_seconds_sent"] < 1.0
    assert srv.events("turn_complete")[0].data["interrupted"] is True

    # a short reply that has finished playing is not interrupted
    srv2 = fake(reply_seconds=0.2, send_speed=20)

    async def main2():
        client = genai.Client()
        async with client.aio.live.connect(model=MODEL, config=live_config()) as session:
            await speak(session)
            await collect(session, has("turn_complete"))
            await asyncio.sleep(0.3)
            await speak(session)
            return await collect(session, has("turn_complete"))

    msgs2 = asyncio.run(main2())
    assert not any(m.server_content and m.server_content.interrupted for m in msgs2)
    assert srv2.events("interrupted") == []


def test_tool_call_round_trip(fake):
    srv = fake(
        user_transcripts=("what's the weather in Paris",),
        tool_calls={r"weather": {"name": "get_weather", "args": {"city": "Paris"}}},
        reply_text=lambda turn: f"It is {turn.tool_responses[0]['response']['temp']} degrees.",
        reply_seconds=0.2,
        send_speed=20,
    )

    async def main():
        client = genai.Client()
        async with client.aio.live.connect(model=MODEL, config=live_config()) as session:
            await speak(session)
            msgs = await collect(session, has("tool_call"))
            (call,) = msgs[-1].tool_call.function_calls
            assert (call.name, call.args) == ("get_weather", {"city": "Paris"})
            await session.send_tool_response(
                function_responses=types.FunctionResponse(id=call.id, name=call.name, response={"temp": 21})
            )
            msgs += await collect(session, has("turn_complete"))
            return call, msgs

    call, msgs = asyncio.run(main())
    (resp,) = srv.tool_responses
    assert resp.data == [{"id": call.id, "name": "get_weather", "response": {"temp": 21}}]
    assert output_text(msgs) == "It is 21 degrees."
    assert srv.events("tool_call")[0].t < resp.t < srv.events("model_audio_first")[0].t


def test_tool_call_cancelled_by_barge_in(fake):
    srv = fake(
        user_transcripts=("turn on the lights", "never mind"),
        tool_calls={r"lights": [{"name": "lights", "args": {"on": True}}, {"name": "log", "args": {}}]},
        reply_seconds=0.2,
        send_speed=20,
    )

    async def main():
        client = genai.Client()
        async with client.aio.live.connect(model=MODEL, config=live_config()) as session:
            await speak(session)
            msgs = await collect(session, has("tool_call"))
            ids = [c.id for c in msgs[-1].tool_call.function_calls]
            await speak(session)  # talk instead of answering the tool call
            msgs = await collect(session, has("tool_call_cancellation"))
            cancelled = msgs[-1].tool_call_cancellation.ids
            msgs = await collect(session, has("interrupted"))
            return ids, cancelled

    ids, cancelled = asyncio.run(main())
    assert len(ids) == 2 and cancelled == ids
    assert srv.events("tool_call_cancellation")[0].data["ids"] == ids


def test_go_away_then_close(fake):
    srv = fake(speed=1)  # the wire's timeLeft is checked

    async def main():
        client = genai.Client()
        async with client.aio.live.connect(model=MODEL, config=live_config()) as session:
            assert srv.wait_for(lambda: srv.active_connections == 1, 2)
            assert srv.go_away(time_left=0.2) == 1
            msgs = await collect(session, has("go_away"))
            assert msgs[-1].go_away.time_left == "0.2s"
            with pytest.raises(errors.APIError) as info:
                await collect(session, lambda m: False)
            return info.value

    err = asyncio.run(main())
    # the client ignored the goAway past its time: the service's words, cut at 123 bytes
    assert err.code == 1008
    assert err.details.startswith(
        "Connection aborted because the client failed to close the connection after receiving a GoAway"
    )
    assert len(err.details.encode()) == 123
    assert srv.events("go_away")[0].t < srv.events("go_away_close")[0].t

    srv2 = fake(go_away_every=0.1, go_away_time_left=5.0, speed=1)

    async def periodic():
        client = genai.Client()
        async with client.aio.live.connect(model=MODEL, config=live_config()) as session:
            msgs = await collect(session, has("go_away"), timeout=2)
            return msgs[-1].go_away.time_left

    assert asyncio.run(periodic()) == "5s"
    assert srv2.events("go_away")


def test_a_faster_clock_gives_the_client_the_real_time_left(fake):
    # at speed 4, the 2 s left on the fake's clock are 0.5 s of the client's
    srv = fake(speed=4, go_away_every=0.4, go_away_time_left=2.0)

    async def main():
        client = genai.Client()
        async with client.aio.live.connect(model=MODEL, config=live_config()) as session:
            return (await collect(session, has("go_away"), timeout=2))[-1].go_away.time_left

    assert asyncio.run(main()) == "0.5s"
    assert srv.events("go_away")[0].data["time_left"] == 2.0


def test_resumption_with_known_and_unknown_handles(fake):
    srv = fake(reply_seconds=0.1, send_speed=20, unknown_handle="error")

    async def main():
        client = genai.Client()
        async with client.aio.live.connect(model=MODEL, config=live_config()) as session:
            await session.send_realtime_input(text="remember me")
            msgs = await collect(session, has("session_resumption_update"))
            handle = msgs[-1].session_resumption_update.new_handle
        async with client.aio.live.connect(model=MODEL, config=live_config(handle=handle)) as session:
            await session.send_realtime_input(text="again")
            msgs = await collect(session, has("session_resumption_update"))
            handle2 = msgs[-1].session_resumption_update.new_handle
        with pytest.raises(errors.APIError) as info:
            async with client.aio.live.connect(model=MODEL, config=live_config(handle="bogus")):
                pass
        return handle, handle2, info.value

    handle, handle2, err = asyncio.run(main())
    (resumed,) = srv.events("resumed")
    assert resumed.data["handle"] == handle
    assert srv.setups[1]["sessionResumption"] == {"handle": handle}
    assert handle2 != handle and srv.handles == [handle, handle2]
    # the resumed session continues the first one
    assert [e.data["session"] for e in srv.events("turn_complete")] == [resumed.data["session"]] * 2
    assert srv.events("turn_complete")[1].data["turn"] == 1
    assert err.code == 1008 and srv.events("resume_rejected")

    srv2 = fake(unknown_handle="fresh")

    async def fresh():
        client = genai.Client()
        async with client.aio.live.connect(model=MODEL, config=live_config(handle="bogus")) as session:
            assert session.setup_complete is not None

    asyncio.run(fresh())
    assert srv2.events("resume_unknown")[0].data["handle"] == "bogus"


def test_drop_close_stop_and_many_connections(fake):
    srv = fake(reply_seconds=0.05, send_speed=20)

    async def expect_close(action) -> errors.APIError:
        client = genai.Client()
        async with client.aio.live.connect(model=MODEL, config=live_config()) as session:
            assert srv.wait_for(lambda: srv.active_connections == 1, 2)
            await asyncio.to_thread(action)
            with pytest.raises(errors.APIError) as info:
                await collect(session, lambda m: False)
            return info.value

    assert asyncio.run(expect_close(srv.drop)).code == 1006
    assert asyncio.run(expect_close(srv.close_connections)).code == 1011

    async def many():
        client = genai.Client()
        for i in range(5):
            async with client.aio.live.connect(model=MODEL, config=live_config()) as session:
                await session.send_realtime_input(text=f"n{i}")
                await collect(session, has("turn_complete"))

    asyncio.run(many())
    assert srv.wait_for(lambda: srv.active_connections == 0 and len(srv.events("closed")) == 7, 2)

    assert asyncio.run(expect_close(srv.stop)).code == 1001


def test_validator_is_strict():
    # the SDK model itself forbids unknown keys ...
    with pytest.raises(pydantic.ValidationError, match="turnCompleted"):
        types.LiveServerMessage.model_validate({"serverContent": {"turnCompleted": True}})
    # ... while the SDK's receive path silently drops them (why it is no validator)
    dropped = types.LiveServerMessage._from_response(response={"server_content": {"turnCompleted": True}}, kwargs={})
    assert dropped.server_content.turn_complete is None

    good = [
        {"setupComplete": {}},
        {
            "serverContent": {
                "modelTurn": {
                    "parts": [
                        {
                            "inlineData": {
                                "mimeType": "audio/pcm;rate=24000",
                                "data": base64.b64encode(b"\xfb\xff" * 10).decode(),
                            }
                        }
                    ]
                }
            }
        },
        {
            "serverContent": {"turnComplete": True},
            "usageMetadata": {"promptTokenCount": 3, "promptTokensDetails": [{"modality": "AUDIO", "tokenCount": 3}]},
        },
        {"goAway": {"timeLeft": "5s"}},
        {"toolCall": {"functionCalls": [{"id": "a", "name": "f", "args": {"x": [1, None]}}]}},
    ]
    for message in good:
        assert json.loads(validate_server_message(message)) == message

    bad = [
        {"serverContent": {"turnCompleted": True}},  # misspelled
        {"server_content": {"turnComplete": True}},  # snake_case on the wire
        {"serverContent": {"turnComplete": "yes"}},  # coercion
        {"serverContent": {"turnComplete": None}},  # explicit null
        {"goAway": {"timeLeft": 5}},
        {"usageMetadata": {"promptTokensDetails": [{"modality": "SOUND", "tokenCount": 1}]}},  # unknown enum
        {"usageMetadata": {"promptTokensDetails": [{"modality": "audio", "tokenCount": 1}]}},  # enum spelling
        {"serverContent": {"modelTurn": {"parts": [{"inlineData": {"mimeType": "x", "data": "-_8="}}]}}},  # URL-safe
        {"serverContent": {"modelTurn": {"parts": [{"inlineData": {"mimeType": "x", "data": "abc"}}]}}},  # bad padding
        {},
    ]
    for message in bad:
        with pytest.raises(InvalidServerMessage), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the SDK warns about "SOUND" before we reject it
            validate_server_message(message)


def test_server_fails_loudly_on_an_invalid_message(fake):
    srv = fake(tool_calls={"hello": {"name": "f", "args": {"not json": {1, 2}}}})

    async def main():
        client = genai.Client()
        async with client.aio.live.connect(model=MODEL, config=live_config()) as session:
            # on demand: the error reaches the caller
            with pytest.raises(InvalidServerMessage):
                await asyncio.to_thread(srv.send, {"serverContent": {"turnCompleted": True}})
            # inside the scripted model: the connection is closed with 1011 and recorded
            await speak(session)
            with pytest.raises(errors.APIError) as info:
                await collect(session, lambda m: False)
            return info.value

    assert asyncio.run(main()).code == 1011
    assert srv.wait_event("server_error")
    with pytest.raises(InvalidServerMessage):
        srv.check()
    srv.errors.clear()  # expected here; don't fail the fixture teardown
