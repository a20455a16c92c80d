"""The linear echo canceller alone (what the guard sends where a user speaks over the model):
it cancels a room's echo linearly, leaves a voice over it whole without learning from it,
and follows a delay change of a few samples when told."""

import numpy as np
import pytest

from livecli.audio.echo_figures import erle_db, voice_over
from livecli.audio.echo_probe import speech_like
from livecli.audio.linear_echo import LinearEcho
from livecli.audio.pcm import clip_int16
from tests.support.echo_signals import USER_DBFS, noise, room_echo

RATE = 16000
CHUNK = 10  # frames of 10 ms per call, as the canceller feeds it


@pytest.fixture(scope="module")
def far():
    return speech_like(14, seed=11)


def run(linear, far, mic):
    """The residual of `mic` (int16), fed a chunk at a time."""
    frames = len(far) // 160
    f, m = far[: frames * 160].reshape(frames, 160), mic[: frames * 160].reshape(frames, 160)
    out = [linear.process(f[i : i + CHUNK], m[i : i + CHUNK])[0] for i in range(0, frames, CHUNK)]
    return np.concatenate(out).ravel()


def test_cancels_a_room_echo_and_leaves_a_voice_over_it_whole(far):
    echo = room_echo(far) + noise(len(far))
    voice = speech_like(2.5, seed=5, level_dbfs=USER_DBFS)
    start = 10 * RATE
    with_voice = echo.copy()
    with_voice[start : start + len(voice)] += voice
    residual = run(LinearEcho(), far, clip_int16(with_voice))
    assert erle_db(echo, residual, start_s=6, end_s=10) > 18  # linear only: AEC3's suppressor does more
    kept = voice_over(residual, voice, start)
    assert kept.heard and abs(kept.kept_db) < 1.0, kept  # nothing of the voice is taken
    assert erle_db(echo, residual, start_s=12.6) > 18  # it did not learn the voice as echo


def test_a_delay_change_of_a_few_samples_is_followed_when_told(far):
    echo = room_echo(far) + noise(len(far))
    moved_at, samples = 8 * RATE, 3
    moved = echo.copy()
    moved[moved_at + samples :] = echo[moved_at : len(echo) - samples]  # the echo 3 samples later
    mic = clip_int16(moved)
    told, untold = LinearEcho(), LinearEcho()
    run(told, far[:moved_at], mic[:moved_at])
    run(untold, far[:moved_at], mic[:moved_at])
    told.shift(samples)
    after_told = run(told, far[moved_at:], mic[moved_at:])
    after_untold = run(untold, far[moved_at:], mic[moved_at:])
    assert erle_db(moved[moved_at:], after_told, end_s=2) > 18
    assert erle_db(moved[moved_at:], after_untold, end_s=2) < 12  # what a re-alignment a little off costs


def test_a_delay_reading_that_flickers_costs_nothing(far):
    """On a pure loopback the tracker's delay can flicker between two readings 12-23 samples
    apart for a tenth of a second or more (the path never moved): the canceller keeps cancelling,
    where shifting its taps on each reading once sent the model's voice back (CI, 2026-12-02)."""
    echo = room_echo(far) + noise(len(far))
    mic = clip_int16(echo)
    linear, at, until = LinearEcho(), 8 * RATE, 9 * RATE
    run(linear, far[:at], mic[:at])
    linear.shift(-12)  # a reading 12 samples sooner...
    during = run(linear, far[at:until], mic[at:until])
    linear.shift(12)  # ...and back
    after = run(linear, far[until:], mic[until:])
    assert erle_db(echo[at:until], during) > 18
    assert erle_db(echo[until:], after) > 18


def test_its_output_lags_as_much_as_asked():
    mic = speech_like(1.0, seed=3)
    silent = np.zeros_like(mic)
    residual = run(LinearEcho(delay=128), silent, mic)
    assert np.array_equal(residual[128:], mic[: len(residual) - 128])
