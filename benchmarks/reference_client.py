"""livecli against a reference client written the way Google's Live API quickstart is.

The reference (`--client`, below) is the quickstart's AudioLoop with sounddevice's
blocking streams standing in for PyAudio: 1024-frame blocking reads of 16 kHz mono
int16 from the microphone (`asyncio.to_thread`), an asyncio queue, one
`session.send_realtime_input(audio=types.Blob(...))` per block, a receive loop putting
the model's audio on an output queue, a playback task doing blocking 24 kHz writes
(`asyncio.to_thread(stream.write, ...)`), and on `server_content.interrupted` it empties
the output queue (which does not stop what was already handed to the device). No UI.
It uses the SDK's defaults (so the websocket negotiates permessage-deflate with the fake;
livecli turns compression off).

The benchmark runs, one after the other, the reference and `livecli talk --plain --echo
off` against a fresh FakeLiveServer (in this process; reply_seconds=4, sent at 4x real
time) and the same PulseAudio rig, each through the same scripted conversation: espeak-ng
questions into the microphone, every other answer interrupted by the next question spoken
1 s after the answer's first audio (>= 3 barge-ins). For each it measures:

* CPU share of one core (utime+stime from /proc/PID/stat) over the conversation, and
  while connected and silent (8 s before it);
* peak RSS (VmHWM), and context switches per second over all threads (how often it wakes);
* barge-in: from the server's `interrupted` event (time.monotonic, same machine) to the
  end of the 440 Hz tone on the recorded speaker sink (the tone segment around it).

Prints a table, the ratios livecli/reference (targets: CPU <= 0.5, time to silence
<= 0.2, i.e. 5x sooner) and a JSON line. No assertions.

    .venv/bin/python benchmarks/reference_client.py [--seconds 40] [--idle 8]
    .venv/bin/python benchmarks/reference_client.py --client      # just the reference client
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# --------------------------------------------------------------------------- the reference client

FORMAT = "int16"
CHANNELS = 1
SEND_SAMPLE_RATE = 16000
RECEIVE_SAMPLE_RATE = 24000
CHUNK_SIZE = 1024
MODEL = "gemini-2.5-flash-native-audio-preview-09-2025"
CONFIG = {"response_modalities": ["AUDIO"], "system_instruction": "You are a helpful and friendly AI assistant."}


def run_client() -> None:
    """Google's quickstart AudioLoop, PyAudio replaced by sounddevice's blocking streams."""
    import asyncio

    import sounddevice as sd
    from google import genai
    from google.genai import types

    client = genai.Client()

    def open_input():
        # PyAudio opens with frames_per_buffer=1024 and the device's default *low* latency.
        stream = sd.RawInputStream(
            samplerate=SEND_SAMPLE_RATE, channels=CHANNELS, dtype=FORMAT, blocksize=CHUNK_SIZE, latency="low"
        )
        stream.start()
        return stream

    def open_output():
        stream = sd.RawOutputStream(
            samplerate=RECEIVE_SAMPLE_RATE, channels=CHANNELS, dtype=FORMAT, blocksize=CHUNK_SIZE, latency="low"
        )
        stream.start()
        return stream

    class AudioLoop:
        def __init__(self):
            self.audio_in_queue = None
            self.out_queue = None
            self.session = None

        async def listen_audio(self):
            self.audio_stream = await asyncio.to_thread(open_input)
            while True:
                data, _overflowed = await asyncio.to_thread(self.audio_stream.read, CHUNK_SIZE)
                await self.out_queue.put(types.Blob(data=bytes(data), mime_type="audio/pcm;rate=16000"))

        async def send_realtime(self):
            while True:
                msg = await self.out_queue.get()
                await self.session.send_realtime_input(audio=msg)

        async def receive_audio(self):
            """Reads from the websocket and writes pcm chunks to the output queue."""
            while True:
                turn = self.session.receive()
                async for response in turn:
                    content = response.server_content
                    if content and content.model_turn:
                        for part in content.model_turn.parts or []:
                            if part.inline_data and isinstance(part.inline_data.data, bytes):
                                self.audio_in_queue.put_nowait(part.inline_data.data)
                    if content and content.interrupted:
                        # The model was interrupted: empty out the audio queue, it may have
                        # loaded much more audio than has played yet.
                        while not self.audio_in_queue.empty():
                            self.audio_in_queue.get_nowait()

        async def play_audio(self):
            stream = await asyncio.to_thread(open_output)
            while True:
                bytestream = await self.audio_in_queue.get()
                await asyncio.to_thread(stream.write, bytestream)

        async def run(self):
            async with client.aio.live.connect(model=MODEL, config=CONFIG) as session, asyncio.TaskGroup() as tg:
                self.session = session
                self.audio_in_queue = asyncio.Queue()
                self.out_queue = asyncio.Queue(maxsize=5)
                tg.create_task(self.send_realtime())
                tg.create_task(self.listen_audio())
                tg.create_task(self.receive_audio())
                tg.create_task(self.play_audio())

    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    try:
        asyncio.run(AudioLoop().run())
    except KeyboardInterrupt:
        os._exit(0)  # the blocking reads/writes sit in threads: don't wait for them


# --------------------------------------------------------------------------- the benchmark

from common import QUESTIONS, context_switches, cpu_seconds, peak_rss_mb  # noqa: E402


def converse(server, rig, seconds: float, min_barge_ins: int = 3) -> int:
    """Questions every few seconds; every other answer is interrupted by the next question,
    spoken 1 s after the answer's first audio. Returns the number of barge-ins spoken."""
    start = time.monotonic()
    index = barge_ins = 0
    barge_next = False  # the next question is spoken over an answer
    while True:
        elapsed = time.monotonic() - start
        if not barge_next and (elapsed >= 2 * seconds or (elapsed >= seconds and barge_ins >= min_barge_ins)):
            break
        firsts = len(server.events("model_audio_first"))
        spoken_at = time.monotonic()
        rig.speak(QUESTIONS[index % len(QUESTIONS)])
        index += 1
        if barge_next:
            barge_ins += 1
            barge_next = False
        elif index % 2 == 1 and server.wait_event("model_audio_first", count=firsts + 1, timeout=10):
            time.sleep(1.0)
            barge_next = True
            continue  # the next question goes over this answer
        server.wait_for(
            lambda spoken_at=spoken_at: any(
                e.t > spoken_at and not e.data["interrupted"] for e in server.events("turn_complete")
            ),
            timeout=15,
        )
        time.sleep(0.5)
    return barge_ins


def run_one(name: str, command: list[str], rig, base_env: dict, seconds: float, idle_s: float) -> dict:
    import numpy as np

    from tests.support.fake_live import FakeLiveServer
    from tests.support.pulse_rig import tone_segments

    server = FakeLiveServer(
        user_transcripts=[q.lower().rstrip("?.") for q in QUESTIONS],
        reply_text="Here is a long reply, spoken by the fake model for a few seconds.",
        reply_seconds=4.0,
    ).start()
    env = rig.subprocess_env(server.subprocess_env(base_env))
    recorder = rig.record_speaker()
    stderr = tempfile.TemporaryFile()
    started = time.monotonic()
    process = subprocess.Popen(command, env=env, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=stderr)
    try:
        if not server.wait_for(lambda: len(server.audio_in) >= 5, timeout=30):
            stderr.seek(0)
            raise RuntimeError(f"{name}: no audio reached the server:\n{stderr.read().decode(errors='replace')}")
        connected_s = time.monotonic() - started
        idle_cpu, idle_start, idle_chunks = cpu_seconds(process.pid), time.monotonic(), len(server.audio_in)
        idle_switches = context_switches(process.pid)
        time.sleep(idle_s)
        idle_elapsed = time.monotonic() - idle_start
        idle_share = (cpu_seconds(process.pid) - idle_cpu) / idle_elapsed
        idle_wakeups = (context_switches(process.pid) - idle_switches) / idle_elapsed
        messages_per_s = (len(server.audio_in) - idle_chunks) / idle_elapsed
        cpu_start, talk_start, switches = cpu_seconds(process.pid), time.monotonic(), context_switches(process.pid)
        barge_ins = converse(server, rig, seconds)
        time.sleep(1.0)  # let the last answer's tail play out into the recording
        conversation_s = time.monotonic() - talk_start
        share = (cpu_seconds(process.pid) - cpu_start) / conversation_s
        wakeups = (context_switches(process.pid) - switches) / conversation_s
        rss = peak_rss_mb(process.pid)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            code = process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            code = process.wait()
        recording = recorder.stop()
        server.stop(raise_errors=False)

    segments = [
        (recorder.time_of(s * recorder.rate), recorder.time_of(e * recorder.rate))
        for s, e in tone_segments(recording, recorder.rate, 440.0)
    ]
    silences: list[float | None] = []
    for event in server.events("interrupted"):
        before = [seg for seg in segments if seg[0] <= event.t]
        if before and before[-1][1] >= event.t - 0.2:
            silences.append((before[-1][1] - event.t) * 1000)
        else:
            silences.append(None)  # the speaker was not playing the model at that moment
    measured = np.array([s for s in silences if s is not None])
    stats = (
        {
            "p50": round(float(np.percentile(measured, 50)), 1),
            "p99": round(float(np.percentile(measured, 99)), 1),
            "max": round(float(measured.max()), 1),
        }
        if measured.size
        else {"p50": None, "p99": None, "max": None}
    )
    return {
        "client": name,
        "exit_code": code,
        "connected_after_s": round(connected_s, 2),
        "conversation_s": round(conversation_s, 1),
        "turns": len(server.events("turn_complete")),
        "barge_ins_spoken": barge_ins,
        "cpu_share_conversation_pct": round(share * 100, 2),
        "cpu_share_idle_pct": round(idle_share * 100, 2),
        "context_switches_per_s_conversation": round(wakeups),
        "context_switches_per_s_idle": round(idle_wakeups),
        "mic_messages_per_s": round(messages_per_s, 1),
        "peak_rss_mb": round(rss, 1),
        "interrupted_to_silent_ms": [None if s is None else round(s, 1) for s in silences],
        "interrupted_to_silent_ms_p50": stats["p50"],
        "interrupted_to_silent_ms_p99": stats["p99"],
        "interrupted_to_silent_ms_max": stats["max"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--client", action="store_true", help="run the reference client itself")
    parser.add_argument("--seconds", type=float, default=40.0, help="length of the scripted conversation")
    parser.add_argument("--idle", type=float, default=8.0, help="connected and silent, before the conversation")
    args = parser.parse_args()
    if args.client:
        run_client()
        return

    sys.path.insert(0, str(REPO))
    from tests.support.pulse_rig import PulseRig

    wall = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="livecli-ref-bench-"))
    base = {k: v for k, v in os.environ.items() if not k.startswith(("LIVECLI_", "GOOGLE_API_KEY"))}
    base.update(XDG_CONFIG_HOME=str(workdir / "config"), XDG_DATA_HOME=str(workdir / "data"))
    clients = {
        "reference": [sys.executable, str(Path(__file__).resolve()), "--client"],
        "livecli": [sys.executable, "-m", "livecli", "talk", "--plain", "--echo", "off"],
    }
    rig = PulseRig().start()
    try:
        rows = {name: run_one(name, command, rig, base, args.seconds, args.idle) for name, command in clients.items()}
    finally:
        rig.stop()

    ref, cli = rows["reference"], rows["livecli"]

    def ratio(key: str) -> float | None:
        a, b = cli[key], ref[key]
        return round(a / b, 3) if a is not None and b else None

    ratios = {
        "cpu_conversation": ratio("cpu_share_conversation_pct"),
        "cpu_idle": ratio("cpu_share_idle_pct"),
        "peak_rss": ratio("peak_rss_mb"),
        "silence_p50": ratio("interrupted_to_silent_ms_p50"),
        "silence_max": ratio("interrupted_to_silent_ms_max"),
    }
    columns = [
        ("client", "client", 10),
        ("cpu_share_conversation_pct", "CPU talk %", 11),
        ("cpu_share_idle_pct", "CPU idle %", 11),
        ("peak_rss_mb", "RSS MB", 8),
        ("context_switches_per_s_conversation", "wakeups/s", 10),
        ("mic_messages_per_s", "msgs/s", 8),
        ("interrupted_to_silent_ms_p50", "silent p50", 11),
        ("interrupted_to_silent_ms_p99", "p99", 8),
        ("interrupted_to_silent_ms_max", "max ms", 8),
        ("turns", "turns", 6),
    ]
    print("".join(f"{title:>{width}}" for _, title, width in columns))
    for row in rows.values():
        print("".join(f"{str(row[key]):>{width}}" for key, _, width in columns))
    print()
    for row in rows.values():
        print(f"{row['client']:<10} barge-ins, interrupted -> silent speaker (ms): {row['interrupted_to_silent_ms']}")
    print()
    print(
        f"livecli/reference: CPU (conversation) {ratios['cpu_conversation']} (target <= 0.5), "
        f"CPU (idle) {ratios['cpu_idle']}, RSS {ratios['peak_rss']}, "
        f"time to silence p50 {ratios['silence_p50']} / max {ratios['silence_max']} (target <= 0.2)"
    )
    print(f"run time {time.monotonic() - wall:.0f} s")
    print(json.dumps({"reference": ref, "livecli": cli, "livecli_over_reference": ratios}))


if __name__ == "__main__":
    main()
