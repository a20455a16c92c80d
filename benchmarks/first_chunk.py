"""Start-up of `livecli talk`: from process start to the first audio chunk at the service.

Wall time from `Popen` of the installed `livecli talk --plain --echo off` to the first
audio chunk arriving at the fake Live server (`server.audio_in[0].t`; both clocks are
time.monotonic on this machine), median of N runs, with real PortAudio devices on a
private PulseAudio rig. Bytecode is compiled first (`compileall` on src and
site-packages) and PYTHONDONTWRITEBYTECODE is removed from the child's environment.

Breakdown:

* each run, from the server's side: the websocket upgrade request (TCP + TLS done),
  `connected`, the `setup` frame (setup - connected: the "connection setup"),
  `setupComplete` sent, first audio chunk;
* imports: one run with PYTHONPROFILEIMPORTTIME=1 (`-X importtime`), the top-level
  (unindented) imports summed, and the heaviest packages; plus `python -c pass` and
  `python -c 'import livecli.commands, livecli.talk'` without the import profiler;
* where the time goes inside the process: one run under a probe that imports the
  same modules up front and timestamps the steps of `talk` (session store, devices,
  tools, streams, connection, first send). The probe changes the order of imports,
  not their cost; its own first-chunk time is printed to compare.

Target: <= 600 ms (median).

    .venv/bin/python benchmarks/first_chunk.py [--runs 7]
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.support.fake_live import FakeLiveServer  # noqa: E402
from tests.support.pulse_rig import PulseRig  # noqa: E402

TARGET_MS = 600.0
TALK = ["talk", "--plain", "--echo", "off"]
HEAVY = [
    "livecli.talk",
    "google.genai",
    "google.genai.types",
    "pydantic",
    "websockets",
    "numpy",
    "sounddevice",
    "soxr",
    "rich",
    "typer",
    "sqlite3",
    "mcp",
    "livecli.tools",
    "livecli.store",
    "livecli.audio.echo",
    "httpx",
    "httpx2",
    "google.auth",
    "aiohttp",
    "jsonschema",
    "pywebrtc_audio",
]

PROBE = r"""
import functools, inspect, json, os, sys, time
OUT = open(os.environ["FIRST_CHUNK_PROBE"], "a", buffering=1)
def mark(label):
    OUT.write(json.dumps([label, time.monotonic()]) + "\n")
mark("interpreter up")
import livecli.commands
mark("import livecli.commands")
import livecli.talk
mark("import livecli.talk (google.genai, numpy, rich...)")
import sounddevice
mark("import sounddevice (PortAudio initialised)")

def wrap(owner, attr, label, kind=None):
    raw = inspect.getattr_static(owner, attr)
    is_class = isinstance(raw, classmethod)
    fn = raw.__func__ if is_class else raw
    seen = set()
    def name(args):
        return label.format(kind=getattr(args[0], "kind", "")) if args else label
    if inspect.iscoroutinefunction(fn):
        async def wrapper(*args, **kwargs):
            n = name(args); first = n not in seen; seen.add(n)
            if first: mark(n + " >")
            result = await fn(*args, **kwargs)
            if first: mark(n + " <")
            return result
    else:
        def wrapper(*args, **kwargs):
            n = name(args); first = n not in seen; seen.add(n)
            if first: mark(n + " >")
            result = fn(*args, **kwargs)
            if first: mark(n + " <")
            return result
    setattr(owner, attr, classmethod(wrapper) if is_class else wrapper)

from livecli import talk, session, live
from livecli.audio import streams, device_stream
from livecli.store import SessionStore, SessionRecorder
import google.genai
wrap(talk, "run_talk", "run_talk")
wrap(live, "build_config", "LiveConnectConfig (pydantic, first use)")
wrap(google.genai.Client, "__init__", "genai.Client()")
wrap(SessionStore, "__init__", "session store")
wrap(streams.Microphone, "__init__", "microphone: resolve device")
wrap(streams.Speaker, "__init__", "speaker: resolve device")
wrap(SessionRecorder, "open", "session recorder open")
wrap(session.TalkSession, "__init__", "tools loaded; TalkSession")
wrap(device_stream.DeviceStream, "start", "{kind}: open stream")
wrap(live.LiveConnection, "__aenter__", "connect (SDK: TCP, TLS, websocket, setup)")
wrap(live.LiveConnection, "send_audio", "first send_audio")
sys.argv = ["livecli"] + sys.argv[1:]
import runpy
runpy.run_module("livecli", run_name="__main__")
"""


def compile_everything() -> None:
    for path in [REPO / "src", *map(Path, sys.path)]:
        if path.is_dir() and ("site-packages" in str(path) or path == REPO / "src"):
            compileall.compile_dir(path, quiet=2, workers=0)


def one_run(server: FakeLiveServer, command: list[str], env: dict, *, stderr=subprocess.DEVNULL) -> dict:
    """Start talk, wait for its first chunk, stop it; times in ms from Popen."""
    conns_before = len(server.events("connected"))
    handshakes_before = len(server.handshakes)
    started = time.monotonic()
    process = subprocess.Popen(command, env=env, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=stderr)
    try:
        ok = server.wait_for(
            lambda: (
                len(server.events("connected")) > conns_before
                and any(c.conn == server.events("connected")[conns_before].conn for c in server.audio_in)
            ),
            timeout=30,
        )
        if not ok:
            raise RuntimeError("no audio chunk arrived within 30 s")
        conn = server.events("connected")[conns_before].conn
        first_audio = next(c.t for c in server.audio_in if c.conn == conn)
        ms = lambda t: round((t - started) * 1000, 1)  # noqa: E731
        setup_complete = next(s.t for s in server.sent if s.conn == conn and s.kind == "setupComplete")
        return {
            "upgrade_request": ms(server.handshakes[handshakes_before].t),
            "connected": ms(next(e.t for e in server.events("connected") if e.conn == conn)),
            "setup": ms(next(e.t for e in server.events("setup") if e.conn == conn)),
            "setup_complete_sent": ms(setup_complete),
            "first_chunk": ms(first_audio),
            "_started": started,
        }
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def import_profile(text: str) -> dict:
    """-X importtime output: sum of top-level imports, the largest of them, and the named
    packages' cumulative times."""
    top, named, largest = 0, {}, []
    for line in text.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
        if not m:
            continue
        cumulative, indent, name = int(m.group(2)), len(m.group(3)), m.group(4)
        if indent <= 1:
            top += cumulative
            largest.append((round(cumulative / 1000, 1), name))
        if name in HEAVY and name not in named:
            named[name] = round(cumulative / 1000, 1)
    largest.sort(reverse=True)
    return {
        "top_level_sum_ms": round(top / 1000, 1),
        "top_level_largest_ms": {name: ms for ms, name in largest[:8]},
        "packages_ms": named,
    }


def median_wall(command: list[str], env: dict, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return round(statistics.median(times) * 1000, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    wall = time.monotonic()
    compile_everything()
    compiled_s = time.monotonic() - wall

    workdir = Path(tempfile.mkdtemp(prefix="livecli-first-chunk-"))
    base = {
        k: v
        for k, v in os.environ.items()
        if k != "PYTHONDONTWRITEBYTECODE"
        and not k.startswith(("LIVECLI_", "GOOGLE_API_KEY", "PYTHONPROFILEIMPORTTIME"))
    }
    base.update(XDG_CONFIG_HOME=str(workdir / "config"), XDG_DATA_HOME=str(workdir / "data"))
    script = str(Path(sys.executable).with_name("livecli"))

    rig = PulseRig().start()
    server = FakeLiveServer(reply_seconds=1.0).start()
    try:
        env = rig.subprocess_env(server.subprocess_env(base))
        one_run(server, [script, *TALK], env)  # warm-up: first database, page cache
        runs = [one_run(server, [script, *TALK], env) for _ in range(args.runs)]
        # imports, with the import profiler
        importtime_file = workdir / "importtime.txt"
        with open(importtime_file, "wb") as err:
            one_run(server, [script, *TALK], dict(env, PYTHONPROFILEIMPORTTIME="1"), stderr=err)
        imports = import_profile(importtime_file.read_text(errors="replace"))
        # where the time goes inside the process
        probe_file = workdir / "probe.txt"
        probe_run = one_run(server, [sys.executable, "-c", PROBE, *TALK], dict(env, FIRST_CHUNK_PROBE=str(probe_file)))
        marks = [json.loads(line) for line in probe_file.read_text().splitlines()]
    finally:
        server.stop(raise_errors=False)
        rig.stop()
    bare = median_wall([sys.executable, "-c", "pass"], base, 5)
    talk_imports = median_wall([sys.executable, "-c", "import livecli.commands, livecli.talk"], base, 5)

    keys = ["upgrade_request", "connected", "setup", "setup_complete_sent", "first_chunk"]
    medians = {k: round(statistics.median(r[k] for r in runs), 1) for k in keys}
    first = [r["first_chunk"] for r in runs]
    print(f"livecli talk --plain --echo off: Popen -> first audio chunk at the server, {args.runs} runs (ms)")
    print(f"{'run':<6}" + "".join(f"{k:>21}" for k in keys))
    for i, r in enumerate(runs, 1):
        print(f"{i:<6}" + "".join(f"{r[k]:>21}" for k in keys))
    print(f"{'median':<6}" + "".join(f"{medians[k]:>21}" for k in keys))
    print(
        f"\nfirst chunk: median {statistics.median(first):.0f} ms, min {min(first):.0f}, max {max(first):.0f} "
        f"(target <= {TARGET_MS:.0f})"
    )
    print(
        f"connection setup (setup - connected): {medians['setup'] - medians['connected']:.1f} ms; "
        f"setupComplete -> first chunk: {medians['first_chunk'] - medians['setup_complete_sent']:.1f} ms"
    )
    print(
        f"\npython -c pass: {bare} ms; python -c 'import livecli.commands, livecli.talk': {talk_imports} ms "
        f"(imports alone ~{talk_imports - bare:.0f} ms)"
    )
    print(
        f"-X importtime (one run; the profiler adds overhead): top-level imports sum {imports['top_level_sum_ms']} ms"
    )
    print("  largest top-level imports: " + ", ".join(f"{k} {v}" for k, v in imports["top_level_largest_ms"].items()))
    print(
        "  packages (cumulative, where first imported): "
        + ", ".join(f"{k} {v}" for k, v in sorted(imports["packages_ms"].items(), key=lambda kv: -kv[1]) if v >= 1)
    )
    print(
        f"\ninside the process (probe run; its first chunk at {probe_run['first_chunk']} ms, server saw "
        f"upgrade {probe_run['upgrade_request']}, setup {probe_run['setup']}):"
    )
    started = probe_run["_started"]
    timeline = [(label, round((t - started) * 1000, 1)) for label, t in marks if label != "run_talk <"]
    previous = 0.0
    for label, at in timeline:
        print(f"  {at:>8.1f} ms  (+{at - previous:6.1f})  {label}")
        previous = at
    print(f"\nrun time {time.monotonic() - wall:.0f} s (compileall {compiled_s:.0f} s)")
    print(
        json.dumps(
            {
                "first_chunk_ms": {
                    "median": statistics.median(first),
                    "min": min(first),
                    "max": max(first),
                    "runs": first,
                },
                "server_timeline_median_ms": medians,
                "connection_setup_ms": round(medians["setup"] - medians["connected"], 1),
                "python_bare_ms": bare,
                "import_livecli_talk_ms": talk_imports,
                "importtime": imports,
                "probe_timeline_ms": timeline,
                "probe_first_chunk_ms": probe_run["first_chunk"],
                "within_target": statistics.median(first) <= TARGET_MS,
            }
        )
    )


if __name__ == "__main__":
    main()
