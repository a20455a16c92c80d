"""Facts every layer shares: the Live API's audio formats and how text is shortened.

At the bottom of the house: it imports nothing of livecli's, so the audio,
connection, storage and UI packages can all use it without importing each other.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

INPUT_RATE = 16000  # what the Live API hears: 16 kHz, 16-bit, mono
OUTPUT_RATE = 24000  # what it speaks
SAMPLE_BYTES = 2  # int16
INPUT_BYTES_PER_SECOND = INPUT_RATE * SAMPLE_BYTES
FULL_SCALE = 32768.0  # int16 full scale, for dBFS
SILENCE_DBFS = -96.0  # below anything int16 can say
# `--echo`: keeping the assistant's voice out of the microphone (livecli.audio.echo); the first
# is the default. Here so that settings can check it without loading the audio package.
ECHO_MODES = ("auto", "aec", "half-duplex", "off")


def seconds_of(pcm_bytes: int, rate: int = INPUT_RATE) -> float:
    """How long `pcm_bytes` of mono int16 audio at `rate` last."""
    return pcm_bytes / (SAMPLE_BYTES * rate)


def shorten(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, with an ellipsis where it was cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def clock(seconds: float) -> str:
    """A position in a session: mm:ss.s."""
    minutes, rest = divmod(max(0.0, seconds), 60)
    return f"{int(minutes):02d}:{rest:04.1f}"


def source_lines(sources: Iterable[tuple[str, str]], queries: Sequence[str]) -> list[str]:
    """Where a grounded answer comes from: a line per page (title and link), and the searches run."""
    lines = [f"  source: {title} <{uri}>" if title else f"  source: <{uri}>" for title, uri in sources]
    if queries:
        lines.append("  searched: " + "; ".join(queries))
    return lines


def columns(rows: Sequence[Sequence[str]], right: Iterable[int] = ()) -> list[str]:
    """Rows of cells as lines of aligned columns, two spaces apart, for the list commands; the
    columns numbered in `right` are aligned right. Nothing trails a line."""
    right = set(right)
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))] if rows else []
    return [
        "  ".join(
            cell.rjust(width) if i in right else cell.ljust(width) for i, (cell, width) in enumerate(zip(row, widths))
        ).rstrip()
        for row in rows
    ]
