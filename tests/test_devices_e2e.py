"""`livecli devices`, `devices test` and `devices pick` as a user runs them, on real
PortAudio devices: the PulseAudio rig's null sinks, plus ALSA devices defined in
the test's own asoundrc ($XDG_CONFIG_HOME/alsa/asoundrc, read by alsa-lib):

* `only48k` -- ALSA's a52 encoder over Pulse: a real PortAudio output device that
  refuses 24 kHz ("Invalid sample rate") and mono, like a 48 kHz-only S/PDIF or
  USB device. What it plays is an AC-3 bitstream, so only the format and the flow
  of callbacks are checked, not the sound.
* `fixed48` -- a `plug` device whose slave runs at 48 kHz with no rate converter:
  PortAudio refuses to open it at 16 kHz with a real host error, as a `hw:` device
  does. (Through PortAudio it never calls back, so it only serves format checks.)
"""

import json
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from tests.support.livecli_process import start_livecli
from tests.support.pulse_rig import dominant_frequency, pulse_rig_fixture, tone_segments

pytestmark = pytest.mark.e2e

ASOUNDRC = """
pcm.only48k { type a52; slavepcm "pulse"; rate 48000; channels 2 }
pcm.fixed48 {
  type plug
  slave { pcm "pulse"; rate 48000; channels 2; format S16_LE }
  rate_converter "livecli_test_none"
}
"""


@pytest.fixture(scope="module")
def pulse_rig():
    yield from pulse_rig_fixture()


@pytest.fixture
def env(pulse_rig, isolated_env, tmp_path):
    alsa = tmp_path / "config" / "alsa"
    alsa.mkdir(parents=True)
    (alsa / "asoundrc").write_text(ASOUNDRC)
    return pulse_rig.subprocess_env(isolated_env)


def livecli(env, *args, stdin=subprocess.DEVNULL, input=None):
    return subprocess.run(
        [sys.executable, "-m", "livecli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=None if input is not None else stdin,
        input=input,
    )


def sine(seconds, amplitude, freq, rate=48000):
    t = np.arange(int(rate * seconds)) / rate
    return np.clip(amplitude * 32767 * np.sin(2 * np.pi * freq * t), -32768, 32767).astype(np.int16)


def config_file(env):
    from pathlib import Path

    return Path(env["XDG_CONFIG_HOME"]) / "livecli" / "config.toml"


def test_devices_table_and_json(env):
    path = config_file(env)
    path.parent.mkdir(parents=True)
    path.write_text('output_device = "pulse"\n')
    table = livecli(env, "devices")
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["#", "name", "host", "API", "in", "out", "rate", "system", "default", "livecli", "uses"]
    rows = {line.split()[1]: line for line in lines[1:] if line[:1].strip().isdigit()}
    assert {"pulse", "default", "only48k", "fixed48"} <= set(rows)
    assert rows["default"].endswith("input+output    microphone")
    assert rows["pulse"].endswith("speaker")
    assert rows["only48k"].split()[3:7] == ["0", "2", "48000", "Hz"]
    assert lines[-2].startswith("microphone: ") and lines[-2].endswith(" default  (system default)")
    assert lines[-1].endswith(" pulse  (config: 'pulse')")

    listing = json.loads(livecli(env, "devices", "--json", "--input", "PULSE").stdout)
    by_name = {d["name"]: d for d in listing["devices"]}
    assert by_name["default"]["default_input"] and by_name["default"]["default_output"]
    assert by_name["pulse"]["livecli_uses"] == ["microphone", "speaker"]
    assert listing["microphone"] == {
        "spec": "PULSE",
        "source": "option",
        "index": by_name["pulse"]["index"],
        "name": "pulse",
    }
    assert listing["speaker"]["source"] == "config"


def test_devices_with_an_unknown_name_still_lists_then_fails_with_candidates(env):
    result = livecli(env, "devices", "--output", "headphones")
    assert result.returncode == 6
    assert "speaker: not found (see the error)  (option: 'headphones')" in result.stdout
    assert result.stderr.startswith("livecli: error: no speaker matches 'headphones'; candidates: ")
    assert "only48k (ALSA)" in result.stderr and len(result.stderr.splitlines()) == 1


def test_no_sound_server_is_one_line_with_a_way_out(isolated_env):
    env = dict(isolated_env, PULSE_SERVER="unix:/nonexistent/native", GEMINI_API_KEY="k")
    for args in (["devices"], ["devices", "pick"]):
        result = livecli(env, *args)
        assert result.returncode == 6
        assert result.stderr == (
            "livecli: error: PortAudio sees no audio devices; is a device plugged in, and the sound server "
            "(PulseAudio, PipeWire) running?\n"
        )
    for args in (["talk", "--plain"], ["devices", "test"]):
        result = livecli(env, *args)
        assert result.returncode == 6
        assert result.stderr == (
            "livecli: error: no microphone found: PortAudio sees none; is a device plugged in, and the sound "
            "server (PulseAudio, PipeWire) running?\n"
        )


def test_devices_test_records_meters_plays_back_and_says_ok(env, pulse_rig):
    speaker = pulse_rig.record_speaker()
    run = start_livecli(env, "devices", "test", "--seconds", "2", "--tone", stdin=subprocess.DEVNULL)
    time.sleep(2.5)  # the 1 s tone plays first, then recording starts
    pulse_rig.play("mic", sine(0.8, 0.25, 1000.0), 48000)
    out, err = run.communicate(timeout=30)
    recording = speaker.stop()
    assert run.returncode == 0, out + err
    assert "Traceback" not in err
    lines = out.splitlines()
    assert (
        lines[0].startswith("microphone: ")
        and "accepts 8000, 16000, 22050, 24000, 32000, 44100, 48000, 96000 Hz" in lines[0]
    )
    assert "recording 2 s: speak now…" in lines
    assert "microphone: opened at 16000 Hz mono" in lines
    levels = next(line for line in lines if line.startswith("recorded "))
    peak = float(levels.split("peak ")[1].split(" dBFS")[0])
    assert peak == pytest.approx(-12.0, abs=1.0)  # a 0.25 amplitude tone
    assert lines[-1] == "verdict: microphone OK"
    tone = tone_segments(recording, speaker.rate, 440.0)
    playback = tone_segments(recording, speaker.rate, 1000.0)
    assert len(tone) == 1 and tone[0][1] - tone[0][0] == pytest.approx(1.0, abs=0.1)
    assert len(playback) == 1 and playback[0][1] - playback[0][0] == pytest.approx(0.8, abs=0.1)
    assert playback[0][0] > tone[0][1]


@pytest.mark.parametrize(
    "amplitude,verdict",
    [
        (0.0, "verdict: no signal: the microphone delivers silence"),
        (0.003, "verdict: too quiet: raise input gain"),
        (1.4, "verdict: clipping: lower the input gain"),
    ],
)
def test_devices_test_verdicts_on_real_signals(env, pulse_rig, amplitude, verdict):
    run = start_livecli(env, "devices", "test", "--seconds", "1.5", stdin=subprocess.DEVNULL)
    time.sleep(1.2)
    if amplitude:
        pulse_rig.play("mic", sine(0.8, amplitude, 700.0), 48000)
    out, err = run.communicate(timeout=30)
    assert run.returncode == 1, out + err
    assert out.splitlines()[-1].startswith(verdict)


def test_a_speaker_that_refuses_24khz_is_opened_at_its_own_rate(env):
    result = livecli(env, "devices", "test", "--seconds", "1", "--output", "only48k", "--tone")
    assert "Traceback" not in result.stderr
    lines = result.stdout.splitlines()
    assert any(line.startswith("speaker: ") and "accepts 48000 Hz" in line for line in lines)
    assert lines.count("speaker: opened at 48000 Hz mono") == 2  # the tone, then the playback
    assert "speaker: playback did not finish" not in result.stdout


PROBE = textwrap.dedent(
    """
    import json, sounddevice as sd
    from livecli.audio import devices, opening, portaudio
    device = devices.resolve("fixed48", "input")
    try:
        with portaudio.quiet():
            sd.RawInputStream(device=device.index, samplerate=16000, channels=1, dtype="int16")
        refusal = None
    except sd.PortAudioError as exc:
        refusal = [opening.describe_error(exc), opening.error_code(exc)]
    stream, fmt = opening.open_stream(sd, device, "input", 16000, block_ms=20, make_callback=lambda f: lambda *a: None)
    opening.discard(stream)
    print(json.dumps(dict(refusal=refusal, opened=str(fmt), rates=devices.supported_rates(device, "input"))))
    """
)


def test_a_microphone_that_refuses_16khz_is_opened_at_its_own_rate(env):
    result = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    probe = json.loads(result.stdout)
    assert probe["refusal"][1] == -9999  # PortAudio's "Unanticipated host error" from ALSA
    assert "Unanticipated host error" in probe["refusal"][0]
    assert probe["opened"] == "48000 Hz mono"
    assert probe["rates"] == [48000]
    assert result.stderr == ""  # ALSA's and PortAudio's complaints were silenced


STALLS = textwrap.dedent(
    """
    import asyncio, json, time
    from livecli.audio.streams import Microphone, Speaker

    def stalling(stream):
        # Every 25th callback takes 100 ms, longer than the device's buffer: it runs dry.
        make = stream._callback
        def callback(fmt):
            work, count = make(fmt), [0]
            def slow(*args):
                count[0] += 1
                if count[0] % 25 == 0:
                    time.sleep(0.1)
                work(*args)
            return slow
        stream._callback = callback

    async def main():
        speaker, mic = Speaker(None), Microphone(None)
        stalling(speaker)
        stalling(mic)
        speaker.start(); mic.start()
        speaker.play(bytes(24000 * 2 * 2)); speaker.end_of_turn()
        chunks = 0
        async for _ in mic.chunks():
            chunks += 1
            if chunks >= 20:
                break
        speaker.close(); mic.close()
        print(json.dumps(dict(underflows=speaker.underflows, overflows=mic.overflows)))

    asyncio.run(main())
    """
)


def test_underruns_are_counted_by_livecli_and_not_printed_by_alsa(env):
    result = subprocess.run([sys.executable, "-c", STALLS], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["underflows"] >= 1  # the speaker ran dry, and livecli counted it...
    assert result.stderr == ""  # ...while ALSA said nothing ("ALSA lib pcm.c:...: underrun occurred")


FORCED_FORMATS = textwrap.dedent(
    """
    import asyncio, json, sys
    import numpy as np
    from livecli.audio import opening
    from livecli.audio.opening import StreamFormat
    from livecli.audio.streams import Microphone, Speaker

    # PulseAudio takes any rate, so force what a 44.1 kHz stereo microphone and a
    # 48 kHz stereo speaker would leave us with.
    opening.candidate_formats = lambda device, direction, wanted: (
        [StreamFormat(44100, 2)] if direction == "input" else [StreamFormat(48000, 2)])

    async def main():
        mic, speaker = Microphone(None), Speaker(None)
        speaker.start(); mic.start()
        print("ready", flush=True)
        t = np.arange(24000 * 2) / 24000
        speaker.play((0.3 * 32767 * np.sin(2 * np.pi * 440 * t)).astype(np.int16).tobytes())
        speaker.end_of_turn()
        captured, sizes = bytearray(), set()
        async for chunk, _ in mic.chunks():
            captured += chunk; sizes.add(len(chunk))
            if len(captured) >= 16000 * 2 * 3:
                break
        mic.close(); speaker.close()
        print(json.dumps(dict(formats=[str(mic.last_format), str(speaker.last_format)], sizes=sorted(sizes))))
        sys.stdout.buffer.write(bytes(captured))

    asyncio.run(main())
    """
)


def test_resampling_and_channel_mixing_through_real_44k1_and_48k_stereo_streams(env, pulse_rig, tmp_path):
    speaker = pulse_rig.record_speaker()
    run = subprocess.Popen(
        [sys.executable, "-c", FORCED_FORMATS], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert run.stdout.readline() == b"ready\n"
    time.sleep(0.5)
    pulse_rig.play("mic", sine(1.5, 0.25, 1000.0), 48000)
    out, err = run.communicate(timeout=30)
    recording = speaker.stop()
    assert run.returncode == 0, err.decode()
    header, captured = out.split(b"\n", 1)
    report = json.loads(header)
    assert report["formats"] == ["44100 Hz stereo", "48000 Hz stereo"]
    assert report["sizes"] == [3200]  # 100 ms of 16 kHz mono, whatever the device rate
    mic = np.frombuffer(captured, np.int16).astype(float)
    loud = np.flatnonzero(np.abs(mic) > 4000)
    steady = mic[loud[0] + 800 : loud[-1] - 800]
    assert len(steady) > 16000  # over a second of the 1.5 s tone
    assert dominant_frequency(steady.astype(np.int16), 16000) == pytest.approx(1000.0, abs=5)
    assert 20 * np.log10(np.sqrt(np.mean(steady**2)) / 32768) == pytest.approx(-15.1, abs=0.5)
    # No clicks at block edges: a 1 kHz sine at 16 kHz moves at most 2*pi*1000/16000 of its amplitude per sample.
    assert np.max(np.abs(np.diff(steady))) <= 2 * np.pi * 1000 / 16000 * 0.25 * 32767 * 1.1
    played = tone_segments(recording, speaker.rate, 440.0)
    assert len(played) == 1 and played[0][1] - played[0][0] == pytest.approx(2.0, abs=0.1)
    start, end = (int(x * speaker.rate) for x in played[0])
    heard = recording[start + 2400 : end - 2400].astype(float)
    assert np.max(np.abs(np.diff(heard))) <= 2 * np.pi * 440 / speaker.rate * 0.3 * 32767 * 1.1


def test_pick_saves_both_choices_and_keeps_other_keys(env):
    path = config_file(env)
    path.parent.mkdir(parents=True)
    path.write_text('voice = "Kore"\noutput_device = "pulse"\n\n[tools]\ntimeout_s = 30\n')
    listing = json.loads(livecli(env, "devices", "--json").stdout)
    pulse = next(d["index"] for d in listing["devices"] if d["name"] == "pulse")
    result = livecli(env, "devices", "pick", input=f"{pulse}\nd\n")
    assert result.returncode == 0, result.stderr
    assert "Choose the microphone: type its number" in result.stdout
    assert f">   {pulse}  pulse" in result.stdout  # the configured speaker is preselected
    import tomllib

    saved = tomllib.loads(path.read_text())
    assert saved == {"voice": "Kore", "input_device": "pulse", "tools": {"timeout_s": 30}}
    assert livecli(env, "devices", "--json").returncode == 0


def test_pick_refuses_a_number_that_is_not_listed(env):
    result = livecli(env, "devices", "pick", input="99\n")
    assert result.returncode == 3
    assert result.stderr.startswith("livecli: error: '99' is not one of the choices (d, 0, ")
    assert not config_file(env).exists()


def test_pick_in_a_terminal_with_arrow_keys_and_a_typed_number(env):
    import os
    import pty
    import select

    path = config_file(env)
    listing = json.loads(livecli(env, "devices", "--json").stdout)
    index = {d["name"]: d["index"] for d in listing["devices"]}
    microphones = [d["name"] for d in listing["devices"] if d["input_channels"]]
    pid, fd = pty.fork()
    if pid == 0:  # the child: livecli on a terminal
        os.execve(sys.executable, [sys.executable, "-m", "livecli", "devices", "pick"], dict(env, TERM="xterm"))
    shown = b""

    def read_until(text, timeout=10.0):
        nonlocal shown
        deadline = time.monotonic() + timeout
        while text.encode() not in shown and time.monotonic() < deadline:
            if select.select([fd], [], [], 0.1)[0]:
                try:
                    shown += os.read(fd, 65536)
                except OSError:
                    break
        return text.encode() in shown

    assert read_until(">   d  system default")  # drawn once keys are read one by one
    for _ in range(1 + microphones.index("pulse")):  # from "system default" down to `pulse`
        os.write(fd, b"\x1b[B")
    assert read_until(f">   {index['pulse']}  pulse")
    os.write(fd, b"\r")
    assert read_until("Choose the speaker")
    os.write(fd, str(index["default"]).encode() + b"\r")
    assert read_until("saved in ")
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, shown.decode(errors="replace")
    assert path.read_text() == 'input_device = "pulse"\noutput_device = "default"\n'
