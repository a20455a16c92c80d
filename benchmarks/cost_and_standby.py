"""What a conversation costs over time, and what standing by saves.

Two runs of `livecli talk --plain` against the fake Live server (which reports each turn's usage
the way the service does: the whole context so far billed again as prompt, per modality), with real
PortAudio devices on a private PulseAudio server and espeak-ng asking the questions:

- cost: a conversation of `--seconds` (600 = the 10-minute session), then the session's usage
  reports read back from the store: tokens and estimated cost at each minute (the cost curve);
- standby: a session with `idle_minutes` set, left silent until it stands by; its CPU while standing
  by against an open, idle session's, and the wake-up: from the first word spoken to the new
  connection's setup and to its first audio, and whether the words said while waking reached it.

    .venv/bin/python benchmarks/cost_and_standby.py [--seconds 600] [--idle-seconds 6]
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
sys.path.insert(0, str(REPO))

from common import QUESTIONS, cpu_seconds  # noqa: E402

from livecli import pricing, records  # noqa: E402
from livecli.store import SessionStore  # noqa: E402
from tests.support.fake_live import FakeLiveServer  # noqa: E402
from tests.support.pulse_rig import PulseRig  # noqa: E402

MODEL = "gemini-3.8-live"
CPU_WINDOW_S = 10.0


def environment(workdir: Path, server: FakeLiveServer, rig: PulseRig, **settings: str) -> dict:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("LIVECLI_", "GOOGLE_API_KEY"))}
    base.pop("PYTHONDONTWRITEBYTECODE", None)
    base.update(XDG_CONFIG_HOME=str(workdir / "config"), XDG_DATA_HOME=str(workdir / "data"))
    base.update({f"LIVECLI_{key.upper()}": value for key, value in settings.items()})
    return rig.subprocess_env(server.subprocess_env(base))


def talk(env: dict) -> subprocess.Popen:
    command = [sys.executable, "-m", "livecli", "talk", "--plain", "--echo", "off"]
    return subprocess.Popen(
        command, env=env, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def cost_curve(rig: PulseRig, seconds: float) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="livecli-cost-"))
    server = FakeLiveServer(
        user_transcripts=[q.lower().rstrip("?.") for q in QUESTIONS],
        reply_text="Here is a reply of a few seconds, spoken by the fake model.",
        reply_seconds=3.0,
    ).start()
    process = talk(environment(workdir, server, rig))
    try:
        server.wait_for(lambda: len(server.audio_in) >= 5, timeout=30)
        started, index = time.monotonic(), 0
        while time.monotonic() - started < seconds:
            rig.speak(QUESTIONS[index % len(QUESTIONS)])
            index += 1
            server.wait_event("turn_complete", count=index, timeout=15)
            time.sleep(2.0)
    finally:
        stop(process)
        server.stop(raise_errors=False)
    store = SessionStore(workdir / "data" / "livecli")
    [info] = store.list_sessions()
    totals, curve, minute = pricing.UsageTotals(), [], 1
    for event in store.events(info.id, (records.UsageReport,)):
        while event.offset_s > minute * 60:
            curve.append(_point(minute, totals))
            minute += 1
        totals = totals + pricing.UsageTotals.of(event.record)
    curve.append(_point(round(info.duration_s / 60, 1), totals))
    return {"turns": index, "session_s": round(info.duration_s, 1), "curve": curve}


def _point(minute: float, totals: pricing.UsageTotals) -> dict:
    cost = pricing.estimate(MODEL, totals)
    return {"minute": minute, "tokens": totals.total, "prompt_tokens": totals.prompt, "usd": cost.usd}


def standby(rig: PulseRig, idle_s: float) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="livecli-standby-"))
    figures = {}
    for label, settings in (("open_idle", {}), ("standby", {"idle_minutes": str(idle_s / 60)})):
        server = FakeLiveServer(
            user_transcripts=["what time is it"], reply_text="It is noon.", reply_seconds=1.0
        ).start()
        process = talk(environment(workdir / label, server, rig, **settings))
        try:
            server.wait_for(lambda server=server: len(server.audio_in) >= 5, timeout=30)
            time.sleep(idle_s + 3.0)  # past the idle time (standby), or just as long (open)
            before, at = cpu_seconds(process.pid), time.monotonic()
            time.sleep(CPU_WINDOW_S)
            figures[f"cpu_{label}_pct"] = round((cpu_seconds(process.pid) - before) / (time.monotonic() - at) * 100, 2)
            if label == "standby":
                figures["connections_before_waking"] = len(server.setups)
                spoken_at = time.monotonic()
                rig.speak("What time is it?")
                woke = server.wait_for(lambda server=server: len(server.setups) >= 2, timeout=15)
                setup_at = server.events("setup")[-1].t if woke else None
                answered = server.wait_event("turn_complete", timeout=15)
                second = [c.t for c in server.audio_in if setup_at is not None and c.t >= setup_at]
                figures["woken"] = bool(woke)
                figures["speech_to_setup_ms"] = round((setup_at - spoken_at) * 1000) if setup_at else None
                figures["speech_to_first_audio_ms"] = round((second[0] - spoken_at) * 1000) if second else None
                figures["question_heard_after_waking"] = bool(answered)
        finally:
            stop(process)
            server.stop(raise_errors=False)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=600.0, help="length of the costed conversation")
    parser.add_argument("--idle-seconds", type=float, default=6.0, help="idle time before standing by")
    parser.add_argument("--skip-cost", action="store_true")
    args = parser.parse_args()
    rig = PulseRig().start()
    try:
        figures = {"standby": standby(rig, args.idle_seconds)}
        if not args.skip_cost:
            figures["cost"] = cost_curve(rig, args.seconds)
    finally:
        rig.stop()
    for name, value in figures.items():
        print(f"{name}: {json.dumps(value)}")


if __name__ == "__main__":
    main()
