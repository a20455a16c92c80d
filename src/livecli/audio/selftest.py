"""`livecli devices test`: record, meter, play back, judge, through the same
Microphone and Speaker that `talk` uses (same format fallbacks, same resampling).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import numpy as np

from livecli.audio.pcm import amplitude, clip_int16
from livecli.audio.resample import StreamResampler
from livecli.audio.streams import Microphone, Speaker
from livecli.formats import INPUT_RATE, OUTPUT_RATE, SAMPLE_BYTES

METER_CHUNK_MS = 50
TONE_HZ = 440.0
TONE_S = 1.0
TONE_DBFS = -12.0


async def record(mic: Microphone, seconds: float, on_chunk: Callable[[float], None]) -> bytes:
    """Up to `seconds` of 16 kHz mono; less if the device stops delivering."""
    wanted = int(mic.rate * seconds) * SAMPLE_BYTES
    captured = bytearray()

    async def collect():
        async for chunk, _ in mic.chunks():
            captured.extend(chunk)
            on_chunk(mic.level_dbfs)
            if len(captured) >= wanted:
                return

    mic.start()
    try:
        await asyncio.wait_for(collect(), timeout=seconds + 3.0)
    except TimeoutError:
        pass
    finally:
        mic.close()
    return bytes(captured[:wanted])


async def play(speaker: Speaker, pcm24k: bytes) -> bool:
    """Play 24 kHz mono to the end; False if it did not finish in time."""
    speaker.start()
    try:
        speaker.play(pcm24k)
        speaker.end_of_turn()
        deadline = asyncio.get_running_loop().time() + len(pcm24k) / SAMPLE_BYTES / OUTPUT_RATE + 2.0
        while speaker.active:
            if asyncio.get_running_loop().time() > deadline:
                return False
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.1)  # the last block leaves the device
        return True
    finally:
        speaker.close()


def to_speaker_rate(pcm16k: bytes) -> bytes:
    return StreamResampler(INPUT_RATE, OUTPUT_RATE).process(pcm16k, last=True)


def tone(seconds: float = TONE_S, freq: float = TONE_HZ, dbfs: float = TONE_DBFS, rate: int = OUTPUT_RATE) -> bytes:
    """A sine with 10 ms fades, so it starts and ends without a click."""
    t = np.arange(int(rate * seconds)) / rate
    wave = amplitude(dbfs) * np.sin(2 * np.pi * freq * t)
    fade = min(len(t) // 2, rate // 100)
    ramp = np.linspace(0.0, 1.0, fade)
    wave[:fade] *= ramp
    wave[len(t) - fade :] *= ramp[::-1]
    return clip_int16(wave).tobytes()
