"""Echo paths without devices, for the tests and benchmarks/echo_rig.py: what a microphone
hears of a speaker -- a simple path (`simulate_echo`) or a laptop in a room (`room_echo`: a
simulated room impulse response, a loudspeaker that distorts loud passages, noise) -- and a
`Recording` as PortAudio would deliver it (`synthetic_recording`), with the path moving if
asked: by an xrun of livecli's own streams (`xruns`: the timestamps show it) or somewhere
livecli cannot see (`path_moves`: a sound server correcting drift, a Bluetooth device).
The speech-like signal itself is the product's probe (`speech_like`)."""

from __future__ import annotations

import dataclasses
import functools

import numpy as np

from livecli.audio.echo_figures import active_rms
from livecli.audio.echo_recording import Blocks, Recording
from livecli.audio.pcm import amplitude, clip_int16, from_mono
from livecli.audio.resample import StreamResampler
from livecli.formats import INPUT_RATE

# A laptop on a table in a small room: speaker and microphone 30 cm apart.
ROOM_RT60_S = 0.37
ROOM_M = (4.0, 3.5, 2.7)
SPEAKER_AT_M = (1.8, 1.6, 0.85)
MIC_AT_M = (2.1, 1.6, 0.9)
SPEAKER_DISTORTION = 0.03  # total harmonic distortion of the loud passages
ROOM_NOISE_DBFS = -60.0
USER_DBFS = -26.0  # the user's voice at the microphone (active RMS)
ECHO_OVER_USER_DB = 2.0  # the speaker is louder at the microphone than the user
MOVE_EVERY_S = 8.0  # the path moves this often...
MOVE_MS = 10.0  # ...by one speaker block: later, then sooner again
TIMESTAMP_JITTER_MS = 0.3  # PortAudio's timestamps on PulseAudio: 0.05-0.2 ms apart from smooth (measured)


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
    ir[1:] += (
        rng.standard_normal(length - 1) * np.exp(-np.arange(length - 1) / (reverb_ms * rate / 1000)) * reverb_level
    )
    echo = np.convolve(far.astype(np.float64), ir * gain)[: len(far)]
    shift = int(round(delay_ms * rate / 1000))
    echo = np.concatenate([np.zeros(shift), echo])[: len(far)]
    return echo + rng.standard_normal(len(far)) * amplitude(noise_dbfs)


@functools.cache
def room_response(rate: int = INPUT_RATE) -> np.ndarray:
    """The impulse response from the speaker to the microphone (image source method,
    pyroomacoustics), RT60 `ROOM_RT60_S`; the direct sound arrives first, at full scale 1."""
    import pyroomacoustics as pra  # noqa: PLC0415 - a test dependency, and slow to import

    absorption, max_order = pra.inverse_sabine(ROOM_RT60_S, ROOM_M)
    room = pra.ShoeBox(ROOM_M, fs=rate, materials=pra.Material(absorption), max_order=max_order)
    room.add_source(SPEAKER_AT_M)
    room.add_microphone(MIC_AT_M)
    room.compute_rir()
    response = np.asarray(room.rir[0][0], dtype=np.float64)
    peak = int(np.argmax(np.abs(response)))
    response = response[max(0, peak - rate // 1000) :]  # pyroomacoustics' own 2.5 ms of lead
    return response / np.abs(response).max()


def loudspeaker(x: np.ndarray, *, distortion: float = SPEAKER_DISTORTION) -> np.ndarray:
    """A small speaker's soft saturation: `distortion` THD on a sine as loud as the signal's
    loud passages (its 99.9th percentile), more above, little below."""
    x = np.asarray(x, dtype=np.float64)
    loud = float(np.percentile(np.abs(x), 99.9)) or 1.0
    drive = np.sqrt(12 * distortion) / loud  # tanh's third harmonic: (drive * A)^2 / 12
    return np.tanh(drive * x) / drive


def room_echo(
    played: np.ndarray, rate: int = INPUT_RATE, *, level_dbfs: float = USER_DBFS + ECHO_OVER_USER_DB
) -> np.ndarray:
    """What the microphone hears of `played` (int16) in the room: through the loudspeaker and
    the room, scaled to `level_dbfs` where it is active; float64 in int16 units, no noise."""
    response = room_response(rate)
    n = len(played)
    size = 1 << int(np.ceil(np.log2(n + len(response))))
    echo = np.fft.irfft(np.fft.rfft(loudspeaker(played), size) * np.fft.rfft(response, size), size)[:n]
    return echo * amplitude(level_dbfs) / (active_rms(echo) or 1.0)


def noise(n: int, *, level_dbfs: float = ROOM_NOISE_DBFS, seed: int = 2) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(n) * amplitude(level_dbfs)


def move_times(seconds: float, *, every_s: float = MOVE_EVERY_S) -> list[float]:
    """When the path moves in `seconds`: every `every_s`, from `every_s` on."""
    return [every_s * (i + 1) for i in range(int(seconds // every_s)) if every_s * (i + 1) < seconds]


def path_moves(signal: np.ndarray, times: list[float], rate: int = INPUT_RATE, *, ms: float = MOVE_MS) -> np.ndarray:
    """`signal` (the echo at the microphone) moved by `ms` at each of `times`, alternately later
    and sooner again, with no sign of it anywhere else: one block repeated, then one dropped."""
    step = int(round(ms * rate / 1000))
    shift = np.zeros(len(signal), dtype=np.int64)
    for k, t in enumerate(times):
        shift[int(t * rate) :] += step if k % 2 == 0 else -step
    index = np.clip(np.arange(len(signal)) - shift, 0, len(signal) - 1)
    return np.asarray(signal)[index]


@dataclasses.dataclass(frozen=True)
class Xruns:
    """livecli's own streams glitching: at each of `underruns` (s) the speaker's device ran dry
    for `ms` (what follows plays that much later); at each of `overflows` the microphone lost
    `ms` of audio. PortAudio flags the block after, and its timestamps show the step."""

    underruns: tuple[float, ...] = ()
    overflows: tuple[float, ...] = ()
    ms: float = MOVE_MS

    @classmethod
    def alternating(cls, seconds: float, *, every_s: float = MOVE_EVERY_S, ms: float = MOVE_MS) -> Xruns:
        """An underrun (the echo comes later), then an overflow (sooner again), and so on."""
        times = move_times(seconds, every_s=every_s)
        return cls(tuple(times[0::2]), tuple(times[1::2]), ms)

    def played(self, far: np.ndarray, rate: int = INPUT_RATE) -> np.ndarray:
        """What the speaker's device really played of `far`: silence where it ran dry."""
        step = int(round(self.ms * rate / 1000))
        parts, last = [], 0
        for t in sorted(self.underruns):
            at = int(t * rate)
            parts += [far[last:at], np.zeros(step, dtype=far.dtype)]
            last = at
        return np.concatenate(parts + [far[last:]])

    def after(self, times: tuple[float, ...], t: float) -> int:
        return sum(1 for x in times if x <= t)


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
    xruns: Xruns | None = None,
    seed: int = 3,
) -> Recording:
    """A `Recording` as PortAudio would deliver `far` (played from `start` on) and `mic` (whose
    sample i is what the microphone heard at `start + i / rate`): 10 ms speaker blocks and 20 ms
    microphone blocks with jittered callback timestamps. `mic_clock_ppm` makes the microphone's
    clock run fast by that much (its samples are taken further apart in real time than its
    rate says); `far_rate`/`far_channels` play the reference in another format (e.g. 48 kHz
    stereo) like a device that refuses 24 kHz mono. With `xruns`, `mic` must hold the echo of
    `xruns.played(far)`; the speaker's blocks after an underrun play later, and the microphone
    loses what it heard during an overflow."""
    rng = np.random.default_rng(seed)
    jitter = lambda: rng.uniform(-jitter_ms, jitter_ms) / 1000  # noqa: E731
    xruns = xruns or Xruns()
    far_rate = far_rate or rate
    far_pcm = far
    if far_rate != rate:
        far_pcm = np.frombuffer(StreamResampler(rate, far_rate).process(far.tobytes(), last=True), dtype=np.int16)
    far_pcm = np.frombuffer(from_mono(far_pcm.tobytes(), far_channels), dtype=np.int16)
    far_blocks = Blocks(far_rate, far_channels)
    step = far_rate // 100 * far_channels
    late = 0
    for j in range(len(far_pcm) // step):
        now_late = xruns.after(xruns.underruns, j * 0.01)
        played_at = start + j * 0.01 + now_late * xruns.ms / 1000
        far_blocks.add(
            far_pcm[j * step : (j + 1) * step].tobytes(),
            played_at + jitter(),
            played_at - out_latency_s + abs(jitter()),
            xrun=now_late > late,
        )
        late = now_late
    if mic_clock_ppm:
        scale = 1 + mic_clock_ppm * 1e-6
        positions = np.arange(int(len(mic) / scale)) * scale
        mic = np.interp(positions, np.arange(len(mic)), mic.astype(np.float64))
    mic = clip_int16(np.asarray(mic, dtype=np.float64))
    lost = int(round(xruns.ms * rate / 1000))
    kept = np.ones(len(mic), dtype=bool)
    for t in xruns.overflows:
        kept[int(t * rate) : int(t * rate) + lost] = False
    times = np.flatnonzero(kept)  # the real time (in samples) of each sample delivered
    mic = mic[kept]
    near_blocks = Blocks(rate, 1)
    size = rate // 50
    scale = 1 + mic_clock_ppm * 1e-6
    for k in range(len(mic) // size):
        first = int(times[k * size])
        captured_at = start + first / rate * scale
        gap = np.diff(times[max(0, k * size - 1) : (k + 1) * size]).max(initial=1) > 1
        near_blocks.add(
            mic[k * size : (k + 1) * size].tobytes(),
            captured_at + jitter(),
            captured_at + 0.02 + in_latency_s + abs(jitter()),
            xrun=bool(gap),
        )
    return Recording(far_blocks, near_blocks, "synthetic speaker", "synthetic microphone")


@dataclasses.dataclass
class Scene:
    """A synthetic recording of the room with what is known about it, on the timeline of the
    microphone as delivered (what `replay` returns as `raw`)."""

    recording: Recording
    alone: np.ndarray  # per 10 ms frame: only the model speaks (no user, the model has begun)
    moves_s: tuple[float, ...]  # when the echo path moved
    voices: list[tuple[int, np.ndarray]]  # (first sample, the voice alone) of each user utterance


def room_scene(
    far: np.ndarray,
    *,
    moves: str | None = None,
    voices: tuple[tuple[float, np.ndarray], ...] = (),
    echo_path: bool = True,
    move_ms: float = MOVE_MS,
    rate: int = INPUT_RATE,
    seed: int = 3,
) -> Scene:
    """The model saying `far` (int16 at `rate`) in the room, the user saying each of `voices`
    ((at_s, int16)) over it, noise at ROOM_NOISE_DBFS; the path moving every MOVE_EVERY_S by
    `moves="xrun"` (livecli's own streams: alternately an underrun and an overflow) or
    `moves="path"` (elsewhere, unseen; by `move_ms`); `echo_path=False`: headphones."""
    seconds = len(far) / rate
    xruns = Xruns.alternating(seconds) if moves == "xrun" else Xruns()
    played = xruns.played(far, rate)
    mic = room_echo(played, rate) if echo_path else np.zeros(len(played))
    if moves == "path":
        mic = path_moves(mic, move_times(seconds), rate, ms=move_ms)
    mic = mic + noise(len(mic), seed=seed)
    for at, voice in voices:
        start = int(at * rate)
        mic[start : start + len(voice)] += voice[: len(mic) - start]
    recording = synthetic_recording(far, mic, rate, xruns=xruns, jitter_ms=TIMESTAMP_JITTER_MS, seed=seed)
    lost = lambda t: xruns.after(xruns.overflows, t) * xruns.ms / 1000  # noqa: E731 - mic time lost before t
    moved = tuple(t - lost(t - 1e-3) for t in move_times(seconds)) if moves else ()
    delivered = [(int((at - lost(at)) * rate), voice) for at, voice in voices]
    frames = len(mic) // (rate // 100)
    alone = np.zeros(frames, dtype=bool)
    begins = np.flatnonzero(np.abs(far) > 100)
    alone[int(begins[0] / rate * 100) if begins.size else frames :] = True
    for start, voice in delivered:
        alone[start * 100 // rate : (start + len(voice)) * 100 // rate + 50] = False  # + the VAD's hangover
    return Scene(recording, alone, moved, delivered)
