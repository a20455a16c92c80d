"""What the conversation benchmarks share: the script and readings from /proc."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
T = TypeVar("T")
QUESTIONS = ["What is the weather like?", "Tell me a joke.", "How far away is the moon?", "Thank you."]


def cpu_seconds(pid: int) -> float:
    return cpu_seconds_of(Path(f"/proc/{pid}/stat"))


def cpu_seconds_of(stat: Path) -> float:
    """utime + stime from a /proc stat file (a process's or a thread's)."""
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def per_thread(pid: int, read: Callable[[Path], T]) -> dict[int, T]:
    """`read(/proc/PID/task/TID)` for each of the process's threads, by thread id; a thread that
    ends meanwhile is left out."""
    found = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found[int(task.name)] = read(task)
        except OSError:
            continue
    return found


def thread_cpu_seconds(pid: int) -> dict[int, float]:
    """CPU seconds of each of the process's threads, by thread id."""
    return per_thread(pid, lambda task: cpu_seconds_of(task / "stat"))


def context_switches(pid: int) -> int:
    """Voluntary + involuntary context switches of every thread: how often the process wakes."""
    return sum(per_thread(pid, _context_switches).values())


def _context_switches(task: Path) -> int:
    lines = task.joinpath("status").read_text().splitlines()
    return sum(int(line.split()[1]) for line in lines if "ctxt_switches" in line)


def busiest_threads_pct(before: dict[int, float], after: dict[int, float], elapsed: float) -> list[float]:
    """Each thread's share of one core over an interval, busiest first (threads have no names:
    PortAudio's and PulseAudio's are C threads)."""
    shares = [(after[tid] - before.get(tid, 0.0)) / elapsed * 100 for tid in after]
    return sorted((round(share, 2) for share in shares if share > 0), reverse=True)
