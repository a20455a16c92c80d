"""Replay: the audio timeline, the transcript cues, the player, and `livecli replay` without a sound card."""

import io
import subprocess
import sys
import time
import wave
from pathlib import Path

import numpy as np
import pytest
import soxr
from rich.console import Console, Group

from livecli import records
from livecli.replay import Player, Screen, build_cues
from livecli.store import SessionStore
from livecli.store.timeline import RATE, Timeline
from livecli.ui import rich_view
from livecli.ui.plain import PlainView
from livecli.ui.replay_view import RichReplayView, render_progress
from tests.support.livecli_process import start_livecli
from tests.test_store_helpers import Scripted, conversation, noise

TURNS = [
    "You: what is the weather like",
    "Gemini: It is sunny and warm today with a light breeze. [interrupted]",
    "You: stop please",
    "Gemini: Okay, stopping.",
]
TOOL_LINE = """Tool: get_weather(city='Paris') → {"temp_c": 21} [done, 0.2 s]"""
PRINTED = [*TURNS, TOOL_LINE]  # what talk --plain printed


@pytest.fixture
def db_dir(isolated_env):
    return Path(isolated_env["XDG_DATA_HOME"]) / "livecli"


def load(db_dir, session_id):
    store = SessionStore(db_dir)
    info, events = store.info(session_id), store.events(session_id)
    return info, events, Timeline(store, session_id, events, info.duration_s)


def locate(signal: np.ndarray, pattern: np.ndarray) -> tuple[int, float]:
    """Where `pattern` sits in `signal` (sample), and how alike they are there (correlation, 1 = same)."""
    signal, pattern = signal.astype(np.float64), pattern.astype(np.float64)
    size = 1 << int(np.ceil(np.log2(len(signal) + len(pattern))))
    corr = np.fft.irfft(np.fft.rfft(signal, size) * np.conj(np.fft.rfft(pattern, size)), size)[
        : len(signal) - len(pattern) + 1
    ]
    at = int(np.argmax(corr))
    return at, corr[at] / (np.linalg.norm(pattern) * np.linalg.norm(signal[at : at + len(pattern)]) + 1e-9)


def read_wav(path):
    with wave.open(str(path)) as wav:
        return np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").reshape(
            -1, wav.getnchannels()
        ), wav.getframerate()


# -- the timeline ------------------------------------------------------------------------------


def test_each_voice_sounds_when_it_was_heard(db_dir):
    recorded = conversation(db_dir)
    _, _, timeline = load(db_dir, recorded.id)
    assert timeline.user.spans(0.05) == [(0.5, 2.0), (3.8, 4.8)]
    assert timeline.model.spans(0.05) == [(2.5, 4.0), (5.3, 6.8)]  # the first answer stops at `interrupted`
    assert timeline.duration_s == pytest.approx(8.0, abs=0.01)


def test_microphone_chunks_stamped_late_still_follow_each_other(db_dir):
    s = Scripted(db_dir)
    rng = np.random.default_rng(7)
    for i in range(20):  # each stamped 0-15 ms after it really ended
        s.recorder.audio(
            "user", noise(0.1, 16000, i).tobytes(), 16000, at=s._now_is(1.0 + 0.1 * (i + 1) + rng.uniform(0, 0.015))
        )
    _, _, timeline = load(db_dir, s.close(4.0))
    segments = timeline.user.segments
    assert all(b.start >= a.end for a, b in zip(segments, segments[1:]))  # never overlapping
    assert abs(segments[0].start / 16000 - 1.0) < 0.016 and abs(segments[-1].end / 16000 - 3.0) < 0.016


def test_windows_join_without_seams(db_dir):
    _, _, timeline = load(db_dir, conversation(db_dir).id)
    whole = timeline.render(0, timeline.frames)
    pieces = np.concatenate(
        [timeline.render(s, min(2399, timeline.frames - s)) for s in range(0, timeline.frames, 2399)]
    )
    assert np.abs(whole - pieces).max() < 2.0  # int16 units: rounding of the resampler only


# -- the transcript, in step -------------------------------------------------------------------


def transcript_at(db_dir, session_id, t):
    info, events, timeline = load(db_dir, session_id)
    screen = Screen(info, PlainView(io.StringIO(), io.StringIO()))
    for cue in build_cues(events, timeline.model.spans(0.05)):
        if cue.at <= t:
            screen.apply(cue.item)
    return [(turn.speaker.value, turn.text.strip(), turn.done) for turn in screen.state.transcript.turns]


def test_the_transcript_appears_as_it_is_spoken(db_dir):
    session_id = conversation(db_dir).id
    assert transcript_at(db_dir, session_id, 2.4) == []
    assert transcript_at(db_dir, session_id, 2.5) == [
        ("You", "what is the weather like", False),
        ("Gemini", "It", False),
    ]
    halfway = transcript_at(db_dir, session_id, 3.25)[1][1]
    assert halfway == "It is sunny and warm today"  # 6 of 10 words in the first 0.75 s of 1.5 s heard
    assert transcript_at(db_dir, session_id, 4.01)[:2] == [
        ("You", "what is the weather like", True),
        ("Gemini", "It is sunny and warm today with a light breeze.", True),
    ]
    assert transcript_at(db_dir, session_id, 5.3)[2:] == [("You", "stop please", False), ("Gemini", "Okay,", False)]
    assert transcript_at(db_dir, session_id, 8.0)[2:] == [
        ("You", "stop please", True),
        ("Gemini", "Okay, stopping.", True),
    ]


def test_typed_turns_and_text_only_sessions_show_when_they_happened(db_dir):
    s = Scripted(db_dir, record_audio=False)
    s.record(1.0, records.UserTurn("hello?", typed=True))
    s.record(2.0, records.ModelTurn("Hi there."))
    session_id = s.close(3.0)
    assert transcript_at(db_dir, session_id, 1.5) == [("You", "hello?", True)]
    assert transcript_at(db_dir, session_id, 2.01) == [("You", "hello?", True), ("Gemini", "Hi there.", True)]


def test_tool_calls_show_as_talk_showed_them(db_dir):
    s = Scripted(db_dir)
    answers = {
        "1": dict(response={"result": {"temp_c": 21}}, state="done", approval="auto", duration_s=0.25),
        "2": dict(response={"error": "the user refused this call"}, state="refused", approval="refused"),
        "3": dict(response={}, state="cancelled", approval="approved"),  # cancelled by the model: no answer
        "4": dict(response={"error": "ValueError: no"}, state="error", approval="yolo", duration_s=1.5),
    }
    for n, answer in answers.items():
        s.record(
            float(n), records.ToolCalled(id=n, name="look", args={"query": "x" * 70} if n == "4" else {"n": int(n)})
        )
        s.record(float(n) + 0.5, records.ToolFinished(id=n, name="look", **answer))
    session_id = s.close(5.0)
    info, events, timeline = load(db_dir, session_id)
    printed = io.StringIO()
    screen = Screen(info, PlainView(printed, io.StringIO()))
    cues = build_cues(events, [])
    for cue in cues[:1]:
        screen.apply(cue.item)
    [running] = screen.state.tools.values()
    assert (running.line(), running.finished) == ("Tool: look(n=1) [running]", False)
    for cue in cues[1:]:
        screen.apply(cue.item)
    assert printed.getvalue().splitlines() == [
        'Tool: look(n=1) → {"temp_c": 21} [done, 0.2 s]',
        'Tool: look(n=2) → "the user refused this call" [refused]',
        "Tool: look(n=3) [cancelled]",
        f'Tool: look({("query=" + repr("x" * 70))[:59]}…) → "ValueError: no" [error, 1.5 s]',
    ]


# -- the player ------------------------------------------------------------------------------


def make_player(db_dir, session_id, **kwargs):
    info, events, timeline = load(db_dir, session_id)
    screen = Screen(info, PlainView(io.StringIO(), io.StringIO()))
    return Player(screen, build_cues(events, timeline.model.spans(0.05)), timeline, **kwargs)


def test_skipping_back_rebuilds_the_transcript_and_pause_holds_the_clock(db_dir):
    player = make_player(db_dir, conversation(db_dir).id, speed=1.0, start_s=0.0)
    player.seek(6.0)
    assert player.position == 6.0 and len(player.screen.state.transcript.turns) == 4
    player.seek(-5.0)
    assert player.position == 1.0 and player.screen.state.transcript.turns == []
    player.toggle_pause()
    time.sleep(0.1)
    player.tick()
    assert player.position == 1.0
    player.toggle_pause()
    time.sleep(0.1)
    player.tick()
    assert 1.05 < player.position < 1.5


def test_the_layout_is_talks_with_a_progress_bar_and_fits_the_terminal(db_dir):
    player = make_player(db_dir, conversation(db_dir).id, speed=1.5, start_s=3.0)
    player.update_state()
    console = Console(file=io.StringIO(), width=90, height=12, color_system=None, force_terminal=True)
    view = RichReplayView(console)
    parts = list(rich_view.render(player.screen.state, console).renderables)
    parts[-1] = render_progress(player.progress, console.width)
    console.print(Group(*parts))
    lines = console.file.getvalue().splitlines()
    assert len(lines) == 12
    assert lines[0].startswith("livecli gemini-test  voice Puck  replay  00:03")
    assert lines[-4:-2] == ["You: what is the weather like …", "Gemini: It is sunny and …"]
    assert lines[-2].startswith("you ") and lines[-2].endswith("speaking")
    assert lines[-1].startswith("▶ 00:03 ━") and lines[-1].endswith("00:08  ×1.5   space pause · ←/→ 5 s · q quit")
    view.stop(player.screen.state)  # never started: prints the transcript only


# -- the command -------------------------------------------------------------------------------


def test_replay_export_puts_each_voice_on_its_channel_at_its_time(run_cli, db_dir, tmp_path):
    recorded = conversation(db_dir)
    path = tmp_path / "mix.wav"
    result = run_cli("replay", "--export", str(path))  # the latest session
    assert result.returncode == 0, result.stderr
    assert result.stderr == f"wrote {path} (8.0 s, stereo: you left, Gemini right)\n"
    mix, rate = read_wav(path)
    assert rate == RATE and mix.shape == (8 * RATE, 2)
    for start, sent in recorded.user:
        at, alike = locate(mix[:, 0], soxr.resample(sent, 16000, RATE))
        assert abs(at / RATE - start) < 0.001 and alike > 0.99
    for start, heard in recorded.model:
        at, alike = locate(mix[:, 1], heard)
        assert at == round(start * RATE) and alike > 0.999
    assert not mix[round(4.0 * RATE) : round(5.3 * RATE), 1].any()  # cut off: never heard


def test_replay_speed_0_prints_the_turns_in_order(run_cli, db_dir):
    conversation(db_dir)
    result = run_cli("replay", "--no-audio", "--speed", "0")
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.splitlines() == PRINTED
    later = run_cli("replay", "--no-audio", "--speed", "0", "--from", "5")
    assert later.stdout.splitlines() == PRINTED[2:]


@pytest.mark.slow
def test_replay_without_audio_keeps_the_sessions_pace(db_dir, isolated_env):
    conversation(db_dir)
    replay = start_livecli(isolated_env, "replay", "--no-audio", "--speed", "4", stdin=subprocess.DEVNULL)
    seen = [(time.monotonic(), line.rstrip("\n")) for line in replay.stdout]
    assert replay.wait(10) == 0, replay.stderr.read()
    assert [line for _, line in seen] == PRINTED
    apart = seen[2][0] - seen[1][0]  # 4.0 s -> 6.8 s of the session, at 4x
    assert abs(apart - 0.7) < 0.1, apart


@pytest.mark.slow
def test_a_session_without_audio_replays_its_transcript(run_cli, db_dir):
    conversation(db_dir, record_audio=False)
    result = run_cli("replay", "--speed", "4")
    assert result.returncode == 0, result.stderr
    assert result.stderr == "livecli: no audio was recorded in this session: showing the transcript\n"
    assert result.stdout.splitlines() == PRINTED


def test_an_empty_session_says_there_is_nothing_to_replay(run_cli, db_dir):
    session_id = Scripted(db_dir, connected=False).close(0.5)  # a failed start: replayed only when named
    result = run_cli("replay", session_id, "--no-audio")
    assert result.returncode == 1
    assert (
        result.stderr
        == f"livecli: error: session {session_id} has nothing to replay: nothing was said in it (failed to start)\n"
    )


def test_a_session_that_failed_to_start_says_why_there_is_nothing_to_replay(run_cli, db_dir):
    recorder = Scripted(db_dir, connected=False)
    recorder.record(0.2, records.Failure("the Live service refused the session (1007): API key not valid."))
    session_id = recorder.close(0.3, reason="error: the Live service refused the session (1007): API key not valid.")
    result = run_cli("replay", session_id, "--no-audio")
    assert result.returncode == 1
    assert result.stderr == (
        f"livecli: error: session {session_id} has nothing to replay: nothing was said in it"
        " (failed to start: the Live service refused the session (1007): API key not valid.)\n"
    )


def test_keys_from_a_terminal(monkeypatch):
    import os

    from livecli.replay import replay_actions
    from livecli.ui.keys import KeyReader

    main, secondary = os.openpty()
    with open(secondary) as terminal:
        monkeypatch.setattr(sys, "stdin", terminal)
        with KeyReader() as keys:
            assert keys.read() == []
            os.write(main, b" \x1b[Cl\x1b[Dhxq")
            assert replay_actions(keys.read(timeout=1.0)) == ["pause", "forward", "forward", "back", "back", "quit"]
    os.close(main)


def test_jittery_capture_times_still_lay_the_microphone_back_to_back(db_dir):
    s = Scripted(db_dir)
    voice = noise(1.0, 16000, seed=3)
    for index, jitter in enumerate([0.0, 0.012, -0.008, 0.02, 0.0, -0.015, 0.01, 0.0, 0.005, -0.01]):
        chunk = voice[index * 1600 : (index + 1) * 1600]
        s.recorder.audio("user", chunk.tobytes(), 16000, at=s._now_is(1.0 + (index + 1) * 0.1 + jitter))
    s.user(3.0, voice[:1600])  # after a real gap of almost a second
    session_id = s.close(4.0)
    _, _, timeline = load(db_dir, session_id)
    spans = timeline.user.spans(gap_s=0.001)
    assert len(spans) == 2  # no holes from the jitter, the real gap kept
    assert spans[0][1] - spans[0][0] == pytest.approx(1.0, abs=0.001)
    assert spans[1][0] == pytest.approx(3.0, abs=0.001)
