"""A whole talk session against the fake Live server, with file-backed audio.

The connection is the real one (unmodified SDK over TLS to 127.0.0.1); only the
microphone and speaker are stand-ins. The devices, the fake server and the link run
SPEED times faster than real time (tests.support.speed), except where a test
measures latencies, which only mean something in real time.
"""

import asyncio
import io

import numpy as np
import pytest

from livecli import records
from livecli.conversation import Conversation
from livecli.conversation.inputs import SendText, ToggleMute
from livecli.errors import AuthError
from livecli.link import Link
from livecli.live import LiveConnection
from livecli.session import TalkSession
from livecli.settings import Settings
from livecli.ui.plain import PlainView
from tests.support.fake_live import FakeLiveServer
from tests.support.file_audio import CollectingSpeaker, FileMicrophone, silence, tone
from tests.support.kept_records import KeptRecords
from tests.support.speed import SPEED, link_timings, run_session, sleep
from tests.support.stdin import silent_stdin


@pytest.fixture
def server(monkeypatch):
    with FakeLiveServer(**NOON, speed=SPEED) as fake:
        fake.patch_env(monkeypatch)
        yield fake


NOON = {"user_transcripts": ["what time is it"], "reply_text": "It is noon.", "reply_seconds": 1.0}


def make_session(settings, microphone, speaker, kept, api_key="test-key", idle_s=None, speed=SPEED):
    """A session whose records go to `kept`; `idle_s` is in the story's seconds, like every time the test gives."""
    view = PlainView(out=io.StringIO(), err=io.StringIO())
    return TalkSession(
        conversation=Conversation(
            model=settings.model,
            voice=settings.voice,
            has_speaker=speaker is not None,
            tools_enabled=False,
            idle_s=None if idle_s is None else idle_s / speed,
        ),
        connect=lambda handle: Link(
            lambda h: LiveConnection(settings, api_key=api_key, handle=h), handle=handle, **link_timings(speed)
        ),
        microphone=microphone,
        speaker=speaker,
        view=view,
        recorder=kept,
        stdin=silent_stdin(),
    )


def test_spoken_turn_is_sent_transcribed_answered_and_played(server):
    settings = Settings(voice="Kore", language="en-US", system="Be brief.")
    mic = FileMicrophone(np.concatenate([silence(0.3), tone(1.0), silence(3.0)]), speed=SPEED)
    speaker = CollectingSpeaker(speed=SPEED)
    kept = KeptRecords()
    code = asyncio.run(run_session(make_session(settings, mic, speaker, kept), 3.5))

    assert code == 0
    assert kept.turns == [records.UserTurn("what time is it"), records.ModelTurn("It is noon.")]
    # Every chunk is 100 ms of 16 kHz int16, with the right MIME type.
    assert {len(r.data) for r in server.audio_in} == {3200}
    assert {r.mime_type for r in server.audio_in} == {"audio/pcm;rate=16000"}
    # The whole 1 s reply reached the speaker and was played.
    assert speaker.received == 24000 * 2
    played = np.frombuffer(bytes(speaker.played), np.int16)
    assert np.count_nonzero(np.abs(played) > 1000) > 0.9 * 24000
    # The setup asked for transcripts of both sides, the voice, language and system text.
    setup = server.setups[0]
    assert "inputAudioTranscription" in setup and "outputAudioTranscription" in setup
    # (the SDK sends speechConfig's inner keys in snake_case; the service takes both)
    speech = setup["generationConfig"]["speechConfig"]
    assert speech["voice_config"]["prebuilt_voice_config"]["voice_name"] == "Kore"
    assert speech["language_code"] == "en-US"
    assert setup["systemInstruction"]["parts"][0]["text"] == "Be brief."
    assert mic.closed and speaker.closed


def test_barge_in_flushes_the_speaker_and_marks_the_turn(monkeypatch):
    with FakeLiveServer(
        user_transcripts=["tell me a story", "stop"],
        reply_text="Once upon a time there was",
        reply_seconds=4.0,
        speed=SPEED,
    ) as server:
        server.patch_env(monkeypatch)
        # Speak, wait for the answer to start playing, then speak over it.
        mic = FileMicrophone(np.concatenate([tone(0.8), silence(1.8), tone(0.8), silence(3.0)]), speed=SPEED)
        speaker = CollectingSpeaker(speed=SPEED)
        kept = KeptRecords()
        asyncio.run(run_session(make_session(Settings(), mic, speaker, kept), 5.5))

    assert server.events("interrupted"), "the fake server saw no barge-in"
    assert len(speaker.flushes) == 1
    story, cut, *rest = kept.turns
    assert story == records.UserTurn("tell me a story")
    assert isinstance(cut, records.ModelTurn) and cut.text and cut.interrupted
    assert records.UserTurn("stop") in rest
    # The very next device block after the flush is silent, until the answer to "stop"
    # (which cannot come before the user's 0.8 s of speech has ended).
    after_flush = np.frombuffer(bytes(speaker.played[speaker.played_at_flush[0] :]), np.int16)
    assert len(after_flush) > 7200 and np.max(np.abs(after_flush[:7200])) < 1000
    before_flush = np.frombuffer(bytes(speaker.played[: speaker.played_at_flush[0]]), np.int16)
    assert np.count_nonzero(np.abs(before_flush) > 1000) > 0.5 * 24000  # the story was playing


def test_typed_text_and_mute(server):
    mic = FileMicrophone(silence(10), speed=SPEED)
    kept = KeptRecords()
    session = make_session(Settings(), mic, CollectingSpeaker(speed=SPEED), kept)

    async def type_and_mute():
        await sleep(0.5)
        session.feed(SendText("hello by keyboard"))
        await sleep(1.5)
        session.feed(ToggleMute())

    asyncio.run(run_session(session, 1.0, during=type_and_mute))
    assert [r.data for r in server.text_in] == ["hello by keyboard"]
    assert kept.turns[:2] == [
        records.UserTurn("hello by keyboard", typed=True),
        records.ModelTurn("You said: hello by keyboard"),
    ]
    assert any(
        "audioStreamEnd" in str(frame.data) or "audio_stream_end" in str(frame.data) for frame in server.client_frames
    )


def test_rejected_key_is_a_clear_error(server):
    session = make_session(
        Settings(),
        FileMicrophone(silence(1), speed=SPEED),
        CollectingSpeaker(speed=SPEED),
        KeptRecords(),
        api_key="wrong",
    )
    with pytest.raises(AuthError, match=r"refused the session \(1007\): API key not valid"):
        asyncio.run(session.run())


def test_text_replies_are_shown_without_a_speaker(server):
    mic = FileMicrophone(np.concatenate([tone(0.8), silence(3.0)]), speed=SPEED)
    kept = KeptRecords()
    code = asyncio.run(run_session(make_session(Settings(text=True), mic, None, kept), 2.5))
    assert code == 0
    # gemini-3.8-live only speaks: text comes from the transcription of its audio
    assert server.setups[0]["generationConfig"]["responseModalities"] == ["AUDIO"]
    assert "outputAudioTranscription" in server.setups[0]
    assert kept.turns == [records.UserTurn("what time is it"), records.ModelTurn("It is noon.")]


@pytest.mark.slow
def test_session_measures_its_latencies(monkeypatch):
    # in real time: the figures are milliseconds of the user's wait
    with FakeLiveServer(**NOON) as server:
        server.patch_env(monkeypatch)
        mic = FileMicrophone(np.concatenate([tone(0.8), silence(3.0)]))
        speaker = CollectingSpeaker()
        session = make_session(Settings(), mic, speaker, None, speed=1)
        asyncio.run(run_session(session, 3.0, speed=1))
    figures = session.final_metrics()
    capture = figures["latencies"]["capture_to_send"]
    assert capture["n"] >= 25 and 90 <= capture["p50_ms"] <= 150  # a 100 ms chunk, then sent
    own = figures["latencies"]["delivered_to_send"]  # the chunk complete -> handed to the websocket
    assert own["n"] == capture["n"] and own["p50_ms"] < 50
    assert figures["latencies"]["receive_to_device"]["n"] > 0
    voice = figures["latencies"]["voice_to_voice"]
    assert voice["n"] == 1 and voice["p50_ms"] > 400  # the fake waits for 500 ms of silence
    assert session.state.reply_latency_ms == pytest.approx(voice["p50_ms"], abs=0.01)  # shown in the status line
    assert "output_underruns" in figures["counters"]  # how many is the benchmarks' business


@pytest.mark.slow
def test_an_idle_session_stands_by_and_the_next_words_resume_it(monkeypatch):
    speed = min(SPEED, 4)  # the session looks at the idle time every 0.1 s of real time, which does not scale
    with FakeLiveServer(
        user_transcripts=["what time is it", "and the date"], reply_text="It is noon.", reply_seconds=0.5, speed=speed
    ) as server:
        server.patch_env(monkeypatch)
        # A question and its answer, silence (idle 1 s after the answer; the idle check runs every 0.1 s of real
        # time, 0.4 s of this story: 2.8 s of silence left a CI run standing by after the second question began),
        # then a second question.
        mic = FileMicrophone(np.concatenate([tone(0.8), silence(3.6), tone(0.8), silence(2.5)]), speed=speed)
        speaker = CollectingSpeaker(speed=speed)
        kept = KeptRecords()
        asyncio.run(
            run_session(make_session(Settings(), mic, speaker, kept, idle_s=1.0, speed=speed), 7.3, speed=speed)
        )

    assert len(server.setups) == 2  # closed while idle, opened again by speech
    assert server.setups[1]["sessionResumption"]["handle"] == server.handles[0]  # the same conversation goes on
    assert speaker.starts == 2 and speaker.closes >= 1  # the speaker stream is closed while standing by
    assert kept.turns == [
        records.UserTurn("what time is it"),
        records.ModelTurn("It is noon."),
        records.UserTurn("and the date"),
        records.ModelTurn("It is noon."),
    ]
    # The start of the second question, captured while no connection was up, reached the new connection.
    loud = [frame for frame in server.audio_in if np.abs(np.frombuffer(frame.data, np.int16)).max() > 1000]
    assert len(loud) >= 14  # 2 × 0.8 s of tone in 100 ms chunks
