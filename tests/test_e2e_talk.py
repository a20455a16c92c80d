"""`livecli talk` end to end: a subprocess, real PortAudio devices on a PulseAudio
server with null sinks, espeak-ng speaking into the microphone, the speaker
recorded, and the fake Live server reached by the unmodified SDK over TLS.
"""

import json
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from tests.support.fake_live import FakeLiveServer
from tests.support.livecli_process import interrupt_livecli, start_livecli
from tests.support.pulse_rig import pulse_rig_fixture, tone_segments

pytestmark = pytest.mark.e2e

REPLY_TONE_HZ = 440.0  # the fake server's model voice


@pytest.fixture(scope="module")
def pulse_rig():
    yield from pulse_rig_fixture()


def start_talk(env, *args):
    return start_livecli(env, "talk", "--plain", "--echo", "off", *args)  # null sinks: no acoustic echo


def finish(process, timeout=15):
    """For a talk that ends by itself (an error, or the end of its input): no Ctrl-C."""
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        pytest.fail(f"livecli did not exit: {err}")
    return process.returncode, out, err


def report(name, figures):
    """Print measured figures so the test log carries them (not asserted on timing alone)."""
    print(f"\nFIGURES {name} {json.dumps(figures)}")


def test_nothing_to_say_keeps_no_session(pulse_rig, isolated_env, run_cli):
    """`livecli talk </dev/null`: connected, nothing said, done; `sessions list` stays empty."""
    with FakeLiveServer() as server:
        env = pulse_rig.subprocess_env(server.subprocess_env(isolated_env))
        done = run_cli("talk", "--plain", "--echo", "off", env=env)
        assert server.setups, "it never connected"
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines()[-1] == "livecli: nothing was said, so no session was kept"
    assert json.loads(run_cli("sessions", "list", "--json", env=env).stdout) == []


def test_conversation_with_barge_in_through_real_devices(pulse_rig, isolated_env):
    server = FakeLiveServer(
        user_transcripts=["what is the weather like", "stop please"],
        reply_text=["It is sunny and warm today with a light breeze from the west.", "Okay, stopping."],
        reply_seconds=6.0,
    )
    with server:
        env = pulse_rig.subprocess_env(server.subprocess_env(isolated_env))
        recorder = pulse_rig.record_speaker()
        talk = start_talk(env)
        try:
            assert server.wait_for(lambda: len(server.audio_in) >= 10, timeout=20), "no microphone audio arrived"
            pulse_rig.speak("What is the weather like today?")
            assert server.wait_event("model_audio_first", timeout=10), "the model never answered"
            time.sleep(1.5)  # let the answer play for a while, then talk over it
            pulse_rig.speak("Stop please.")
            assert server.wait_event("interrupted", timeout=10), "the barge-in was not detected"
            assert server.wait_event("turn_complete", count=2, timeout=20)  # interrupted turn + answer to "stop"
            time.sleep(1.0)
            chunks = list(server.audio_in)
        finally:
            code, out, err = interrupt_livecli(talk)
            recording = recorder.stop()

    assert code == 0, err
    assert "Traceback" not in err
    assert err.splitlines()[-1].endswith("plays it back")  # where the session was saved and how to replay it

    # Both sides' transcripts, in order, one line per turn; the barged-in answer is marked.
    lines = out.splitlines()
    assert lines[0] == "You: what is the weather like"
    assert lines[1].startswith("Gemini: It is sunny") and lines[1].endswith("[interrupted]")
    assert lines[2:4] == ["You: stop please", "Gemini: Okay, stopping."]

    # The microphone went out as 100 ms chunks of 16 kHz int16, at real-time pace.
    assert {len(c.data) for c in chunks} == {3200}
    assert {c.mime_type for c in chunks} == {"audio/pcm;rate=16000"}
    arrivals = np.array([c.t for c in chunks[5:]])  # skip stream start-up
    span = arrivals[-1] - arrivals[0]
    expected = 0.1 * (len(arrivals) - 1)
    lateness = (arrivals - arrivals[0]) - 0.1 * np.arange(len(arrivals))
    jitter = lateness - np.median(lateness)
    assert abs(span - expected) < 0.03 * expected, f"{len(arrivals)} chunks took {span:.2f} s"

    # The model's voice reached the speaker, and stopped soon after `interrupted`.
    rate = recorder.rate
    interrupted_at = server.events("interrupted")[0].t
    first_audio_at = server.events("model_audio_first")[0].t
    segments = tone_segments(recording, rate, REPLY_TONE_HZ)
    story = [s for s in segments if recorder.time_of(s[0] * rate) < interrupted_at]
    assert story, f"no model audio in the speaker recording: {segments}"
    story_start, story_end = story[-1]
    heard_s = story_end - story_start
    silence_after_interrupt_ms = (recorder.time_of(story_end * rate) - interrupted_at) * 1000
    first_audio_latency_ms = (recorder.time_of(story_start * rate) - first_audio_at) * 1000
    report(
        "talk_e2e",
        {
            "chunks": len(chunks),
            "chunk_pace_ms": round(span / (len(arrivals) - 1) * 1000, 2),
            "chunk_jitter_p99_ms": round(float(np.percentile(np.abs(jitter), 99)) * 1000, 1),
            "model_audio_heard_s": round(heard_s, 2),
            "first_model_audio_to_speaker_ms": round(first_audio_latency_ms, 1),
            "interrupted_to_speaker_silent_ms": round(silence_after_interrupt_ms, 1),
        },
    )
    assert heard_s > 1.0, "the answer should have played for a while before the barge-in"
    assert silence_after_interrupt_ms < 150, (
        f"speaker still playing {silence_after_interrupt_ms:.0f} ms after interrupted"
    )


def test_unreachable_service_is_one_line(pulse_rig, isolated_env):
    env = pulse_rig.subprocess_env(dict(isolated_env, GEMINI_API_KEY="k", GOOGLE_GEMINI_BASE_URL="https://127.0.0.1:9"))
    code, out, err = finish(start_talk(env), timeout=30)
    assert code == 5, err
    assert err.strip().startswith("livecli: error: cannot reach the Live service")
    assert len(err.strip().splitlines()) == 1


def test_rejected_key_is_one_line_and_the_session_is_kept(pulse_rig, isolated_env, run_cli):
    with FakeLiveServer(api_key="the-right-key") as server:
        env = pulse_rig.subprocess_env(dict(server.subprocess_env(isolated_env), GEMINI_API_KEY="a-wrong-key"))
        code, out, err = finish(start_talk(env), timeout=30)
    assert code == 4, err
    assert err.strip() == (
        "livecli: error: the Live service refused the session (1007): API key not valid. Please pass a valid API key."
    )
    assert "a-wrong-key" not in out + err
    [kept] = json.loads(run_cli("sessions", "list", "--json").stdout)
    assert kept["exit_reason"].startswith("error: the Live service refused the session (1007)")
    database = Path(isolated_env["XDG_DATA_HOME"]) / "livecli"
    assert not any(b"a-wrong-key" in path.read_bytes() for path in database.iterdir() if path.is_file())


def test_unknown_device_lists_candidates(pulse_rig, isolated_env):
    env = pulse_rig.subprocess_env(dict(isolated_env, GEMINI_API_KEY="k"))
    code, out, err = finish(start_talk(env, "--input-device", "no such mic"), timeout=30)
    assert code == 6, err
    assert err.startswith("livecli: error: no microphone matches 'no such mic'; candidates: ")
    assert "pulse" in err and len(err.strip().splitlines()) == 1


@pytest.fixture
def silent_service():
    """A TCP port that accepts connections and never answers (a hung service)."""
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    yield f"https://127.0.0.1:{listener.getsockname()[1]}"
    listener.close()


def test_ctrl_c_while_connecting_ends_at_once(pulse_rig, isolated_env, silent_service):
    env = pulse_rig.subprocess_env(dict(isolated_env, GEMINI_API_KEY="k", GOOGLE_GEMINI_BASE_URL=silent_service))
    talk = start_talk(env)
    time.sleep(3)  # started, devices open, stuck in the TLS handshake
    asked = time.monotonic()
    code, out, err = interrupt_livecli(talk, timeout=10)
    assert code == 0, err
    assert time.monotonic() - asked < 2
    assert err == ""
