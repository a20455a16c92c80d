"""Echo cancellation measured on two echo paths: a simple one through real PortAudio devices,
and a realistic room whose path moves, through real devices and file-backed.

* simple: a private PulseAudio server with null sinks `spk` (what livecli plays) and `mic` (what
  it records, through `mic.monitor`), plus `module-loopback source=spk.monitor sink=mic
  latency_msec=60` at a linear gain of 0.3 (Pulse volume 67%: its percentages are cubic).
* room: a laptop in a room (tests/support/echo_signals.py: a simulated impulse response, RT60
  0.37 s, 30 cm between speaker and microphone; a speaker distorting 3% at loud passages; noise
  at -60 dBFS; the echo 2 dB louder than the user), its path moving by 10 ms every 8 s, later
  then sooner again. Through the rig (`room`), the echo is rendered from what the speaker will
  play and played into `mic` as the speaker starts: the path's delay is then unknown and its
  moves are unseen by livecli, as when a sound server corrects drift. File-backed (`file`), the
  same room through `synthetic_recording`, steady, moved by livecli's own xruns (flagged,
  timestamps step) and moved unseen, and once with no echo path (headphones).

A subprocess (`python -m tests.support.echo_recorder`) plays the model's voice (espeak-ng at
24 kHz) through the speaker while recording the microphone, both through PortAudio with their
callback timestamps, exactly as `talk` opens them. Two scenes per path: the model talking
alone, and double talk (a user, another espeak-ng voice, speaking into `mic` three times).
Each recording is replayed, in callback order, through every echo control. Reported (the
service's speech threshold is the fake server's VAD: 10 ms frames over RMS 500), while only
the model speaks: self-interruptions per minute (speech onsets its VAD would hear), residual
echo (frames over the threshold, max and p99 frame RMS), ERLE, the worst 100 ms ERLE in the
second after a move and the time until ERLE holds 20 dB again; over the user's voice: when it
is heard (from the voice alone's first frame over the threshold), and its level sent against
the voice alone; and the control's CPU per second of audio (share of one core).

    .venv/bin/python benchmarks/echo_rig.py [--paths simple,room,file] [--seconds 60] [--room-seconds 180]
        [--keep FOLDER [--reuse]]
"""

from __future__ import annotations

import argparse
import dataclasses
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
from livecli.audio.echo import AutoEcho, HalfDuplexGate, NoEcho, make_echo  # noqa: E402
from livecli.audio.echo_canceller import EchoCanceller  # noqa: E402
from livecli.audio.echo_figures import active_rms, convergence_s, lag_s, model_alone, voice_over  # noqa: E402
from livecli.audio.echo_probe import analyse, speech_like  # noqa: E402
from livecli.audio.echo_recording import Recording, Replayed, replay  # noqa: E402
from livecli.audio.pcm import amplitude, clip_int16  # noqa: E402
from livecli.audio.resample import StreamResampler  # noqa: E402
from livecli.formats import INPUT_RATE, OUTPUT_RATE  # noqa: E402
from tests.support import echo_recorder  # noqa: E402
from tests.support.echo_signals import USER_DBFS, move_times, noise, path_moves, room_echo, room_scene  # noqa: E402
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
DOUBLE_TALK_S = 16.0
USER_AT_S = (3.0, 7.5, 11.5)  # after the model starts talking
VOICE_HANGOVER_S = 0.5  # after a user's utterance the service's VAD still hears speech this long
ROOM_DELAY_S = 0.03  # the room's echo is played into `mic` this long after the speaker's first sample


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


@dataclasses.dataclass
class Voice:
    at_s: float  # after the model's first sample
    pcm: np.ndarray  # int16 at `rate`, as played into the microphone
    rate: int
    offset_s: float  # of its first voiced sample

    def at16k(self) -> np.ndarray:
        return np.frombuffer(
            StreamResampler(self.rate, INPUT_RATE).process(self.pcm.tobytes(), last=True), dtype=np.int16
        )


def user_voice(text: str, at_s: float = 0.0, *, level_dbfs: float | None = None) -> Voice:
    """The user saying `text` (espeak-ng), at its own level or scaled to `level_dbfs` (active)."""
    pcm, rate = speech_pcm(text, voice=USER_VOICE, wpm=170)
    if level_dbfs is not None:
        pcm = clip_int16(pcm.astype(np.float64) * amplitude(level_dbfs) / active_rms(pcm, rate))
    segments = active_segments(pcm, rate, threshold_dbfs=-40.0)
    return Voice(at_s, pcm, rate, segments[0][0] if segments else 0.0)


def user_voices(level_dbfs: float | None = None) -> list[Voice]:
    return [user_voice(text, at, level_dbfs=level_dbfs) for at, text in zip(USER_AT_S, USER_TEXT)]


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


def room_echo_pcm(play: np.ndarray, *, moving: bool = True) -> np.ndarray:
    """The room's echo of `play` (24 kHz int16) as the microphone hears it, with noise: what is
    played into `mic` while the speaker plays `play`."""
    echo = room_echo(play, OUTPUT_RATE)
    if moving:
        echo = path_moves(echo, move_times(len(play) / OUTPUT_RATE), OUTPUT_RATE)
    return clip_int16(echo + noise(len(echo)))


@dataclasses.dataclass
class Take:
    """A recording through the rig, and where what was played into the microphone landed."""

    recording: Recording
    playing_at: float  # monotonic time of the model's first sample at the speaker
    voice_onsets: list[float]  # monotonic time of each voice's first voiced sample


def record(
    rig: PulseRig,
    play: np.ndarray,
    out: Path,
    *,
    voices: list[Voice] = (),
    echo: np.ndarray | None = None,
    reuse: bool = False,
) -> Take:
    """Run the recording subprocess; `voices` are spoken into the mic sink at their `at_s` after
    the model's first sample, `echo` (24 kHz int16) is played into it from that sample on. With
    `reuse`, a take kept in `out` before is loaded instead (two versions compared on the same take)."""
    kept = out.with_suffix(".json")
    if reuse and out.exists() and kept.exists():
        return Take(echo_recorder.load(out), **json.loads(kept.read_text()))
    raw = out.with_suffix(".raw")
    play.astype("<i2").tofile(raw)
    env = rig.subprocess_env(dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO / "src"), str(REPO)])))
    command = [
        sys.executable,
        "-m",
        "tests.support.echo_recorder",
        str(out),
        "--play",
        str(raw),
        "--play-rate",
        str(OUTPUT_RATE),
    ]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    onsets = []
    try:
        line = process.stdout.readline()
        if not line.startswith("PLAYING"):
            raise RuntimeError(f"recorder failed: {line}{process.stderr.read()}")
        playing_at = float(line.split()[1])
        if echo is not None:
            time.sleep(max(0.0, playing_at + ROOM_DELAY_S - time.monotonic()))
            rig.start_play("mic", echo, OUTPUT_RATE)
        for voice in voices:
            time.sleep(max(0.0, playing_at + voice.at_s - time.monotonic()))
            started = time.monotonic()
            rig.start_play("mic", voice.pcm, voice.rate)
            onsets.append(started + voice.offset_s)
        _, err = process.communicate(timeout=len(play) / OUTPUT_RATE + 30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"recorder failed ({process.returncode}): {err}")
    kept.write_text(json.dumps({"playing_at": playing_at, "voice_onsets": onsets}))
    return Take(echo_recorder.load(out), playing_at, onsets)


def controls(which=None):
    """(name, factory) for every echo control to compare (or those named in `which`)."""
    found = [("off", NoEcho), ("half-duplex", HalfDuplexGate)]
    for backend in aec_backends.BACKENDS:
        try:
            aec_backends.load_backend(backend)
        except aec_backends.EchoUnavailable:
            continue
        found.append(
            (f"aec {backend}" if backend != "pywebrtc-audio" else "aec", lambda b=backend: EchoCanceller(backend=b))
        )
    if len(found) > 2:
        found.append(("auto", lambda: make_echo("auto").control))
    return [(name, make) for name, make in found if which is None or name in which]


# -- figures --------------------------------------------------------------------------------------


def alone_after(start_s: float, frames: int, voices: list[tuple[int, np.ndarray]] = ()) -> np.ndarray:
    """Per 10 ms frame: the model has begun and no user speaks (nor the VAD's hangover after)."""
    alone = np.zeros(frames, dtype=bool)
    alone[int(start_s * 100) :] = True
    for start, voice in voices:
        alone[start // 160 : (start + len(voice)) // 160 + int(VOICE_HANGOVER_S * 100)] = False
    return alone


def echo_figures(recording: Recording, make, *, alone: np.ndarray | None = None, moves_s=()) -> dict:
    """What `make()` sends while only the model speaks (from its first sample, unless `alone`)."""
    control = make()
    replayed = replay(recording, control)
    raw, sent = replayed.raw, replayed.sent
    if alone is None:
        alone = alone_after(_model_start_s(recording, replayed), len(raw) // 160)
    figures = dataclasses.asdict(model_alone(raw, sent, alone, moves_s=tuple(moves_s)))
    figures["cpu_percent_of_core"] = round(replayed.cpu_s / (len(raw) / INPUT_RATE) * 100, 2)
    if isinstance(control, AutoEcho):
        figures["mode"], figures["reason"] = control.mode, control.reason
        control = control.canceller
    if isinstance(control, EchoCanceller):
        start = int(np.argmax(alone)) * 160
        figures["converged_s"] = convergence_s(raw[start:], sent[start:])
        figures["stats"] = vars(control.stats)
    return figures


def double_talk_figures(recording: Recording, voices: list[tuple[int, np.ndarray]], make, *, alone=None) -> dict:
    """How each user utterance (first sample on the microphone's timeline, the voice alone)
    comes through `make()`, and the residual while only the model speaks."""
    control = make()
    replayed = replay(recording, control)
    if alone is None:
        alone = alone_after(_model_start_s(recording, replayed), len(replayed.raw) // 160, voices)
    utterances = [dataclasses.asdict(voice_over(replayed.sent, voice, start)) for start, voice in voices]
    between = model_alone(replayed.raw, replayed.sent, alone)
    found = {
        "utterances": utterances,
        "self_interruptions": between.self_interruptions,
        "residual_max": between.residual_max,
    }
    if isinstance(control, AutoEcho):
        found["mode"] = control.mode
    return found


def voices_in_take(take: Take, voices: list[Voice]) -> list[tuple[int, np.ndarray]]:
    """Where each voice really starts in the microphone (cross-correlated with what was
    spoken), and the voice alone, at 16 kHz."""
    raw = replay(take.recording, NoEcho())
    t0 = raw.chunk_times[0]
    found = []
    for onset, voice in zip(take.voice_onsets, voices):
        voice16 = voice.at16k()
        guess = int((onset - voice.offset_s - t0) * INPUT_RATE)
        lo = max(0, guess - int(0.3 * INPUT_RATE))
        lag, _ = lag_s(voice16, raw.raw[lo : lo + len(voice16) + int(0.6 * INPUT_RATE)], max_lag_s=0.6)
        found.append((lo + int(round(lag * INPUT_RATE)), voice16))
    return found


def _model_start_s(recording: Recording, replayed: Replayed) -> float:
    """When the model's voice starts, on the microphone's timeline (s)."""
    for pcm, at in zip(recording.far.pcm, recording.far.at):
        if np.abs(np.frombuffer(pcm, dtype=np.int16)).max(initial=0) > 100:
            return max(0.0, at - replayed.chunk_times[0])
    return 0.0


def path_figures(recording: Recording) -> dict:
    report = analyse(recording)
    return {"echo_delay_ms": report.delay_ms, "echo_level_db": report.echo_level_db}


# -- the paths ------------------------------------------------------------------------------------


def run_simple(rig: PulseRig, seconds: float, folder: Path, which, reuse: bool = False) -> dict:
    module = add_echo_path(rig)
    try:
        voices = user_voices()
        echo = record(rig, model_voice(seconds), folder / "simple_echo.npz", reuse=reuse)
        talk = record(rig, model_voice(DOUBLE_TALK_S), folder / "simple_talk.npz", voices=voices, reuse=reuse)
    finally:
        rig.unload_module(module)
    placed = voices_in_take(talk, voices)
    found = {"path": {"loopback_latency_ms": LOOPBACK_LATENCY_MS, "loopback_gain": 0.3, **path_figures(echo.recording)}}
    for name, make in controls(which):
        found[name] = {
            "echo": echo_figures(echo.recording, make),
            "double_talk": double_talk_figures(talk.recording, placed, make),
        }
    return found


def run_room(rig: PulseRig, seconds: float, folder: Path, which, reuse: bool = False) -> dict:
    """The room through the rig: its echo played into `mic`, moving unseen."""
    voices = user_voices(USER_DBFS)
    play = model_voice(seconds)
    echo = record(rig, play, folder / "room_echo.npz", echo=room_echo_pcm(play), reuse=reuse)
    play_talk = model_voice(DOUBLE_TALK_S)
    talk = record(
        rig,
        play_talk,
        folder / "room_talk.npz",
        voices=voices,
        echo=room_echo_pcm(play_talk, moving=False),
        reuse=reuse,
    )
    placed = voices_in_take(talk, voices)
    t0 = replay(echo.recording, NoEcho()).chunk_times[0]
    moves = tuple(echo.playing_at + ROOM_DELAY_S - t0 + t for t in move_times(seconds))
    found = {"path": path_figures(echo.recording) | {"moves": len(moves)}}
    for name, make in controls(which):
        found[name] = {
            "echo": echo_figures(echo.recording, make, moves_s=moves),
            "double_talk": double_talk_figures(talk.recording, placed, make),
        }
    return found


def run_file(seconds: float, which) -> dict:
    """The room file-backed: steady, moved by xruns, moved unseen; double talk with and without
    an echo path."""
    far = speech_like(seconds, seed=11)
    voices = tuple((at, speech_like(2.5, seed=5 + i, level_dbfs=USER_DBFS)) for i, at in enumerate(USER_AT_S))
    talk_far = speech_like(DOUBLE_TALK_S, seed=12)
    found = {}
    for name, make in controls(which):
        found[name] = {}
        for moves in (None, "xrun", "path"):
            scene = room_scene(far, moves=moves)
            found[name][f"echo {moves or 'steady'}"] = echo_figures(
                scene.recording, make, alone=scene.alone, moves_s=scene.moves_s
            )
        for label, echo_path in (("double_talk", True), ("double_talk no echo path", False)):
            scene = room_scene(talk_far, voices=voices, moves="path" if echo_path else None, echo_path=echo_path)
            found[name][label] = double_talk_figures(scene.recording, scene.voices, make, alone=scene.alone)
    return found


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--paths", default="simple,room,file", help="which: simple, room (through the rig), file")
    parser.add_argument("--seconds", type=float, default=60.0, help="the simple path's echo scene")
    parser.add_argument("--room-seconds", type=float, default=180.0, help="the room's echo scene (rig and file)")
    parser.add_argument("--controls", help="comma-separated control names (default: all)")
    parser.add_argument("--keep", help="keep the recordings in this folder")
    parser.add_argument("--reuse", action="store_true", help="replay the takes kept in --keep's folder, if there")
    parser.add_argument("--json-only", action="store_true")
    args = parser.parse_args(argv)
    folder = Path(args.keep or tempfile.mkdtemp(prefix="echo-rig-"))
    folder.mkdir(parents=True, exist_ok=True)
    paths = args.paths.split(",")
    which = args.controls.split(",") if args.controls else None
    results = {}
    if "simple" in paths or "room" in paths:
        with PulseRig() as rig:
            if "simple" in paths:
                results["simple"] = run_simple(rig, args.seconds, folder, which, args.reuse)
            if "room" in paths:
                results["room"] = run_room(rig, args.room_seconds, folder, which, args.reuse)
    if "file" in paths:
        results["file"] = run_file(args.room_seconds, which)
    if not args.json_only:
        print_table(results)
    print("ECHO_RIG " + json.dumps(results))
    return 0


def print_table(results: dict) -> None:
    head = (
        f"{'path / scene / control':42s} {'self-int/min':>12s} {'over':>5s} {'max rms':>8s} {'p99':>6s} {'ERLE':>5s} "
        f"{'worst':>6s} {'recovery s':>11s} {'CPU %':>6s}"
    )
    for path, found in results.items():
        if "path" in found:
            print(f"{path}: {json.dumps(found['path'])}")
        print(head)
        print("-" * len(head))
        rows = []
        for control, scenes in found.items():
            if control == "path":
                continue
            for scene, figures in scenes.items():
                rows.append((f"{path} {scene} {control}", figures))
        for label, f in sorted(rows):
            if "utterances" in f:
                said = ", ".join(
                    f"{u['heard_after_ms']:+.0f} ms/{u['kept_db']:+.1f} dB" if u["heard"] else "MISSED"
                    for u in f["utterances"]
                )
                print(
                    f"{label:42s} between: {f['self_interruptions']} self-int, max {f['residual_max']:.0f}; voices: {said}"
                )
                continue
            recovery = [r for r in f["recovery_s"]]
            shown = (
                f"{max((r for r in recovery if r is not None), default=0):.1f}"
                + (" (never)" if None in recovery else "")
                if recovery
                else "-"
            )
            worst = f"{f['worst_erle_after_move_db']:.0f}" if f["worst_erle_after_move_db"] is not None else "-"
            print(
                f"{label:42s} {f['per_minute']:12.1f} {f['frames_over']:5d} {f['residual_max']:8.0f} {f['residual_p99']:6.0f} "
                f"{f['erle_db']:5.1f} {worst:>6s} {shown:>11s} {f['cpu_percent_of_core']:6.2f}"
            )
        print()


if __name__ == "__main__":
    sys.exit(main())
