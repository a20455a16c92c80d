"""The PulseAudio test rig: real PortAudio (sounddevice) through a private PulseAudio server.

sounddevice is only ever imported in subprocesses: PortAudio reads PULSE_SERVER when it
initialises, which ``import sounddevice`` does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest

from tests.support.pulse_rig import (
    PulseRig,
    RigUnavailable,
    active_segments,
    check_requirements,
    dominant_frequency,
    make_tone,
    missing_requirements,
    pulse_rig_fixture,
    rms_dbfs,
    speech_pcm,
    to_float,
    tone_envelope,
    tone_segments,
)


@pytest.fixture(scope="module")
def pulse_rig():
    try:
        yield from pulse_rig_fixture()
    except RigUnavailable as e:
        pytest.fail(str(e), pytrace=False)


@pytest.fixture
def child_env(pulse_rig, tmp_path):
    """A subprocess environment like the CLI tests use (config dirs moved away) plus the rig."""
    return pulse_rig.subprocess_env(
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        XDG_DATA_HOME=str(tmp_path / "data"),
        PYTHONUNBUFFERED="1",
    )


def _report(record_property, **values):
    for k, v in values.items():
        record_property(k, v)
    print(" ".join(f"{k}={v:.1f}" if isinstance(v, float) else f"{k}={v}" for k, v in values.items()))


# ---------------------------------------------------------------------------------------------
# Real PortAudio through the rig
# ---------------------------------------------------------------------------------------------

PLAY_TONE = r"""
import json, sys, threading, time
import numpy as np
import sounddevice as sd

rate, freq, dur, block = 24000, 1000.0, 1.0, 240
tone = (0.25 * np.sin(2 * np.pi * freq * np.arange(int(rate * dur)) / rate)).astype(np.float32)
# The last ~20 ms a stream is given before it stops never reach Pulse (ALSA pulse plugin):
# pad with 50 ms of silence so the whole tone plays.
tone = np.concatenate([tone, np.zeros(int(0.05 * rate), np.float32)])
pos = 0
first = None
underflows = 0
done = threading.Event()

def cb(out, frames, t, status):
    global pos, first, underflows
    if first is None:
        first = time.monotonic()
    if status.output_underflow:
        underflows += 1
    chunk = tone[pos:pos + frames]
    out[:len(chunk), 0] = chunk
    out[len(chunk):] = 0
    pos += len(chunk)
    if len(chunk) < frames:
        raise sd.CallbackStop

dev = sd.query_devices(kind="output")
stream = sd.OutputStream(samplerate=rate, channels=1, dtype="float32", blocksize=block,
                         latency="low", callback=cb, finished_callback=done.set)
t_start = time.monotonic()
stream.start()
ok = done.wait(dur + 5)
stream.close()
print(json.dumps({"device": dev["name"], "t_start": t_start, "t_first_cb": first, "ok": ok,
                  "underflows": underflows, "latency": stream.latency}))
"""


@pytest.mark.e2e
def test_sounddevice_tone_reaches_speaker_recording(pulse_rig, child_env, record_property):
    rec = pulse_rig.record_speaker(rate=48000)
    out = subprocess.run([sys.executable, "-c", PLAY_TONE], env=child_env, capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    info = json.loads(out.stdout.strip().splitlines()[-1])
    assert info["ok"], "stream never finished"
    time.sleep(0.15)
    x = rec.stop()
    stats = rec.stats()

    segs = tone_segments(x, rec.rate, 1000.0, threshold_dbfs=-30)
    assert len(segs) == 1, f"expected one 1 kHz segment, got {segs}"
    start, end = segs[0]
    assert end - start == pytest.approx(1.0, abs=0.01), f"tone lasted {end - start:.4f} s"
    seg = x[int(start * rec.rate) : int(end * rec.rate)]
    assert dominant_frequency(seg, rec.rate) == pytest.approx(1000.0, abs=2.0)
    # 0.25 peak amplitude -> -12 dBFS peak, -15 dBFS RMS
    assert rms_dbfs(seg) == pytest.approx(-15.05, abs=1.0)
    # no dropouts inside: one continuous active region at 2 ms resolution
    inner = active_segments(x, rec.rate, threshold_dbfs=-30, min_gap_ms=1, window_ms=2)
    assert len(inner) == 1, f"dropouts in the played tone: {inner}"
    # the monitor delivered gap-free data all along
    assert stats["lag_ms_max"] < 40, stats

    onset = rec.time_of(start * rec.rate)
    _report(
        record_property,
        device=info["device"],
        tone_duration_ms=(end - start) * 1000,
        play_latency_from_first_callback_ms=(onset - info["t_first_cb"]) * 1000,
        play_latency_from_start_ms=(onset - info["t_start"]) * 1000,
        portaudio_reported_latency_ms=info["latency"] * 1000,
        underflows=info["underflows"],
        spk_monitor_lag_max_ms=stats["lag_ms_max"],
        spk_monitor_lag_final_ms=stats["lag_ms_final"],
    )
    # A null sink has no device latency: the tone shows up as soon as PortAudio hands it over.
    # Cross-process times carry the monitor's render-block jitter (±10 ms), hence the slack.
    latency = onset - info["t_first_cb"]
    assert -0.02 <= latency < 0.3, f"tone appeared {latency * 1000:.1f} ms after the first callback"


RECORD_MIC = r"""
import json, sys, threading, time
import numpy as np
import sounddevice as sd

rate, block = 16000, 160
path = sys.argv[1]
chunks, arrivals = [], []
overflows = 0
ready = threading.Event()

def cb(indata, frames, t, status):
    global overflows
    if status.input_overflow:
        overflows += 1
    chunks.append(indata[:, 0].copy())
    arrivals.append((time.monotonic(), sum(len(c) for c in chunks)))
    ready.set()

dev = sd.query_devices(kind="input")
with sd.InputStream(samplerate=rate, channels=1, dtype="int16", blocksize=block, latency="low", callback=cb):
    ready.wait(5)
    print("READY", flush=True)
    sys.stdin.readline()  # parent says stop
data = np.concatenate(chunks) if chunks else np.zeros(0, np.int16)
data.tofile(path)
t0 = min(t - n / rate for t, n in arrivals)
lags = [(t - n / rate) - t0 for t, n in arrivals]
print(json.dumps({"device": dev["name"], "t0": t0, "frames": len(data), "overflows": overflows,
                  "lag_ms_max": max(lags) * 1000, "wall_s": arrivals[-1][0] - t0}))
"""


@pytest.mark.e2e
def test_speech_reaches_sounddevice_default_input(pulse_rig, child_env, tmp_path, record_property):
    path = tmp_path / "captured.raw"
    child = subprocess.Popen(
        [sys.executable, "-c", RECORD_MIC, str(path)],
        env=child_env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = child.stdout.readline()
        assert line.strip() == "READY", child.stderr.read() if child.poll() is not None else line
        time.sleep(0.1)
        pb = pulse_rig.start_speak("hello world")
        duration = pb.wait()
        time.sleep(0.2)
        out, err = child.communicate("stop\n", timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == 0, err
    info = json.loads(out.strip().splitlines()[-1])
    x = np.fromfile(path, dtype=np.int16)
    rate = 16000

    assert duration == pytest.approx(1.155, abs=0.3)
    segs = active_segments(x, rate, threshold_dbfs=-40, min_gap_ms=200)
    assert len(segs) == 1, f"expected one utterance, got {segs}"
    start, end = segs[0]
    speech = x[int(start * rate) : int(end * rate)]
    # What espeak produced, analysed the same way
    ref, ref_rate = speech_pcm("hello world")
    ((rs, re_),) = active_segments(ref, ref_rate, threshold_dbfs=-40, min_gap_ms=200)
    assert end - start == pytest.approx(re_ - rs, abs=0.03)
    level = rms_dbfs(speech)
    assert -30 < level < -10, f"speech level {level:.1f} dBFS"
    assert rms_dbfs(x[: int(max(0, start - 0.05) * rate)]) < -60  # silence before it is silence
    # gap-free capture: samples match wall-clock time
    assert info["lag_ms_max"] < 40, info
    assert info["overflows"] == 0

    onset = info["t0"] + start
    expected = pb.started_at + rs
    _report(
        record_property,
        device=info["device"],
        mic_latency_from_pacat_spawn_ms=(onset - expected) * 1000,
        speech_dbfs=level,
        capture_lag_max_ms=info["lag_ms_max"],
    )
    assert -0.02 <= onset - expected < 0.3


@pytest.mark.e2e
def test_monitors_deliver_gap_free_data(pulse_rig, record_property):
    spk = pulse_rig.record_speaker()
    mic = pulse_rig.record_mic()
    time.sleep(1.0)
    spk.stop()
    mic.stop()
    for name, rec in (("spk", spk), ("mic", mic)):
        s = rec.stats()
        assert s["startup_ms"] < 200, (name, s)
        assert s["lag_ms_max"] < 40, (name, s)
        assert s["duration_s"] == pytest.approx(s["wall_s"], abs=0.04), (name, s)
        assert rms_dbfs(rec.samples()) == float("-inf")  # keepalive is digital silence
        _report(
            record_property,
            **{
                f"{name}_startup_ms": s["startup_ms"],
                f"{name}_lag_max_ms": s["lag_ms_max"],
                f"{name}_max_interarrival_ms": s["max_interarrival_ms"],
            },
        )


@pytest.mark.e2e
def test_extra_sink_resampling_and_removal(pulse_rig):
    idx = pulse_rig.add_sink("odd44k", rate=44100, channels=1)
    try:
        assert "odd44k" in pulse_rig.sink_names()
        rec = pulse_rig.record("odd44k.monitor", rate=48000)
        pulse_rig.play("odd44k", make_tone(3000.0, 0.3, 24000), 24000)  # 24k -> 44.1k -> 48k
        time.sleep(0.05)
        x = rec.stop()
        ((start, end),) = tone_segments(x, 48000, 3000.0)
        assert end - start == pytest.approx(0.3, abs=0.01)
        # The middle of the tone (its fades off): a wrong rate anywhere on the way would move it by
        # 9% (2,756 or 3,265 Hz); an underrun on a busy machine biases the estimate by a few hertz.
        middle = x[int((start + 0.05) * 48000) : int((end - 0.05) * 48000)]
        assert dominant_frequency(middle, 48000) == pytest.approx(3000, abs=10)
    finally:
        pulse_rig.unload_module(idx)
    assert "odd44k" not in pulse_rig.sink_names()
    # removing a default device and resetting brings the layout back
    pulse_rig.remove_sink("mic")
    assert "mic" not in pulse_rig.sink_names()
    pulse_rig.reset()
    assert {"spk", "mic"} <= set(pulse_rig.sink_names())
    assert pulse_rig.defaults() == ("spk", "mic.monitor")
    with pulse_rig.record_mic() as rec:
        time.sleep(0.2)
    assert rec.stats()["lag_ms_max"] < 40


def test_rig_requirements_message_names_packages(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    missing = dict(missing_requirements(portaudio=False))
    assert missing["pulseaudio"] == "pulseaudio" and missing["pacat"] == "pulseaudio-utils"
    with pytest.raises(RigUnavailable, match="apt-get install -y espeak-ng pulseaudio pulseaudio-utils"):
        check_requirements(portaudio=False)


# ---------------------------------------------------------------------------------------------
# Analysis helpers on synthetic signals
# ---------------------------------------------------------------------------------------------

RATE = 48000


def _place(total_s, rate=RATE):
    return np.zeros(int(total_s * rate))


def _add(buf, sig, at_s, rate=RATE):
    i = int(round(at_s * rate))
    buf[i : i + len(sig)] += sig
    return buf


def test_rms_dbfs():
    full = np.sin(2 * np.pi * 997 * np.arange(RATE) / RATE)
    assert rms_dbfs(full) == pytest.approx(-3.01, abs=0.01)
    assert rms_dbfs((full * 32767).astype(np.int16)) == pytest.approx(-3.01, abs=0.01)
    assert rms_dbfs(0.1 * full) == pytest.approx(-23.01, abs=0.01)
    assert rms_dbfs(np.zeros(100)) == float("-inf")
    assert rms_dbfs(np.zeros(0)) == float("-inf")
    stereo = np.stack([full, full], axis=1)
    assert rms_dbfs(stereo) == pytest.approx(-3.01, abs=0.01)
    assert to_float(np.array([-32768, 16384], np.int16)).tolist() == [-1.0, 0.5]


def test_active_segments_finds_edges_within_a_few_ms():
    rng = np.random.default_rng(1)
    x = rng.normal(0, 10 ** (-65 / 20), int(1.4 * RATE))  # -65 dBFS noise floor
    _add(x, rng.normal(0, 0.1, int(0.3 * RATE)), 0.1003)  # noise burst 0.1003-0.4003
    _add(x, make_tone(440, 0.17, RATE, amplitude_dbfs=-20, dtype=float), 0.4303)  # 30 ms later
    _add(x, make_tone(1500, 0.2, RATE, amplitude_dbfs=-20, dtype=float), 0.8117)
    expected = [(0.1003, 0.6003), (0.8117, 1.0117)]
    segs = active_segments(x, RATE, threshold_dbfs=-40, min_gap_ms=50)
    assert len(segs) == 2, segs
    for (s, e), (es, ee) in zip(segs, expected):
        assert s == pytest.approx(es, abs=0.002) and e == pytest.approx(ee, abs=0.002), segs
    # a smaller merge gap keeps the 30 ms pause
    assert len(active_segments(x, RATE, threshold_dbfs=-40, min_gap_ms=20)) == 3
    # int16 input and a short-segment filter
    xi = (np.clip(x, -1, 1) * 32767).astype(np.int16)
    assert len(active_segments(xi, RATE, -40, 50, min_len_ms=300)) == 1
    assert active_segments(np.zeros(RATE), RATE) == []


def test_tone_segments_with_speech_mixed_in():
    ref, rate = speech_pcm("the quick brown fox jumps over the lazy dog", amplitude=200)  # loud
    speech = to_float(ref)
    n = len(speech) + int(0.6 * rate)
    x = np.zeros(n)
    _add(x, speech, 0.3, rate)
    t_on, t_off = 0.2501, 1.4377
    _add(x, make_tone(4000, t_off - t_on, rate, amplitude_dbfs=-12, dtype=float), t_on, rate)
    segs = tone_segments(x, rate, 4000)
    assert len(segs) == 1, segs
    ((s, e),) = segs
    assert s == pytest.approx(t_on, abs=0.002) and e == pytest.approx(t_off, abs=0.002), segs
    # speech alone is not a tone
    assert tone_segments(_add(np.zeros(n), speech, 0.3, rate), rate, 4000) == []

    # a 1 kHz tone (inside the speech band) at -6 dBFS, threshold 8 dB below it, at 48 kHz int16
    up = np.interp(np.arange(int(len(speech) * RATE / rate)) / RATE, np.arange(len(speech)) / rate, speech)
    y = np.zeros(len(up) + RATE)
    _add(y, 0.5 * up, 0.5)
    _add(y, make_tone(1000, 1.0, RATE, amplitude_dbfs=-6, dtype=float), 0.7)
    _add(y, make_tone(1000, 0.5, RATE, amplitude_dbfs=-6, dtype=float), 1.8)  # 100 ms gap
    yi = (np.clip(y, -1, 1) * 32767).astype(np.int16)
    segs = tone_segments(yi, RATE, 1000, threshold_dbfs=-14)
    assert len(segs) == 2, segs
    for (s, e), (es, ee) in zip(segs, [(0.7, 1.7), (1.8, 2.3)]):
        assert s == pytest.approx(es, abs=0.005) and e == pytest.approx(ee, abs=0.005), segs
    # the envelope reads the tone's amplitude
    env = tone_envelope(yi, RATE, 1000)
    assert 20 * np.log10(np.median(env[int(1.9 * RATE) : int(2.2 * RATE)])) == pytest.approx(-6, abs=0.5)


def test_dominant_frequency_and_make_tone():
    t = make_tone(1234.5, 0.5, RATE, amplitude_dbfs=-6)
    assert t.dtype == np.int16
    assert dominant_frequency(t, RATE) == pytest.approx(1234.5, abs=0.5)
    assert 20 * np.log10(np.abs(to_float(t)).max()) == pytest.approx(-6, abs=0.05)
    faded = make_tone(1000, 0.1, RATE, fade_ms=5, dtype=float)
    assert abs(faded[0]) < 1e-9 and abs(faded[-1]) < 1e-3


def test_rig_start_is_isolated_and_stop_cleans_up():
    """A second, independent rig: its own socket, nothing shared, gone after stop()."""
    try:
        check_requirements(portaudio=False)
    except RigUnavailable as e:
        pytest.fail(str(e), pytrace=False)
    rig = PulseRig().start()
    try:
        env = rig.env()
        assert env["PULSE_SERVER"].startswith("unix:") and env["PULSE_SERVER"].endswith("/native")
        assert rig.defaults() == ("spk", "mic.monitor")
        pid = rig.daemon_pid()
        d = rig.dir
    finally:
        rig.stop()
    assert not d.exists()
    with pytest.raises(ProcessLookupError):
        for _ in range(100):
            os.kill(pid, 0)
            time.sleep(0.02)
