"""Sessions that survive goAway, drops, error closes and stale handles.

The whole talk session runs against the fake Live server through the real SDK;
the microphone is a file whose every 100 ms chunk carries its own index, so the
test can prove no chunk the user spoke went missing across a switch. The devices,
the fake server and the link run SPEED times faster than real time
(tests.support.speed); every time a test gives is in the story's seconds.
"""

import asyncio
import io
import json

import numpy as np
import pytest

from livecli import records
from livecli.conversation import Conversation
from livecli.errors import AuthError, ConnectionFailed, QuotaExceeded
from livecli.link import Link
from livecli.live import LiveConnection
from livecli.session import TalkSession
from livecli.settings import Settings
from livecli.ui.plain import PlainView
from tests.support.fake_live import FakeLiveServer
from tests.support.file_audio import CollectingSpeaker, FileMicrophone
from tests.support.kept_records import KeptRecords
from tests.support.speed import SPEED, link_timings, run_session, sleep
from tests.support.stdin import silent_stdin

CHUNK = 1600  # samples in 100 ms at 16 kHz
MARK = 999  # chunk index n is written as samples [MARK, n] at the start of the chunk


# The server's on-demand actions (go_away, drop, close_connections) wait until they are done, a
# close for the client's answer to it: the tests call them from a thread, so the client's loop runs.


def numbered_speech(pattern):
    """A signal of (speech_s, silence_s) pairs; every chunk starts with its index."""
    parts = []
    for speech_s, silence_s in pattern:
        t = np.arange(int(16000 * speech_s)) / 16000
        parts.append((0.3 * 32767 * np.sin(2 * np.pi * 300 * t)).astype(np.int16))
        parts.append(np.zeros(int(16000 * silence_s), np.int16))
    signal = np.concatenate(parts)
    for index in range(len(signal) // CHUNK):
        signal[index * CHUNK : index * CHUNK + 2] = (MARK, index)
    return signal


def chunk_indices(chunks):
    found = []
    for chunk in chunks:
        samples = np.frombuffer(chunk.data, np.int16)
        if samples[0] == MARK:
            found.append(int(samples[1]))
    return found


class Run:
    def __init__(self, server, signal, seconds, *, during=None, handle=None, link_options=None, model=None):
        self.kept = KeptRecords()
        view = PlainView(out=io.StringIO(), err=io.StringIO())
        self.conversation = Conversation(model="m", voice=None, tools_enabled=False)
        self.state = self.conversation.state
        settings = Settings(model=model) if model else Settings()
        self.link = None

        def connect(_latest):
            self.link = Link(
                lambda h: LiveConnection(settings, api_key=server.api_key, handle=h),
                handle=handle,
                history=self.state.transcript.recent,
                **{**link_timings(), **(link_options or {})},
            )
            return self.link

        self.mic = FileMicrophone(signal, speed=SPEED)
        self.session = TalkSession(
            conversation=self.conversation,
            connect=connect,
            microphone=self.mic,
            speaker=CollectingSpeaker(speed=SPEED),
            view=view,
            recorder=self.kept,
            stdin=silent_stdin(),
        )
        self.code = asyncio.run(run_session(self.session, seconds, during=during))

    @property
    def reconnections(self):
        return self.kept.of(records.Reconnected)

    @property
    def answers(self):
        return self.kept.of(records.ModelTurn)


def figures(name, **values):
    print(f"\nFIGURES {name} {json.dumps(values)}")


def assert_no_chunk_lost(server, upto):
    received = set(chunk_indices(server.audio_in))
    missing = sorted(set(range(upto)) - received)
    assert not missing, f"chunks never received: {missing}"


def gaps(run):
    return [reconnected.gap_s for reconnected in run.reconnections]


@pytest.mark.slow
def test_go_away_mid_conversation_hands_over_without_losing_audio(monkeypatch):
    with FakeLiveServer(
        user_transcripts=["first question", "second question"], reply_seconds=1.0, speed=SPEED
    ) as server:
        server.patch_env(monkeypatch)
        signal = numbered_speech([(0.8, 2.2), (0.8, 3.0)])

        async def go_away_after_first_turn():
            await asyncio.to_thread(server.wait_event, "turn_complete", 1, 10)
            await asyncio.to_thread(server.go_away, 3.0)

        run = Run(server, signal, 5.0, during=go_away_after_first_turn)

    assert run.code == 0
    assert server.events("resumed"), "the new connection did not resume the session"
    assert len(server.setups) == 2
    answer = records.ModelTurn("Hi! How can I help?")
    assert run.kept.turns == [records.UserTurn("first question"), answer, records.UserTurn("second question"), answer]
    assert [(r.reason, r.resumed) for r in run.reconnections] == [("goAway", True)]
    assert_no_chunk_lost(server, upto=len(signal) // CHUNK - 10)
    figures("go_away_handover", gap_s=gaps(run), dropped_audio_s=run.link.dropped_audio_s)
    assert run.link.dropped_audio_s == 0


@pytest.mark.slow
@pytest.mark.parametrize("failure", ["drop", "close_1011"])
def test_abrupt_drop_and_1011_reconnect_and_resume(monkeypatch, failure):
    with FakeLiveServer(user_transcripts=["before", "after"], reply_seconds=0.5, speed=SPEED) as server:
        server.patch_env(monkeypatch)
        signal = numbered_speech([(0.6, 2.0), (0.6, 3.0)])

        async def fail_after_first_turn():
            await asyncio.to_thread(server.wait_event, "turn_complete", 1, 10)
            await sleep(0.3)
            if failure == "drop":
                await asyncio.to_thread(server.drop)
            else:
                await asyncio.to_thread(server.close_connections, 1011, "Internal error encountered.")

        run = Run(server, signal, 4.5, during=fail_after_first_turn)

    assert run.code == 0
    assert server.events("resumed")
    (reconnected,) = run.reconnections
    assert reconnected.resumed and reconnected.reason != "goAway", reconnected  # a drop, not a handover
    assert records.UserTurn("after") in run.kept.turns
    assert_no_chunk_lost(server, upto=len(signal) // CHUNK - 10)
    figures(f"reconnect_{failure}", gap_s=gaps(run), dropped_audio_s=run.link.dropped_audio_s)
    assert gaps(run)[0] < 1.0


@pytest.mark.slow
def test_unknown_handle_falls_back_to_a_fresh_session_and_says_so(monkeypatch):
    with FakeLiveServer(
        user_transcripts=["remember the number seven", "what number"], reply_seconds=0.5, speed=SPEED
    ) as server:
        server.patch_env(monkeypatch)
        signal = numbered_speech([(0.6, 2.0), (0.6, 3.0)])

        async def expire_and_drop():
            await asyncio.to_thread(server.wait_event, "turn_complete", 1, 10)
            await sleep(0.3)
            server.forget_handles()
            await asyncio.to_thread(server.drop)

        run = Run(server, signal, 4.5, during=expire_and_drop)

    assert run.code == 0
    assert server.events("resume_rejected")
    (reconnected,) = run.reconnections
    assert not reconnected.resumed and reconnected.reason.startswith("could not resume"), reconnected
    # The fresh session was primed with what was said before.
    primed = [f.data for f in server.client_frames if f.kind == "clientContent"]
    assert primed and "remember the number seven" in str(primed[0])
    # The conversation went on: the next spoken turn was answered (the fresh fake session
    # transcribes it with its first scripted line again).
    assert len(run.answers) == 2


def test_stale_handle_at_start_starts_fresh(monkeypatch):
    with FakeLiveServer(speed=SPEED) as server:
        server.patch_env(monkeypatch)
        run = Run(server, numbered_speech([(0.1, 1.0)]), 1.0, handle="expired-handle")
    assert run.code == 0
    assert run.reconnections == []  # nothing was lost: it is not a reconnection
    (fresh,) = [n for n in run.kept.of(records.Notice) if n.message.startswith("could not resume")]
    assert fresh.message.endswith("continuing in a fresh session that knows the earlier turns"), fresh


def test_key_rejected_mid_session_ends_with_the_reason(monkeypatch):
    with FakeLiveServer(speed=SPEED) as server:
        server.patch_env(monkeypatch)

        async def policy_close():
            await asyncio.to_thread(server.wait_for, lambda: len(server.audio_in) > 3, 5)
            await asyncio.to_thread(server.close_connections, 1008, "Policy violation: request blocked.")

        with pytest.raises(AuthError, match=r"\(1008\): Policy violation: request blocked."):
            Run(server, numbered_speech([(0.1, 5.0)]), 3.0, during=policy_close)


@pytest.mark.slow
def test_twenty_minutes_compressed_many_handovers_all_resumed(monkeypatch):
    # goAway every 2.5 s stands for the service's ~10 minute connections.
    pattern = [(0.6, 1.4)] * 9
    transcripts = [f"question {n}" for n in range(len(pattern))]
    with FakeLiveServer(
        user_transcripts=transcripts, reply_seconds=0.4, go_away_every=2.5, go_away_time_left=1.5, speed=SPEED
    ) as server:
        server.patch_env(monkeypatch)
        signal = numbered_speech(pattern)
        run = Run(server, signal, len(signal) / 16000 + 1.0)

    handovers = len(server.setups) - 1
    assert handovers >= 5, f"only {handovers} handovers"
    assert len(server.events("resumed")) == handovers
    assert_no_chunk_lost(server, upto=len(signal) // CHUNK - 10)
    answered = run.answers
    assert len(answered) >= len(pattern) - 1
    figures("handovers", count=handovers, gaps_s=gaps(run), dropped_audio_s=run.link.dropped_audio_s)


def test_quota_refusal_ends_the_session_without_reconnecting(monkeypatch):
    with FakeLiveServer(quota_exceeded=True, speed=SPEED) as server:
        server.patch_env(monkeypatch)
        with pytest.raises(
            QuotaExceeded, match=r"^the Live service refused for quota \(1011\): You exceeded your current quota"
        ):
            Run(server, numbered_speech([(0.5, 5.0)]), 4.0)
    assert len(server.setups) == 1  # one connection: no reconnect loop


def test_connections_that_die_young_count_as_failed_attempts(monkeypatch):
    # every connection is accepted, then cut 0.3 s later (before any turn): not a success each time
    with FakeLiveServer(connection_deadline=0.3, speed=SPEED) as server:
        server.patch_env(monkeypatch)
        options = {"max_attempts": 3, "max_backoff_s": 0.1}
        with pytest.raises(ConnectionFailed, match=r"Deadline expired.*\(gave up after 3 attempts\)"):
            Run(server, numbered_speech([(0.1, 9.0)]), 8.0, link_options=options)
        assert len(server.setups) == 4  # the first connection and three attempts


def test_no_handover_while_the_model_works_in_the_background(monkeypatch):
    # goAway arrives while the extended-thinking model is still working (IN_PROGRESS after its
    # filler's turnComplete): the switch waits for its answer (IDLE), or the answer would be lost
    with FakeLiveServer(
        user_transcripts=["plan my trip"],
        reply_text="Your trip is planned.",
        reply_seconds=0.3,
        background_s=1.5,
        speed=SPEED,
    ) as server:
        server.patch_env(monkeypatch)

        async def go_away_while_working():
            await asyncio.to_thread(server.wait_event, "turn_complete", 1, 10)  # the filler's
            await asyncio.to_thread(server.go_away, 5.0)

        run = Run(
            server,
            numbered_speech([(0.6, 4.0)]),
            3.5,
            during=go_away_while_working,
            model="gemini-3.8-live-extended-thinking",
        )

    assert run.code == 0
    answered = [e for e in server.events("turn_complete") if e.data["conn"] == 1]
    assert len(answered) == 2, "the first connection did not finish the background answer"
    assert answered[1].t < server.events("setup")[1].t  # the switch came after the answer
