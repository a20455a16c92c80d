"""What the conversation benchmarks share: the script and readings from /proc."""

from __future__ import annotations

import os
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
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


def thread_cpu_seconds(pid: int) -> dict[int, float]:
    """CPU seconds of each of the process's threads, by thread id."""
    seconds = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            seconds[int(task.name)] = cpu_seconds_of(task / "stat")
        except (FileNotFoundError, ProcessLookupError):  # the thread ended meanwhile
            continue
    return seconds


def busiest_threads_pct(before: dict[int, float], after: dict[int, float], elapsed: float) -> list[float]:
    """Each thread's share of one core over an interval, busiest first (threads have no names:
    PortAudio's and PulseAudio's are C threads)."""
    shares = [(after[tid] - before.get(tid, 0.0)) / elapsed * 100 for tid in after]
    return sorted((round(share, 2) for share in shares if share > 0), reverse=True)
