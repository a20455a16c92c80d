"""What a test recording says about the microphone, in numbers and in one plain sentence.

Levels are measured on 50 ms frames of the 16 kHz mono signal livecli would
send: the quietest frames are the background (noise floor), the loudest are
the user's voice. The thresholds are generous: the Live service hears speech
well from about -40 dBFS up, and full-scale samples mean the input is clipping.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from livecli.audio.pcm import dbfs
from livecli.formats import FULL_SCALE, INPUT_RATE, SILENCE_DBFS

FRAME_MS = 50
NO_SIGNAL_DBFS = -70.0  # loudest frames below this: digital silence or a disconnected input
TOO_QUIET_DBFS = -40.0  # loud frames below this: the voice is too faint
MIN_SPEECH_OVER_NOISE_DB = 10.0  # loud frames must stand this far above the background
NOISY_FLOOR_DBFS = -45.0
CLIP_FRACTION = 0.0005  # of samples at full scale


@dataclasses.dataclass(frozen=True)
class Levels:
    seconds: float
    peak_dbfs: float
    rms_dbfs: float
    noise_floor_dbfs: float  # 10th percentile of frame RMS
    loud_dbfs: float  # 95th percentile of frame RMS: the voice
    clipped_samples: int
    clipped_fraction: float


@dataclasses.dataclass(frozen=True)
class Verdict:
    ok: bool
    text: str


def measure(pcm: bytes, rate: int = INPUT_RATE) -> Levels:
    samples = np.frombuffer(pcm, dtype=np.int16).astype(np.float64)
    if samples.size == 0:
        return Levels(0.0, SILENCE_DBFS, SILENCE_DBFS, SILENCE_DBFS, SILENCE_DBFS, 0, 0.0)
    frame = rate * FRAME_MS // 1000
    if samples.size >= frame:
        frames = samples[: samples.size // frame * frame].reshape(-1, frame)
    else:
        frames = samples.reshape(1, -1)
    frame_rms = np.sqrt(np.mean(frames**2, axis=1))
    clipped = int(np.count_nonzero((samples >= FULL_SCALE - 1) | (samples <= -FULL_SCALE)))
    return Levels(
        seconds=samples.size / rate,
        peak_dbfs=dbfs(float(np.max(np.abs(samples)))),
        rms_dbfs=dbfs(float(np.sqrt(np.mean(samples**2)))),
        noise_floor_dbfs=dbfs(float(np.percentile(frame_rms, 10))),
        loud_dbfs=dbfs(float(np.percentile(frame_rms, 95))),
        clipped_samples=clipped,
        clipped_fraction=clipped / samples.size,
    )


def judge(levels: Levels) -> Verdict:
    """The first problem found, in the order a user should fix them."""
    if levels.seconds == 0 or levels.loud_dbfs < NO_SIGNAL_DBFS:
        return Verdict(
            False,
            "no signal: the microphone delivers silence; check it is connected, not muted, "
            "and the one livecli uses (`livecli devices`)",
        )
    if levels.clipped_fraction > CLIP_FRACTION:
        return Verdict(False, "clipping: lower the input gain (or move away from the microphone)")
    if levels.loud_dbfs - levels.noise_floor_dbfs < MIN_SPEECH_OVER_NOISE_DB:
        if levels.noise_floor_dbfs > NOISY_FLOOR_DBFS:
            return Verdict(
                False,
                f"too noisy: the background is at {levels.noise_floor_dbfs:.0f} dBFS, "
                "as loud as speech; reduce the noise or the input gain",
            )
        return Verdict(False, "no speech heard: nothing louder than the background; speak during the test")
    if levels.loud_dbfs < TOO_QUIET_DBFS:
        return Verdict(False, "too quiet: raise input gain (or speak closer to the microphone)")
    return Verdict(True, "microphone OK")
