"""Echo paths without devices, for the tests and benchmarks/echo_rig.py: what a microphone
hears of a speaker (`simulate_echo`), a `Recording` as PortAudio would deliver it
(`synthetic_recording`), and where the fake Live server's VAD would hear speech start
(`vad_onsets`). The speech-like signal itself is the product's probe (`speech_like`)."""

from __future__ import annotations

import numpy as np

from livecli.audio.echo_figures import frame_rms
from livecli.audio.echo_probe import VAD_THRESHOLD
from livecli.audio.echo_recording import Blocks, Recording
from livecli.audio.pcm import amplitude, clip_int16, from_mono
from livecli.audio.resample import StreamResampler
from livecli.formats import INPUT_RATE

VAD_SILENCE_MS = 500.0  # the fake Live server's: this much quiet ends speech


def simulate_echo(
    far: np.ndarray,
    rate: int = INPUT_RATE,
    *,
    delay_ms: float = 60.0,
    gain: float = 0.3,
    reverb_ms: float = 15.0,
    reverb_level: float = 0.15,
    noise_dbfs: float = -70.0,
    seed: int = 1,
) -> np.ndarray:
    """What a microphone hears of `far` (int16): delayed, scaled, with a small room's decaying
    reflections and a noise floor; float64 in int16 units."""
    rng = np.random.default_rng(seed)
    length = int(rate * max(reverb_ms * 5, 1) / 1000)
    ir = np.zeros(length)
    ir[0] = 1.0
    ir[1:] += rng.standard_normal(length - 1) * np.exp(-np.arange(length - 1) / (reverb_ms * rate / 1000)) * reverb_level
    echo = np.convolve(far.astype(np.float64), ir * gain)[: len(far)]
    shift = int(round(delay_ms * rate / 1000))
    echo = np.concatenate([np.zeros(shift), echo])[: len(far)]
    return echo + rng.standard_normal(len(far)) * amplitude(noise_dbfs)


def vad_onsets(x: np.ndarray, rate: int = INPUT_RATE, *, threshold: float = VAD_THRESHOLD, silence_ms: float = VAD_SILENCE_MS) -> list[float]:
    """Where the fake Live server's energy VAD would say "speech starts" (s): a 10 ms frame with
    RMS above `threshold` after at least `silence_ms` of frames below it."""
    onsets, speaking, quiet = [], False, 0.0
    for i, rms in enumerate(frame_rms(x, rate)):
        if rms > threshold:
            if not speaking:
                onsets.append(i * 0.01)
                speaking = True
            quiet = 0.0
        elif speaking:
            quiet += 10.0
            if quiet >= silence_ms:
                speaking = False
    return onsets


def synthetic_recording(
    far: np.ndarray,
    mic: np.ndarray,
    rate: int = INPUT_RATE,
    *,
    start: float = 1000.0,
    out_latency_s: float = 0.03,
    in_latency_s: float = 0.03,
    jitter_ms: float = 5.0,
    mic_clock_ppm: float = 0.0,
    far_rate: int | None = None,
    far_channels: int = 1,
    seed: int = 3,
) -> Recording:
    """A `Recording` as PortAudio would deliver `far` (played from `start` on) and `mic` (whose
    sample i is what the microphone heard at `start + i / rate`): 10 ms speaker blocks and 20 ms
    microphone blocks with jittered callback timestamps. `mic_clock_ppm` makes the microphone's
    clock run fast by that much (its samples are taken further apart in real time than its
    rate says); `far_rate`/`far_channels` play the reference in another format (e.g. 48 kHz
    stereo) like a device that refuses 24 kHz mono."""
    rng = np.random.default_rng(seed)
    jitter = lambda: rng.uniform(-jitter_ms, jitter_ms) / 1000  # noqa: E731
    far_rate = far_rate or rate
    far_pcm = far
    if far_rate != rate:
        far_pcm = np.frombuffer(StreamResampler(rate, far_rate).process(far.tobytes(), last=True), dtype=np.int16)
    far_pcm = np.frombuffer(from_mono(far_pcm.tobytes(), far_channels), dtype=np.int16)
    far_blocks = Blocks(far_rate, far_channels)
    step = far_rate // 100 * far_channels
    for j in range(len(far_pcm) // step):
        played_at = start + j * 0.01
        far_blocks.add(far_pcm[j * step : (j + 1) * step].tobytes(), played_at + jitter(), played_at - out_latency_s + abs(jitter()))
    if mic_clock_ppm:
        scale = 1 + mic_clock_ppm * 1e-6
        positions = np.arange(int(len(mic) / scale)) * scale
        mic = np.interp(positions, np.arange(len(mic)), mic.astype(np.float64))
    mic = clip_int16(np.asarray(mic, dtype=np.float64))
    near_blocks = Blocks(rate, 1)
    size = rate // 50
    scale = 1 + mic_clock_ppm * 1e-6
    for k in range(len(mic) // size):
        captured_at = start + k * 0.02 * scale
        near_blocks.add(mic[k * size : (k + 1) * size].tobytes(), captured_at + jitter(), captured_at + 0.02 + in_latency_s + abs(jitter()))
    return Recording(far_blocks, near_blocks, "synthetic speaker", "synthetic microphone")
