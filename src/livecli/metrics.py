"""Figures a talk session gathers about itself, for the status line and benchmarks.

Latencies are kept as samples (seconds) and summarised as p50/p99/max in
milliseconds; counters count. `LIVECLI_METRICS=FILE` makes talk write the
summary there as JSON when it ends (the benchmarks read it).
"""

from __future__ import annotations

import collections
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from livecli.ports import Microphone, Speaker

MAX_SAMPLES = 100_000


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


class Metrics:
    def __init__(self) -> None:
        self.samples: dict[str, collections.deque[float]] = collections.defaultdict(
            lambda: collections.deque(maxlen=MAX_SAMPLES)
        )
        self.counters: dict[str, int] = collections.Counter()

    def observe(self, name: str, seconds: float) -> None:
        self.samples[name].append(seconds)

    def observe_all(self, name: str, seconds: Iterable[float]) -> None:
        self.samples[name].extend(seconds)

    def count(self, name: str, value: int = 1) -> None:
        self.counters[name] += value

    def summary(self, microphone: Microphone | None = None, speaker: Speaker | None = None) -> dict:
        """Every figure, with the devices' own counts when they are given."""
        if speaker is not None:
            self.observe_all("receive_to_device", speaker.buffer.latencies)
            self.count("output_underruns", speaker.buffer.underruns)
            self.count("output_underflows", speaker.underflows)
            self.count("output_underflows_audible", speaker.audible_underflows)
        if microphone is not None:
            self.count("input_overflows", microphone.overflows)
        latencies = {
            name: {
                "n": len(values),
                "p50_ms": round(percentile(list(values), 0.50) * 1000, 2),
                "p99_ms": round(percentile(list(values), 0.99) * 1000, 2),
                "max_ms": round(max(values) * 1000, 2),
            }
            for name, values in self.samples.items()
            if values
        }
        return {"latencies": latencies, "counters": dict(self.counters)}
