"""Facts every layer shares: the Live API's audio formats and how text is shortened.

At the bottom of the house: it imports nothing of livecli's, so the audio,
connection, storage and UI packages can all use it without importing each other.
"""

from __future__ import annotations

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
