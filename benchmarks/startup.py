"""Start-up: wall time of `livecli --help` and `livecli --version`, and what they import.

Median of N runs of the installed console script, bytecode compiled first
(this environment sets PYTHONDONTWRITEBYTECODE, which would make every import
recompile). Target: ≤ 120 ms, and neither imports google.genai, numpy or
sounddevice.

    .venv/bin/python benchmarks/startup.py [--runs 15]
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
HEAVY = ("google.genai", "numpy", "sounddevice")
PROBE = (
    "import runpy, sys\n"
    "sys.argv = ['livecli'] + sys.argv[1:]\n"
    "try:\n    runpy.run_module('livecli', run_name='__main__')\n"
    "except SystemExit:\n    pass\n"
    "print('HEAVY=' + ','.join(m for m in {heavy!r} if m in sys.modules), file=sys.stderr)\n"
)


def compile_everything() -> None:
    for path in [REPO / "src", *map(Path, sys.path)]:
        if path.is_dir() and ("site-packages" in str(path) or path == REPO / "src"):
            compileall.compile_dir(path, quiet=2, workers=0)


def wall_times(args: list[str], runs: int, env: dict) -> list[float]:
    script = Path(sys.executable).with_name("livecli")
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([str(script), *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - start)
    return times


def heavy_imports(args: list[str], env: dict) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=HEAVY), *args], env=env, capture_output=True, text=True
    )
    line = next(line for line in result.stderr.splitlines() if line.startswith("HEAVY="))
    return [name for name in line[len("HEAVY=") :].split(",") if name]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    compile_everything()
    figures = {}
    for args in (["--help"], ["--version"]):
        name = " ".join(args)
        times = wall_times(args, runs, env)
        figures[name] = {
            "median_ms": round(statistics.median(times) * 1000, 1),
            "min_ms": round(min(times) * 1000, 1),
            "max_ms": round(max(times) * 1000, 1),
            "heavy_imports": heavy_imports(args, env),
        }
    print(f"{'command':<12}{'median ms':>10}{'min ms':>8}{'max ms':>8}  heavy imports")
    for name, f in figures.items():
        print(
            f"{name:<12}{f['median_ms']:>10}{f['min_ms']:>8}{f['max_ms']:>8}  {', '.join(f['heavy_imports']) or 'none'}"
        )
    print(json.dumps({"startup": figures, "runs": runs}))


if __name__ == "__main__":
    main()
