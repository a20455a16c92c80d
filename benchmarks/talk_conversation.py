"""A timed conversation with `livecli talk`, measured from the outside.

Runs `livecli talk` in a pseudo-terminal (so the Rich layout renders at ~10 fps)
against the fake Live server, with real PortAudio devices on a private
PulseAudio server: espeak-ng speaks a question every few seconds, the fake model
answers with a few seconds of audio, and one answer is interrupted by speech.

Every third answer is talked over (a barge-in). Prints a table and a JSON line
with: CPU share of one core (whole run and connected-but-silent), peak RSS,
microphone chunk pacing and jitter, the time from the server's `interrupted`
to a silent speaker (measured on the recorded speaker sink: each barge-in,
p50/p99), and what talk measured about itself (LIVECLI_METRICS): capture to
send (from the chunk's first sample leaving the ADC), delivered to send (from
PortAudio handing over the chunk's last block: livecli's own share), receive
to device, voice to voice, underruns and overflows. Idle CPU is also given per
thread. With `--seconds 600` it is the 10-minute soak.

    .venv/bin/python benchmarks/talk_conversation.py [--seconds 60] [--plain] [--echo off|aec|half-duplex]
"""

from __future__ import annotations

import argparse
import json
import os
import pty
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from common import QUESTIONS, busiest_threads_pct, cpu_seconds, peak_rss_mb, thread_cpu_seconds  # noqa: E402

from tests.support.fake_live import FakeLiveServer  # noqa: E402
from tests.support.pulse_rig import PulseRig, tone_segments  # noqa: E402

IDLE_SETTLE_S = 2.0  # after the first chunks arrive: start-up work (queued chunks, first frames) is done


def start_talk(env: dict, plain: bool, echo: str) -> tuple[subprocess.Popen, int | None]:
    command = [sys.executable, "-m", "livecli", "talk", "--echo", echo] + (["--plain"] if plain else [])
    if plain:
        return subprocess.Popen(command, env=env, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL), None
    master, slave = pty.openpty()
    os.set_blocking(master, True)
    process = subprocess.Popen(
        command, env=dict(env, COLUMNS="100", LINES="30"), stdin=slave, stdout=slave, stderr=slave
    )
    os.close(slave)
    threading.Thread(target=_drain, args=(master,), daemon=True).start()
    return process, master


def _drain(fd: int) -> None:
    """Read the terminal output like a terminal emulator would, so it never blocks."""
    try:
        while os.read(fd, 65536):
            pass
    except OSError:
        pass


def run(seconds: float, plain: bool, echo: str) -> dict:
    rig = PulseRig().start()
    server = FakeLiveServer(
        user_transcripts=[q.lower().rstrip("?.") for q in QUESTIONS],
        reply_text="Here is a reply of a few seconds, spoken by the fake model.",
        reply_seconds=3.0,
    ).start()
    workdir = Path(tempfile.mkdtemp(prefix="livecli-bench-"))
    base = {k: v for k, v in os.environ.items() if not k.startswith(("LIVECLI_", "GOOGLE_API_KEY"))}
    base.pop("PYTHONDONTWRITEBYTECODE", None)
    metrics_file = workdir / "metrics.json"
    base.update(
        XDG_CONFIG_HOME=str(workdir / "config"), XDG_DATA_HOME=str(workdir / "data"), LIVECLI_METRICS=str(metrics_file)
    )
    env = rig.subprocess_env(server.subprocess_env(base))
    recorder = rig.record_speaker()
    started = time.monotonic()
    talk, _ = start_talk(env, plain, echo)
    try:
        server.wait_for(lambda: len(server.audio_in) >= 5, timeout=20)
        connected_at = time.monotonic()
        # Idle: connected, nobody speaking, start-up work done.
        time.sleep(IDLE_SETTLE_S)
        idle_cpu_start, idle_threads, idle_start = cpu_seconds(talk.pid), thread_cpu_seconds(talk.pid), time.monotonic()
        time.sleep(min(10.0, seconds / 6))
        idle_s = time.monotonic() - idle_start
        idle_share = (cpu_seconds(talk.pid) - idle_cpu_start) / idle_s
        idle_by_thread = busiest_threads_pct(idle_threads, thread_cpu_seconds(talk.pid), idle_s)
        # Conversation: a question every few seconds; the second answer is interrupted.
        cpu_start, talk_start = cpu_seconds(talk.pid), time.monotonic()
        index = 0
        while time.monotonic() - talk_start < seconds:
            rig.speak(QUESTIONS[index % len(QUESTIONS)])
            index += 1
            if index % 3 == 2 and server.wait_event("model_audio_first", count=index, timeout=10):
                time.sleep(1.0)
                continue  # speak the next question over the answer
            server.wait_event("turn_complete", count=index, timeout=10)
            time.sleep(0.5)
        conversation_s = time.monotonic() - talk_start
        conversation_share = (cpu_seconds(talk.pid) - cpu_start) / conversation_s
        rss = peak_rss_mb(talk.pid)
    finally:
        talk.send_signal(signal.SIGINT)
        code = talk.wait(timeout=20)
        recording = recorder.stop()
        server.stop(raise_errors=False)
        rig.stop()

    arrivals = np.array([c.t for c in server.audio_in if c.t > connected_at])
    lateness = (arrivals - arrivals[0]) - 0.1 * np.arange(len(arrivals))
    jitter_ms = np.abs(lateness - np.median(lateness)) * 1000
    silences = []
    segments = tone_segments(recording, recorder.rate, 440.0)
    for event in server.events("interrupted"):
        ends = [recorder.time_of(end * recorder.rate) for start, end in segments]
        before = [t for t in ends if t <= event.t + 0.5]
        if before:
            silences.append((max(before) - event.t) * 1000)
    measured = json.loads(metrics_file.read_text())
    latencies = measured["latencies"]
    return {
        "exit_code": code,
        "ui": "plain" if plain else "rich",
        "echo": echo,
        "conversation_s": round(conversation_s, 1),
        "turns": len(server.events("turn_complete")),
        "cpu_share_conversation_pct": round(conversation_share * 100, 2),
        "cpu_share_idle_pct": round(idle_share * 100, 2),
        "cpu_idle_by_thread_pct": idle_by_thread,
        "peak_rss_mb": round(rss, 1),
        "chunks_sent": int(len(arrivals)),
        "chunk_interval_ms": round(float(np.mean(np.diff(arrivals))) * 1000, 2),
        "chunk_jitter_p99_ms": round(float(np.percentile(jitter_ms, 99)), 1),
        "interrupted_to_silent_ms": [round(s, 1) for s in silences],
        "interrupted_to_silent_p99_ms": round(float(np.percentile(silences, 99)), 1) if silences else None,
        "capture_to_send_ms": latencies.get("capture_to_send"),
        "delivered_to_send_ms": latencies.get("delivered_to_send"),
        "receive_to_device_ms": latencies.get("receive_to_device"),
        "voice_to_voice_ms": latencies.get("voice_to_voice"),
        **measured["counters"],
        "session_s": round(time.monotonic() - started, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--plain", action="store_true", help="plain output instead of the Rich layout")
    parser.add_argument(
        "--echo",
        default="off",
        choices=["aec", "half-duplex", "off"],
        help="echo control (default off: the null sinks have no acoustic path; aec measures its cost)",
    )
    args = parser.parse_args()
    figures = run(args.seconds, args.plain, args.echo)
    width = max(map(len, figures))
    for key, value in figures.items():
        print(f"{key:<{width}}  {value}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
