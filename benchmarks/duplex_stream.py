"""One full-duplex PortAudio stream against talk's two streams (microphone 20 ms blocks at
16 kHz, speaker 10 ms blocks at 24 kHz), on the PulseAudio rig: CPU of the process (callbacks
that only copy, as talk's do), xruns, and how much the distance between the two sides'
timestamps (DAC time of the speaker's blocks minus ADC time of the microphone's, per sample
counts) moves: a move there is a move of the echo path against the reference.

    .venv/bin/python benchmarks/duplex_stream.py [--seconds 30]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "src"))

from common import cpu_seconds  # noqa: E402

from tests.support.pulse_rig import PulseRig  # noqa: E402

CHILD = r"""
import json, sys, time
import numpy as np
from livecli.audio import portaudio
sd = portaudio.sounddevice()
mode, seconds = sys.argv[1], float(sys.argv[2])
out_at, in_at, xruns = [], [], {"in": 0, "out": 0}
counts = {"in": 0, "out": 0}
def output(outdata, frames, info, status):
    xruns["out"] += bool(status.output_underflow)
    outdata[:] = bytes(len(outdata))
    out_at.append(info.outputBufferDacTime - counts["out"] / 24000); counts["out"] += frames
def inp(indata, frames, info, status):
    xruns["in"] += bool(status.input_overflow)
    bytes(indata)
    in_at.append(info.inputBufferAdcTime - counts["in"] / 16000); counts["in"] += frames
if mode == "two":
    streams = [sd.RawInputStream(samplerate=16000, blocksize=320, channels=1, dtype="int16", latency="low", callback=inp),
               sd.RawOutputStream(samplerate=24000, blocksize=240, channels=1, dtype="int16", latency="low", callback=output)]
else:  # one stream, one rate (48 kHz, as a device would take both), one callback every 10 ms
    def both(indata, outdata, frames, info, status):
        xruns["in"] += bool(status.input_overflow); xruns["out"] += bool(status.output_underflow)
        bytes(indata); outdata[:] = bytes(len(outdata))
        out_at.append(info.outputBufferDacTime - counts["out"] / 48000); counts["out"] += frames
        in_at.append(info.inputBufferAdcTime - counts["in"] / 48000); counts["in"] += frames
    streams = [sd.RawStream(samplerate=48000, blocksize=480, channels=1, dtype="int16", latency="low", callback=both)]
for s in streams: s.start()
print("STARTED", flush=True)
time.sleep(seconds)
for s in streams: s.stop(); s.close()
n = min(len(out_at), len(in_at))
distance = (np.array(out_at[-n:]) - np.array(in_at[-n:])) * 1000
steps = np.abs(np.diff(distance))
print(json.dumps({"xruns": xruns, "distance_spread_ms": round(float(np.percentile(distance, 99) - np.percentile(distance, 1)), 2),
                  "steps_over_4ms": int((steps > 4).sum())}))
"""


def measure(rig: PulseRig, mode: str, seconds: float) -> dict:
    env = rig.subprocess_env(dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO / "src"), str(REPO)])))
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, mode, str(seconds)], env=env, stdout=subprocess.PIPE, text=True
    )
    assert child.stdout.readline().startswith("STARTED")
    time.sleep(1.0)  # past the start
    before, t0 = cpu_seconds(child.pid), time.monotonic()
    time.sleep(seconds - 2.0)
    cpu = (cpu_seconds(child.pid) - before) / (time.monotonic() - t0) * 100
    found = json.loads(child.communicate(timeout=30)[0].strip().splitlines()[-1])
    return {"cpu_percent_of_core": round(cpu, 2), **found}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args(argv)
    results = {}
    with PulseRig() as rig:
        for mode in ("two", "one", "two", "one"):  # alternated: the machine is shared
            results.setdefault(mode, []).append(measure(rig, mode, args.seconds))
    for mode, runs in results.items():
        print(f"{mode} stream(s): " + "; ".join(json.dumps(r) for r in runs))
    print("DUPLEX_STREAM " + json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
