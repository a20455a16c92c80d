"""Recording an echo path in a subprocess that has the PulseAudio rig's environment, for
benchmarks/echo_rig.py (and the e2e echo test through it):

    python -m tests.support.echo_recorder OUT.npz --play PCM.raw --play-rate 24000 [--input X] [--output Y]

plays raw int16 mono PCM through the speaker while recording the microphone
(`record_duplex`, exactly as `talk` opens them), prints `PLAYING <monotonic time the first
sample is due>` then `DONE`, and saves the `Recording` to OUT.npz (`load` reads it back).
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from livecli.audio.echo_recording import Blocks, Recording, record_duplex
from livecli.formats import OUTPUT_RATE


def save(recording: Recording, path) -> None:
    fields = {}
    for name in ("far", "near"):
        blocks = getattr(recording, name)
        fields[f"{name}_pcm"] = np.frombuffer(b"".join(blocks.pcm), dtype=np.int16)
        fields[f"{name}_sizes"] = np.array([len(b) for b in blocks.pcm], dtype=np.int64)
        fields[f"{name}_at"] = np.array(blocks.at)
        fields[f"{name}_arrived"] = np.array(blocks.arrived)
        fields[f"{name}_xrun"] = np.array(blocks.xrun, dtype=bool)
        fields[f"{name}_format"] = np.array([blocks.rate, blocks.channels])
    np.savez(path, devices=np.array([recording.output_device, recording.input_device]), **fields)


def load(path) -> Recording:
    data = np.load(path)
    parts = {}
    for name in ("far", "near"):
        raw = data[f"{name}_pcm"].tobytes()
        sizes = data[f"{name}_sizes"]
        offsets = np.concatenate([[0], np.cumsum(sizes)])
        rate, channels = (int(v) for v in data[f"{name}_format"])
        parts[name] = Blocks(
            rate,
            channels,
            [raw[offsets[i] : offsets[i + 1]] for i in range(len(sizes))],
            list(data[f"{name}_at"]),
            list(data[f"{name}_arrived"]),
            [bool(x) for x in data[f"{name}_xrun"]],
        )
    output_device, input_device = (str(v) for v in data["devices"])
    return Recording(parts["far"], parts["near"], output_device, input_device)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.support.echo_recorder", description=__doc__.split("\n\n")[0])
    parser.add_argument("out")
    parser.add_argument("--play", required=True, help="raw int16 mono PCM")
    parser.add_argument("--play-rate", type=int, default=OUTPUT_RATE)
    parser.add_argument("--input")
    parser.add_argument("--output")
    parser.add_argument("--lead-in", type=float, default=0.5)
    args = parser.parse_args(argv)
    play = np.fromfile(args.play, dtype=np.int16)

    def started(at: float) -> None:
        print(f"PLAYING {at:.6f}", flush=True)

    recording = record_duplex(args.output, args.input, play, args.play_rate, lead_in_s=args.lead_in, started=started)
    save(recording, args.out)
    print("DONE", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
