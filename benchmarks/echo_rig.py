"""Echo cancellation measured through real PortAudio devices on a PulseAudio echo path.

The rig: a private PulseAudio server with null sinks `spk` (what livecli plays) and `mic`
(what it records, through `mic.monitor`), plus the echo path
`module-loopback source=spk.monitor sink=mic latency_msec=60` at a linear gain of 0.3
(Pulse volume 67%: its percentages are cubic).

A subprocess (`python -m tests.support.echo_recorder`) plays the model's voice (espeak-ng
speech at 24 kHz) through the speaker while recording the microphone, both through PortAudio
with their callback timestamps, exactly as `talk` opens them. Two scenes:

* echo: `--seconds` (default 60) of the model talking, nobody speaking;
* double talk: 14 s of the model talking while a user (another espeak-ng voice) speaks into
  the `mic` sink three times.

Each recording is then replayed, in callback order, through: nothing (`off`), the half-duplex
gate, and the echo canceller (each backend installed, with and without noise suppression).
Reported: ERLE after 2 s, convergence (first time ERLE held 25 dB for 2 s), the loudest 10 ms
frame sent after 2 s against the fake server's VAD threshold (RMS 500), self-interruptions
per minute (speech onsets that VAD would see during the echo scene), whether each user
utterance still crosses the threshold and how long after its onset, how much of the user's
voice level survives, and the canceller's CPU per second of audio (share of one core).

    .venv/bin/python benchmarks/echo_rig.py [--seconds 60] [--keep DIR] [--json-only]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "src"))

from livecli.audio import aec_backends  # noqa: E402
from livecli.audio.echo import HalfDuplexGate, NoEcho  # noqa: E402
from livecli.audio.echo_canceller import EchoCanceller  # noqa: E402
from livecli.audio.echo_figures import VAD_THRESHOLD, convergence_s, erle_db, erle_windows, frame_rms, lag_s, vad_onsets  # noqa: E402
from livecli.audio.echo_probe import CONVERGED_AFTER_S, analyse  # noqa: E402
from livecli.audio.echo_recording import Recording, Replayed, replay  # noqa: E402
from livecli.audio.resample import StreamResampler  # noqa: E402
from livecli.formats import INPUT_RATE, OUTPUT_RATE  # noqa: E402
from tests.support import echo_recorder  # noqa: E402
from tests.support.pulse_rig import PulseRig, active_segments, speech_pcm  # noqa: E402

LOOPBACK_LATENCY_MS = 60
LOOPBACK_VOLUME = "67%"  # cubic: 0.67 ** 3 = 0.30 linear
MODEL_VOICE = "en-us"
USER_VOICE = "en+m3"
MODEL_TEXT = [
    "The weather today is sunny and warm, with a light breeze from the west and a few clouds in the afternoon.",
    "If you are planning a walk, the best time is early in the morning, before the temperature rises.",
    "Tomorrow looks similar, although there is a small chance of rain in the evening near the coast.",
    "Here is a recipe for a quick dinner: fry an onion, add tomatoes, garlic and a little chilli, then simmer.",
    "Meanwhile, cook the pasta in plenty of salted water and keep a cup of the water for the sauce.",
    "The history of the bicycle begins in the early nineteenth century with a wooden running machine.",
    "Pedals came later, and the chain drive with two wheels of equal size made cycling safe and popular.",
    "Numbers such as three hundred and forty two, or nineteen eighty four, are read out one by one.",
]
USER_TEXT = ["Stop, please.", "Wait, I have a question.", "Hold on a second."]
DOUBLE_TALK_S = 14.0
USER_AT_S = (3.0, 7.5, 11.5)  # after the model starts talking


def model_voice(seconds: float) -> np.ndarray:
    """espeak-ng speech at 24 kHz (the Live API's output rate), `seconds` long."""
    parts, total = [], 0
    i = 0
    while total < seconds * OUTPUT_RATE:
        pcm, rate = speech_pcm(MODEL_TEXT[i % len(MODEL_TEXT)], voice=MODEL_VOICE, wpm=170)
        pcm24 = np.frombuffer(StreamResampler(rate, OUTPUT_RATE).process(pcm.tobytes(), last=True), dtype=np.int16)
        parts.append(pcm24)
        total += len(pcm24)
        i += 1
    return np.concatenate(parts)[: int(seconds * OUTPUT_RATE)]


def user_voice(text: str) -> tuple[np.ndarray, int, float]:
    """(int16, rate, offset of its first voiced sample in s)."""
    pcm, rate = speech_pcm(text, voice=USER_VOICE, wpm=170)
    segments = active_segments(pcm, rate, threshold_dbfs=-40.0)
    return pcm, rate, segments[0][0] if segments else 0.0


def add_echo_path(rig: PulseRig, *, latency_ms: int = LOOPBACK_LATENCY_MS, volume: str = LOOPBACK_VOLUME) -> int:
    """Loop the speaker back into the microphone; returns the module index."""
    module = int(
        rig.pactl(
            "load-module",
            "module-loopback",
            "source=spk.monitor",
            "sink=mic",
            f"latency_msec={latency_ms}",
            "adjust_time=0",  # a fixed path: its own latency re-adjustments jump the echo by ~10 ms
            "source_dont_move=true",
            "sink_dont_move=true",
            "sink_input_properties=media.name=echo-path",
        ).strip()
    )
    current, owner = None, None
    for line in rig.pactl("list", "sink-inputs").splitlines():
        line = line.strip()
        if line.startswith("Sink Input #"):
            current = int(line.split("#")[1])
        elif line.startswith("Owner Module:") and line.split(":")[1].strip() == str(module):
            owner = current
    if owner is None:
        raise RuntimeError("the loopback's sink input was not found")
    rig.pactl("set-sink-input-volume", str(owner), volume)
    time.sleep(0.3)  # the loopback settles its latency
    return module


def record(rig: PulseRig, play: np.ndarray, out: Path, *, voices=()) -> tuple[Recording, list[float]]:
    """Run the recording subprocess; `voices` = [(at_s, pcm, rate, voiced_offset_s)] spoken into
    the mic sink at `at_s` after the model's first sample; returns the recording and each voice's
    expected onset (monotonic)."""
    raw = out.with_suffix(".raw")
    play.astype("<i2").tofile(raw)
    env = rig.subprocess_env(dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO / "src"), str(REPO)])))
    command = [sys.executable, "-m", "tests.support.echo_recorder", str(out), "--play", str(raw), "--play-rate", str(OUTPUT_RATE)]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    onsets = []
    try:
        line = process.stdout.readline()
        if not line.startswith("PLAYING"):
            raise RuntimeError(f"recorder failed: {line}{process.stderr.read()}")
        playing_at = float(line.split()[1])
        for at_s, pcm, rate, offset in voices:
            delay = playing_at + at_s - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            started = time.monotonic()
            rig.start_play("mic", pcm, rate)
            onsets.append(started + offset)
        out_text, err = process.communicate(timeout=len(play) / OUTPUT_RATE + 30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"recorder failed ({process.returncode}): {err}")
    return echo_recorder.load(out), onsets


def controls():
    """(name, factory) for every echo control to compare."""
    yield "off", NoEcho
    yield "half-duplex", HalfDuplexGate
    for backend in aec_backends.BACKENDS:
        try:
            aec_backends.load_backend(backend)
        except aec_backends.EchoUnavailable:
            continue
        for ns in (True, False):
            yield (
                f"aec {backend}{'' if ns else ' no-NS'}",
                lambda b=backend, n=ns: EchoCanceller(backend=aec_backends.load_backend(b, noise_suppression=n)),
            )


def echo_figures(recording: Recording, make) -> dict:
    control = make()
    replayed = replay(recording, control)
    raw, sent = replayed.raw, replayed.sent
    seconds = len(raw) / INPUT_RATE
    model_starts = _model_start_s(recording, replayed)
    speaking = sent[int((model_starts) * INPUT_RATE) :]
    rms = frame_rms(sent)
    after = int((model_starts + CONVERGED_AFTER_S) * 100)
    onsets = vad_onsets(speaking)
    figures = {
        "seconds": round(seconds, 1),
        "self_interruptions_per_min": round(len(onsets) / (len(speaking) / INPUT_RATE) * 60, 1),
        "frames_over_vad_after_2s": int((rms[after:] > VAD_THRESHOLD).sum()),
        "max_frame_rms_after_2s": round(float(rms[after:].max(initial=0)), 1),
        "raw_max_frame_rms": round(float(frame_rms(raw).max(initial=0)), 1),
        "cpu_percent_of_core": round(replayed.cpu_s / seconds * 100, 2),
    }
    if isinstance(control, EchoCanceller):
        start = model_starts
        figures["erle_db_after_2s"] = round(erle_db(raw, sent, start_s=start + CONVERGED_AFTER_S), 1)
        converged = convergence_s(raw[int(start * INPUT_RATE) :], sent[int(start * INPUT_RATE) :])
        figures["converged_s"] = converged
        windows = erle_windows(raw[int((start + 2) * INPUT_RATE) :], sent[int((start + 2) * INPUT_RATE) :], window_s=1.0)
        figures["erle_db_worst_1s_after_2s"] = round(float(np.nanmin(windows)), 1) if np.isfinite(windows).any() else None
        figures["stats"] = vars(control.stats)
    return figures


def double_talk_figures(recording: Recording, onsets: list[float], voices, make) -> dict:
    control = make()
    replayed = replay(recording, control)
    raw, sent = replayed.raw, replayed.sent
    t0 = replayed.chunk_times[0]
    rms_sent, rms_raw = frame_rms(sent), frame_rms(raw)
    results = []
    for onset, (_, pcm, rate, offset) in zip(onsets, voices):
        # where the voice really starts in the microphone: cross-correlate with what was spoken
        voice16 = np.frombuffer(StreamResampler(rate, INPUT_RATE).process(pcm.tobytes(), last=True), dtype=np.int16)
        guess = int((onset - offset - t0) * INPUT_RATE)
        lo = max(0, guess - int(0.3 * INPUT_RATE))
        segment = raw[lo : lo + len(voice16) + int(0.6 * INPUT_RATE)]
        lag, _ = lag_s(voice16, segment, max_lag_s=0.6)
        start_s = (lo / INPUT_RATE) + lag + offset
        voiced = active_segments(voice16, INPUT_RATE, threshold_dbfs=-40.0)
        length_s = (voiced[-1][1] - voiced[0][0]) if voiced else 0.5
        a, b = int(start_s * 100), int((start_s + length_s) * 100)
        over = np.flatnonzero(rms_sent[a:b] > VAD_THRESHOLD)
        voice_only = np.flatnonzero(frame_rms(voice16)[int(offset * 100) :] > VAD_THRESHOLD)
        results.append(
            {
                "detected": bool(over.size),
                "detect_after_onset_ms": int(over[0] * 10) if over.size else None,
                "voice_alone_crosses_after_ms": int(voice_only[0] * 10) if voice_only.size else None,
                "frames_over_vad": int(over.size),
                "level_kept_db": _ratio_db(np.sum(rms_sent[a:b] ** 2), np.sum(rms_raw[a:b] ** 2)),
            }
        )
    return {"utterances": results}


def _ratio_db(a: float, b: float) -> float | None:
    return round(10 * np.log10(a / b), 1) if a > 0 and b > 0 else None


def _model_start_s(recording: Recording, replayed: Replayed) -> float:
    """When the model's voice starts, on the microphone's timeline (s)."""
    far = recording.far
    for pcm, at in zip(far.pcm, far.at):
        if np.abs(np.frombuffer(pcm, dtype=np.int16)).max(initial=0) > 100:
            return max(0.0, at - replayed.chunk_times[0])
    return 0.0


def path_figures(recording: Recording) -> dict:
    report = analyse(recording)
    return {"echo_delay_ms": report.delay_ms, "echo_level_db": report.echo_level_db}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="echo scene length")
    parser.add_argument("--keep", help="keep the recordings in this folder")
    parser.add_argument("--json-only", action="store_true")
    args = parser.parse_args(argv)
    folder = Path(args.keep or tempfile.mkdtemp(prefix="echo-rig-"))
    folder.mkdir(parents=True, exist_ok=True)
    results = run(args.seconds, folder)
    if not args.json_only:
        print_table(results)
    print("ECHO_RIG " + json.dumps(results))
    return 0


def run(seconds: float, folder: Path, *, which=None) -> dict:
    """Record both scenes on a fresh rig and analyse them with every control (or `which`)."""
    voices = [(at, *user_voice(text)) for at, text in zip(USER_AT_S, USER_TEXT)]
    with PulseRig() as rig:
        add_echo_path(rig)
        echo_rec, _ = record(rig, model_voice(seconds), folder / "echo.npz")
        talk_rec, onsets = record(rig, model_voice(DOUBLE_TALK_S), folder / "double_talk.npz", voices=voices)
    results = {"rig": {"loopback_latency_ms": LOOPBACK_LATENCY_MS, "loopback_gain": 0.3, **path_figures(echo_rec)}, "controls": {}}
    for name, make in controls():
        if which is not None and name not in which:
            continue
        results["controls"][name] = {
            "echo": echo_figures(echo_rec, make),
            "double_talk": double_talk_figures(talk_rec, onsets, voices, make),
        }
    return results


def print_table(results: dict) -> None:
    rig = results["rig"]
    print(f"echo path: loopback {rig['loopback_latency_ms']} ms, gain {rig['loopback_gain']}; measured delay "
          f"{rig['echo_delay_ms']} ms after the DAC timestamp, echo level {rig['echo_level_db']} dB")
    head = f"{'control':26s} {'self-int/min':>12s} {'ERLE dB':>8s} {'worst 1s':>8s} {'conv s':>6s} {'max rms':>8s} {'CPU %':>6s}  barge-in voices detected (ms after onset), level kept"
    print(head)
    print("-" * len(head))
    for name, figures in results["controls"].items():
        e = figures["echo"]
        voices = figures["double_talk"]["utterances"]
        said = ", ".join(
            f"{v['detect_after_onset_ms']} ms/{v['level_kept_db']:+.1f} dB" if v["detected"] else "MISSED" for v in voices
        )
        print(
            f"{name:26s} {e['self_interruptions_per_min']:12.1f} {e.get('erle_db_after_2s', float('nan')):8.1f} "
            f"{(e.get('erle_db_worst_1s_after_2s') or float('nan')):8.1f} {str(e.get('converged_s', '-')):>6s} "
            f"{e['max_frame_rms_after_2s']:8.0f} {e['cpu_percent_of_core']:6.2f}  {said}"
        )


if __name__ == "__main__":
    sys.exit(main())
