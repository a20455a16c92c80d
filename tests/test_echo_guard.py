"""The residual-echo guard on its own: what it must never send, whatever else goes wrong --
here the echo of a speaker starving in bursts, whose reference no longer says what played when."""

import numpy as np
import pytest

from livecli.audio.echo_figures import VAD_THRESHOLD, frame_rms
from livecli.audio.echo_guard import ResidualGuard
from livecli.audio.echo_probe import speech_like
from livecli.audio.pcm import clip_int16
from tests.support.echo_signals import noise, room_echo

RATE = 16000
CHUNK = 10  # frames of 10 ms per call, as the canceller feeds it
DELAY = 16  # the room's direct sound behind the reference (samples)


@pytest.fixture(scope="module")
def far():
    return speech_like(14, seed=11)


def test_a_speaker_starving_in_bursts_does_not_let_its_echo_through(far):
    """On a loaded machine the speaker underflows every 100 ms and the sound server plays the
    bursts it gets on its own schedule, here 60 ms later than the reference says: AEC3 loses
    the echo. After each such glitch the guard looks for the echo anywhere near its delay, so
    none of it reaches the service's speech threshold (without: frames at RMS 1,000 and more)."""
    frames, at, late = len(far) // 160, 10 * 100, 6
    reference = far[: frames * 160].reshape(frames, 160).copy()
    starved = (np.arange(frames) >= at) & (np.arange(frames) % 10 >= 4)  # four frames played, six ran dry
    reference[starved] = 0
    played = reference.copy()
    played[at + late :] = reference[at : frames - late]
    near = clip_int16(room_echo(played.ravel()) + noise(played.size)).reshape(frames, 160)
    aec3 = near // 1000  # AEC3 cancels...
    aec3[at:] = near[at:] // 2  # ...until the glitches
    guard = ResidualGuard()
    sent = []
    for i in range(0, frames, CHUNK):
        if i >= at:
            guard.alert(starving=True)  # PortAudio flags an underflow every 100 ms
        part = slice(i, i + CHUNK)
        sent.append(guard.process(reference[part], near[part], aec3[part], DELAY))
    loudest = frame_rms(np.concatenate(sent)[at:].ravel()).max()
    assert loudest < VAD_THRESHOLD, loudest
