"""Screen sharing on a virtual X screen (Xvfb): frames sent, JPEG sizes, and the source's CPU.

Three screens, each shared for `--seconds` (default 30) through livecli.sight's screen source
with its default policy (a look a second, a frame only when the picture changed):

- still: a page of code that does not change;
- typing: the same page, one more line typed each second (a small change each time);
- busy: the page scrolls by five lines twice a second (all of it changes).

The pages are light text on a dark background (a terminal or an editor), painted on the root
window by xsetroot from a separate painter process, so that only the source's own work (capture,
thumbnail, JPEG) counts in the CPU figure: this process's CPU time over the wall time, from the
first frame on (imports and opening are left out). Frames per minute leave the first frame out;
JPEG sizes count it.
Prints a table and, last, one JSON line. Needs the Debian packages xvfb and x11-xserver-utils.

    .venv/bin/python benchmarks/screen_share.py [--seconds 30] [--size 1920x1080]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from livecli.sight import FramePolicy, open_screen  # noqa: E402
from tests.support.xvfb import VirtualScreen, code_page, virtual_screen  # noqa: E402

SCENARIOS = {"still": None, "typing": 1.0, "busy": 0.5}  # seconds between repaints
PAGE_LINES = 45
COLOURS = ("#d0d0d0", "#202030")  # text, background


class CountingPolicy(FramePolicy):
    def __init__(self):
        super().__init__()
        self.checks = 0

    def offer(self, thumbnail, now):
        self.checks += 1
        return super().offer(thumbnail, now)


def pages(scenario: str, size: tuple[int, int], count: int) -> list:
    """The pictures the painter shows in turn."""
    if scenario == "typing":
        return [code_page(1, min(PAGE_LINES, 10 + i), size, PAGE_LINES) for i in range(count)]
    if scenario == "busy":
        return [code_page(1 + 5 * i, PAGE_LINES, size, PAGE_LINES) for i in range(count)]
    return [code_page(1, PAGE_LINES, size, PAGE_LINES)]


def paint(scenario: str, display: str, size: tuple[int, int], seconds: float) -> None:
    """The painter process: renders its pages first, says "ready" once the first is shown, then
    shows the next one every period."""
    period = SCENARIOS[scenario]
    count = 1 if period is None else int(seconds / period) + 10
    screen = VirtualScreen(display, size)
    shown = pages(scenario, size, count)
    screen.show(shown[0], *COLOURS)
    print("ready", flush=True)
    for picture in shown[1:]:
        time.sleep(period)
        screen.show(picture, *COLOURS)
    time.sleep(3600)


async def share(seconds: float) -> dict:
    policy = CountingPolicy()
    source = open_screen(policy=policy)
    frames = source.frames()
    sizes = [len((await anext(frames)).jpeg)]
    checks_before, cpu_before, started = policy.checks, time.process_time(), time.monotonic()

    async def collect():
        async for frame in frames:
            sizes.append(len(frame.jpeg))

    task = asyncio.create_task(collect())
    await asyncio.sleep(seconds)
    source.close()
    await task
    elapsed, cpu = time.monotonic() - started, time.process_time() - cpu_before
    checks = policy.checks - checks_before
    return {
        "frames_per_min": round((len(sizes) - 1) / elapsed * 60, 1),
        "checks_per_s": round(checks / elapsed, 2),
        "jpeg_p50_bytes": int(statistics.median(sizes)),
        "jpeg_max_bytes": max(sizes),
        "cpu_pct": round(cpu / elapsed * 100, 2),
        "cpu_ms_per_check": round(cpu / max(checks, 1) * 1000, 1),
        "source": source.description,
    }


def run(scenario: str, screen, seconds: float) -> dict:
    width, height = screen.size
    painter = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--paint",
            scenario,
            "--display",
            screen.display,
            "--size",
            f"{width}x{height}",
            "--seconds",
            str(seconds),
        ],
        env=screen.env(),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        if painter.stdout.readline().strip() != "ready":
            raise SystemExit(f"the {scenario} painter did not start")
        return asyncio.run(share(seconds))
    finally:
        painter.terminate()
        painter.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--size", default="1920x1080")
    parser.add_argument("--paint", choices=SCENARIOS)
    parser.add_argument("--display")
    args = parser.parse_args()
    width, height = (int(n) for n in args.size.split("x"))
    if args.paint:
        paint(args.paint, args.display, (width, height), args.seconds)
        return
    figures = {}
    with virtual_screen(width, height) as screen:
        os.environ["DISPLAY"] = screen.display
        for scenario in SCENARIOS:
            figures[scenario] = run(scenario, screen, args.seconds)
    keys = ["frames_per_min", "checks_per_s", "jpeg_p50_bytes", "jpeg_max_bytes", "cpu_pct", "cpu_ms_per_check"]
    print(f"{'screen ' + args.size:<20}" + "".join(f"{name:>10}" for name in SCENARIOS))
    for key in keys:
        print(f"{key:<20}" + "".join(f"{str(figures[name][key]):>10}" for name in SCENARIOS))
    print(json.dumps({"seconds": args.seconds, "size": args.size, **figures}))


if __name__ == "__main__":
    main()
