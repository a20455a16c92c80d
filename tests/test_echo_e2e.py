"""Echo cancellation through real devices: PortAudio on a PulseAudio server whose speaker sink
is looped back into the microphone sink (`module-loopback`, 60 ms, linear gain 0.3), or whose
microphone hears a laptop in a room (the room's echo of what the speaker plays, its path
moving by 10 ms every 8 s), the model's voice (espeak-ng) played through the speaker, a user
(another espeak-ng voice) speaking into the microphone sink over it. Behaviour is asserted,
figures are printed.

The last tests drive `livecli talk --echo ...` against the fake Live server; they run once
talk has the `--echo` option.
"""

import importlib.util
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from livecli.audio import aec_backends
from livecli.audio.echo import HalfDuplexGate, NoEcho, make_echo
from livecli.audio.echo_canceller import EchoCanceller
from tests.support.echo_signals import USER_DBFS
from tests.support.fake_live import FakeLiveServer
from tests.support.livecli_process import start_livecli, stop_livecli
from tests.support.pulse_rig import pulse_rig_fixture

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not aec_backends.available(), reason="no echo canceller installed (pip install pywebrtc-audio)"),
]

REPO = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("echo_rig", REPO / "benchmarks" / "echo_rig.py")
echo_rig = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = echo_rig  # its dataclasses look their module up while it loads
_spec.loader.exec_module(echo_rig)

MODEL_TALKS_S = 60.0
ROOM_TALKS_S = 48.0  # five moves
# A take in which the speaker ran dry this often was starved by the machine (a shared host under
# load: 8 and 29 underruns in two failed CI takes, 0-1 in clean ones). Livecli on a starving machine
# is measured in benchmarks/README.md and not met; a starved take says nothing about the moving path.
STARVED_UNDERRUNS = 5


@pytest.fixture(scope="module")
def pulse_rig():
    yield from pulse_rig_fixture()


@pytest.fixture
def echo_path(pulse_rig):
    module = echo_rig.add_echo_path(pulse_rig)
    yield pulse_rig
    pulse_rig.unload_module(module)


def report(name, figures):
    print(f"\nFIGURES {name} {json.dumps(figures)}")


def record_unstarved(rig, play, out, **options):
    """`echo_rig.record`, taken once more if the machine starved the speaker (reported)."""
    take = echo_rig.record(rig, play, out, **options)
    underruns = sum(take.recording.far.xrun)
    if underruns < STARVED_UNDERRUNS:
        return take
    report("starved_take", {"take": out.name, "speaker_underruns": underruns})
    return echo_rig.record(rig, play, out.with_name(f"retaken_{out.name}"), **options)


def test_a_minute_of_the_model_talking_through_a_loopback(echo_path, tmp_path):
    """No self-interruption with AEC (there are several a minute without), ERLE >= 25 dB
    within 2 s, and a user speaking over the model is still heard at once."""
    voices = echo_rig.user_voices()
    echo = record_unstarved(echo_path, echo_rig.model_voice(MODEL_TALKS_S), tmp_path / "echo.npz")
    talk = record_unstarved(
        echo_path, echo_rig.model_voice(echo_rig.DOUBLE_TALK_S), tmp_path / "talk.npz", voices=voices
    )
    placed = echo_rig.voices_in_take(talk, voices)
    figures = {}
    for name, make in [("off", NoEcho), ("half-duplex", HalfDuplexGate), ("aec", EchoCanceller)]:
        figures[name] = {
            "echo": echo_rig.echo_figures(echo.recording, make),
            "double_talk": echo_rig.double_talk_figures(talk.recording, placed, make),
        }
    report("echo_rig", figures)

    off, half, aec = figures["off"], figures["half-duplex"], figures["aec"]
    assert off["echo"]["per_minute"] >= 3, "the echo path should make the model hear itself"
    assert aec["echo"]["seconds"] >= MODEL_TALKS_S - 1
    assert aec["echo"]["self_interruptions"] == 0
    assert aec["echo"]["frames_over"] == 0
    assert aec["echo"]["erle_db"] >= 25
    assert aec["echo"]["converged_s"] is not None and aec["echo"]["converged_s"] <= 2.0
    # CPU cost is a benchmark figure (benchmarks/echo_rig.py), not a test assertion. A loaded
    # machine can deliver a few speaker blocks late; they must stay rare.
    assert aec["echo"]["stats"]["missing_reference_frames"] <= 0.01 * aec["echo"]["seconds"] * 100
    for utterance in aec["double_talk"]["utterances"]:
        assert utterance["heard"], aec["double_talk"]
        # VAD hears the voice within 200 ms of when it would hear it alone
        assert utterance["heard_after_ms"] <= 200, aec["double_talk"]
    assert half["echo"]["self_interruptions"] == 0
    assert not any(u["heard"] for u in half["double_talk"]["utterances"])  # interrupting takes a key


def test_the_room_moving_never_interrupts_and_a_user_is_still_heard(pulse_rig, tmp_path):
    """The room through real devices, with the default `--echo` (auto): the model talks for
    48 s while the path moves five times (unseen by livecli); not once would the service hear
    speech. Then a user speaks over the model three times: each is heard at once."""
    play = echo_rig.model_voice(ROOM_TALKS_S)
    echo = record_unstarved(pulse_rig, play, tmp_path / "room.npz", echo=echo_rig.room_echo_pcm(play))
    voices = echo_rig.user_voices(USER_DBFS)
    talk_play = echo_rig.model_voice(echo_rig.DOUBLE_TALK_S)
    talk = record_unstarved(
        pulse_rig, talk_play, tmp_path / "room_talk.npz", voices=voices, echo=echo_rig.room_echo_pcm(talk_play)
    )
    placed = echo_rig.voices_in_take(talk, voices)
    default = lambda: make_echo().control  # noqa: E731
    figures = {
        name: {
            "echo": echo_rig.echo_figures(echo.recording, make),
            "double_talk": echo_rig.double_talk_figures(talk.recording, placed, make),
        }
        for name, make in [("off", NoEcho), ("auto", default)]
    }
    report("echo_room", figures)
    off, auto = figures["off"], figures["auto"]
    assert off["echo"]["self_interruptions"] >= 1, "the room should make the model hear itself"
    assert auto["echo"]["mode"] == "aec"
    assert auto["echo"]["self_interruptions"] == 0
    assert auto["echo"]["frames_over"] == 0
    assert auto["echo"]["stats"]["moves"] >= 3  # most of the five moves found (unseen: the rest AEC3 followed)
    for utterance in auto["double_talk"]["utterances"]:
        assert utterance["heard"] and utterance["heard_after_ms"] <= 300, auto["double_talk"]
    assert auto["double_talk"]["self_interruptions"] == 0


def devices_test_echo(env):
    return subprocess.run(
        [sys.executable, "-m", "livecli", "devices", "test", "--echo"],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_devices_echo_measurement(echo_path, isolated_env):
    """What `livecli devices test --echo` reports on this path."""
    done = devices_test_echo(echo_path.subprocess_env(isolated_env))
    print(done.stdout)
    assert done.returncode == 0, done.stdout + done.stderr
    figures = dict(line.split("  ", 1) for line in done.stdout.splitlines() if "  " in line)
    assert "echo cancelled" in done.stdout
    assert float(figures["ERLE"].split()[0]) >= 25
    assert 20 <= float(figures["echo delay"].split()[0]) <= 200
    assert done.stderr == ""  # nothing between the meter and the verdict but livecli's lines


def test_devices_echo_measurement_without_echo(pulse_rig, isolated_env):
    done = devices_test_echo(pulse_rig.subprocess_env(isolated_env))
    assert done.returncode == 0, done.stderr
    assert "no echo" in done.stdout


# -- livecli talk --echo (once talk has the option) -----------------------------------------------


def talk_has_echo_option() -> bool:
    done = subprocess.run(
        [sys.executable, "-m", "livecli", "talk", "--help"], capture_output=True, text=True, timeout=30
    )
    return "--echo" in done.stdout


needs_talk_echo = pytest.mark.skipif(not talk_has_echo_option(), reason="talk has no --echo option yet")


def user_barges_in(rig, server) -> float:
    """The user says "Stop please." over the model; ms from the voice's first sound until the
    service says the model was interrupted."""
    voice = echo_rig.user_voice("Stop please.")
    playback = rig.start_play("mic", voice.pcm, voice.rate)
    onset = playback.started_at + voice.offset_s
    assert server.wait_event("interrupted", timeout=5), "the user's barge-in was not detected"
    return (server.events("interrupted")[0].t - onset) * 1000


def model_reply_pcm(seconds: float) -> bytes:
    return echo_rig.model_voice(seconds).astype("<i2").tobytes()


@needs_talk_echo
@pytest.mark.parametrize("mode", ["aec", "off"])
def test_talk_model_talking_through_the_loopback(echo_path, isolated_env, mode):
    """With aec: a minute of the model talking, nobody speaking, and the server never hears
    speech (no self-interruption); then the user speaks over it and the model is interrupted
    within 1 s (machines here are shared: the figure is reported). With off: how often the model interrupts itself."""
    seconds = MODEL_TALKS_S if mode == "aec" else 20.0
    server = FakeLiveServer(
        user_transcripts=["tell me a long story", "stop please"],
        reply_text="Once upon a time.",
        reply_audio=model_reply_pcm(seconds + 15),
        send_speed=2.0,
    )
    with server:
        env = echo_path.subprocess_env(server.subprocess_env(isolated_env))
        talk = start_livecli(env, "talk", "--plain", "--echo", mode)
        try:
            assert server.wait_for(lambda: len(server.audio_in) >= 10, timeout=20), "no microphone audio arrived"
            echo_path.speak("Tell me a long story.")
            assert server.wait_event("model_audio_first", timeout=10), "the model never answered"
            speaking_from = server.events("model_audio_first")[0].t
            time.sleep(seconds)
            heard = [e for e in server.events("speech_start") if e.t > speaking_from]
            per_minute = len(heard) / seconds * 60
            if mode == "off":
                report("talk_echo_off", {"self_interruptions_per_min": round(per_minute, 1)})
                assert heard, "without echo control the model should hear itself"
                return
            assert heard == [], f"the model heard itself {len(heard)} times"
            barge_in_ms = user_barges_in(echo_path, server)
            report("talk_echo_aec", {"self_interruptions_per_min": 0.0, "barge_in_ms": round(barge_in_ms)})
            assert barge_in_ms <= 1000  # the issue's bound; the figure itself is reported, not asserted
        finally:
            stop_livecli(talk)


@needs_talk_echo
def test_talk_on_a_moving_echo_path_never_hears_itself_and_a_user_still_barges_in(pulse_rig, isolated_env):
    """`livecli talk` with the default `--echo` (auto), the speaker looped back into the
    microphone, the path moving every 8 s: the loopback made anew 10 ms longer, then shorter
    again (as a sound server correcting drift would move it: nothing tells livecli). While the
    model talks the service never hears speech; then the user speaks over it and is heard."""
    seconds, every_s = 40.0, 8.0
    server = FakeLiveServer(
        user_transcripts=["tell me a long story", "stop please"],
        reply_text="Once upon a time.",
        reply_audio=model_reply_pcm(seconds + 15),
        send_speed=2.0,
    )
    module = echo_rig.add_echo_path(pulse_rig)
    with server:
        env = pulse_rig.subprocess_env(server.subprocess_env(isolated_env))
        talk = start_livecli(env, "talk", "--plain")
        try:
            assert server.wait_for(lambda: len(server.audio_in) >= 10, timeout=20), "no microphone audio arrived"
            pulse_rig.speak("Tell me a long story.")
            assert server.wait_event("model_audio_first", timeout=10), "the model never answered"
            speaking_from = server.events("model_audio_first")[0].t
            moves = 0
            while time.monotonic() < speaking_from + seconds - every_s:
                time.sleep(every_s)
                pulse_rig.unload_module(module)
                moves += 1
                latency = echo_rig.LOOPBACK_LATENCY_MS + (10 if moves % 2 else 0)
                module = echo_rig.add_echo_path(pulse_rig, latency_ms=latency)
            time.sleep(max(0.0, speaking_from + seconds - time.monotonic()))
            heard = [e for e in server.events("speech_start") if e.t > speaking_from]
            assert heard == [], f"the model heard itself {len(heard)} times in {seconds:.0f} s, over {moves} moves"
            barge_in_ms = user_barges_in(pulse_rig, server)
            report("talk_echo_moving", {"moves": moves, "self_interruptions": 0, "barge_in_ms": round(barge_in_ms)})
            assert barge_in_ms <= 1000
        finally:
            out, err = stop_livecli(talk)
            pulse_rig.unload_module(module)
    assert "Traceback" not in err, err
