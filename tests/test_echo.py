"""Echo control offline: the canceller on synthetic echo paths (delay, gain, reverb, noise,
other formats, clock drift, gaps, a late reference), on a laptop in a room whose path moves
(by xruns, and unseen), double talk, `auto` choosing by what the microphone hears, the
half-duplex gate, the fallback when no canceller is installed, timestamps, and the echo-path
report."""

from types import SimpleNamespace

import numpy as np
import pytest

from livecli.audio import aec_backends, echo, echo_canceller, portaudio
from livecli.audio.echo import AutoEcho, HalfDuplexGate, NoEcho, make_echo
from livecli.audio.echo_canceller import EchoCanceller
from livecli.audio.echo_figures import (
    VAD_THRESHOLD,
    convergence_s,
    erle_db,
    erle_windows,
    frame_rms,
    model_alone,
    vad_onsets,
    voice_over,
)
from livecli.audio.echo_path import PathTracker
from livecli.audio.echo_probe import analyse, speech_like
from livecli.audio.echo_recording import replay
from livecli.formats import ECHO_MODES
from tests.support.echo_signals import (
    USER_DBFS,
    Xruns,
    noise,
    path_moves,
    room_echo,
    room_scene,
    simulate_echo,
    synthetic_recording,
)

RATE = 16000
needs_aec = pytest.mark.skipif(
    not aec_backends.available(), reason="no echo canceller installed (pip install pywebrtc-audio)"
)


@pytest.fixture(scope="module")
def far():
    return speech_like(20, seed=11)


@pytest.fixture(scope="module")
def voice():
    return speech_like(2.5, seed=5, level_dbfs=-22)


def after(x, seconds):
    return x[int(seconds * RATE) :]


def drop_blocks(blocks, start_s, end_s):
    """Remove the blocks a synthetic recording (which starts at 1000 s) has in [start_s, end_s):
    a device that delivered nothing meanwhile."""
    for i in reversed([i for i, t in enumerate(blocks.at) if start_s <= t - 1000 < end_s]):
        for field in (blocks.pcm, blocks.at, blocks.arrived, blocks.xrun):
            del field[i]


# -- the canceller --------------------------------------------------------------------------------


@needs_aec
def test_cancels_a_room_echo_within_two_seconds(far):
    mic = simulate_echo(far, delay_ms=60, gain=0.3, reverb_ms=15)
    canceller = EchoCanceller()
    out = replay(synthetic_recording(far, mic), canceller)

    assert len(out.raw) - len(out.sent) <= echo_canceller.HOLD_FRAMES * 160  # the speaker stopped: the last wait
    assert vad_onsets(after(out.raw, 2))  # without it the server would hear speech...
    assert vad_onsets(out.sent) == []  # ...with it, never, not even while converging
    assert erle_db(out.raw, out.sent, start_s=2) >= 25
    assert convergence_s(out.raw, out.sent) <= 2.0
    assert frame_rms(after(out.sent, 2)).max() < VAD_THRESHOLD / 2
    assert canceller.stats.missing_reference_frames <= 1


@needs_aec
def test_a_voice_over_the_echo_still_reaches_the_server(far, voice):
    mic = simulate_echo(far, delay_ms=60, gain=0.3)
    at = 8 * RATE
    mic[at : at + len(voice)] += voice
    out = replay(synthetic_recording(far, mic), EchoCanceller())

    onsets = vad_onsets(out.sent)
    alone = [8 + t for t in vad_onsets(voice)]
    assert onsets and abs(onsets[0] - alone[0]) <= 0.1, (onsets, alone)  # heard at once
    spoken = slice(at, at + len(voice))
    kept = frame_rms(out.sent[spoken]) > VAD_THRESHOLD
    alone = frame_rms(voice) > VAD_THRESHOLD
    # about half of what VAD hears of the voice alone survives (AEC3 alone: 64 of 116 frames;
    # its residual-echo guard takes 8 more, where the echo predicted is as loud as the voice)
    assert kept.sum() >= 0.45 * alone.sum()
    level = 10 * np.log10(np.sum(out.sent[spoken].astype(float) ** 2) / np.sum(voice.astype(float) ** 2))
    assert level > -6


@needs_aec
@pytest.mark.parametrize(
    "case",
    [
        dict(far_rate=48000, far_channels=2),  # a speaker that only takes 48 kHz stereo
        dict(far_rate=44100, far_channels=1),
        dict(jitter_ms=10),  # callbacks' timestamps jittering by ±10 ms
        dict(out_latency_s=0.15, in_latency_s=0.1),  # Bluetooth-like buffers
    ],
    ids=["48k-stereo", "44k1", "jitter", "long-latency"],
)
def test_formats_and_timestamp_quirks(far, case):
    mic = simulate_echo(far, delay_ms=30, gain=0.4)
    out = replay(synthetic_recording(far, mic, **case), EchoCanceller())
    assert erle_db(out.raw, out.sent, start_s=2) >= 25
    assert vad_onsets(after(out.sent, 2)) == []


@needs_aec
def test_clock_drift_is_followed(far, monkeypatch):
    """The microphone's clock runs 300 ppm fast: 6 ms apart after 20 s. AEC3 follows drift
    itself; the read position jumps back only when it leaves the range AEC3 covers (narrowed
    here so that 20 s are enough to see it happen)."""
    monkeypatch.setattr(echo_canceller, "LATE_S", 0.0015)
    monkeypatch.setattr(echo_canceller, "EARLY_S", 0.0015)
    monkeypatch.setattr(echo_canceller, "SETTLE_S", 1.0)
    mic = simulate_echo(far, delay_ms=40, gain=0.3)
    canceller = EchoCanceller()
    out = replay(synthetic_recording(far, mic, mic_clock_ppm=300), canceller)
    assert canceller.stats.drift_corrections >= 2
    assert canceller.stats.realignments == 0
    assert erle_db(out.raw, out.sent, start_s=2) >= 25
    assert vad_onsets(after(out.sent, 2)) == []


@needs_aec
def test_speaker_gap_and_reopened_microphone(far):
    """The speaker delivers nothing for 1 s (a reopened device); later the microphone loses
    0.5 s. Both timelines re-anchor and the echo stays cancelled."""
    mic = simulate_echo(far, delay_ms=60, gain=0.3)
    recording = synthetic_recording(far, mic)
    drop_blocks(recording.far, 6.0, 7.0)
    drop_blocks(recording.near, 12.0, 12.5)
    canceller = EchoCanceller()
    out = replay(recording, canceller)
    assert canceller.stats.realignments <= 2
    # echo the reference never had (during the speaker's gap) cannot be cancelled; the rest is
    windows = erle_windows(out.raw, out.sent, window_s=1.0)
    good = [w for i, w in enumerate(windows) if i >= 2 and not 5 <= i <= 8 and np.isfinite(w)]
    assert min(good) >= 20 and np.median(good) >= 30


@pytest.mark.slow
@needs_aec
def test_a_speaker_away_for_longer_than_the_reference_history_is_cancelled_again(far):
    """The speaker reports nothing for 7 s (a device reopened after a long loss), more than the
    2 s of reference kept. Once it plays again the echo is cancelled again within a second."""
    far = far.copy()
    far[6 * RATE : 13 * RATE] = 0
    mic = simulate_echo(far, delay_ms=60, gain=0.3)
    recording = synthetic_recording(far, mic)
    drop_blocks(recording.far, 6.0, 13.0)
    out = replay(recording, EchoCanceller())
    back = erle_windows(out.raw[14 * RATE :], out.sent[14 * RATE :], window_s=1.0)
    assert min(back) >= 20 and np.median(back) >= 30
    assert vad_onsets(after(out.sent, 14)) == []


@needs_aec
def test_a_reference_reported_late_holds_the_frame_instead_of_guessing(far):
    """The speaker's blocks are reported only 5 ms before they play and the microphone's
    20 ms blocks 1 ms after capture: the reference for the last frames of a chunk is not
    there yet. Those frames wait for the next call; nothing is processed without it."""
    mic = simulate_echo(far, delay_ms=10, gain=0.3)
    recording = synthetic_recording(far, mic, out_latency_s=0.005, in_latency_s=0.001, jitter_ms=0.5)
    canceller = EchoCanceller()
    out = replay(recording, canceller)
    assert canceller.stats.held_frames > 0
    assert canceller.stats.missing_reference_frames <= 1
    assert len(out.raw) - len(out.sent) <= echo_canceller.HOLD_FRAMES * 160  # only the last frames still wait
    assert erle_db(out.raw, out.sent, start_s=2) >= 25


@needs_aec
def test_no_speaker_at_all_passes_the_microphone(voice):
    canceller = EchoCanceller()
    chunks = [voice[i : i + 1600].tobytes() for i in range(0, len(voice) - 1599, 1600)]
    out = b"".join(canceller.near_end(chunk, 100.0 + i * 0.1) for i, chunk in enumerate(chunks))
    sent = np.frombuffer(out, dtype=np.int16)
    assert len(sent) == len(chunks) * 1600
    assert vad_onsets(sent)  # the user is heard
    assert canceller.stats.held_frames == 0


@needs_aec
def test_livekit_backend_if_installed(far):
    pytest.importorskip("livekit")
    mic = simulate_echo(far, delay_ms=60, gain=0.3)
    out = replay(synthetic_recording(far, mic), EchoCanceller(backend="livekit"))
    assert erle_db(out.raw, out.sent, start_s=2) >= 25


# -- a laptop in a room, its echo path moving --------------------------------------------------------


@pytest.fixture(scope="module")
def model_talks():
    return speech_like(40, seed=11)


@needs_aec
@pytest.mark.parametrize("moves", [None, "xrun", "path"])
def test_the_room_never_hears_the_model_even_when_its_path_moves(model_talks, moves):
    """The room (RT60 0.37 s, a distorting speaker, the echo louder than a user would be), its
    path moving by 10 ms every 8 s: by livecli's own underruns and overflows (the timestamps
    step), or where nothing reports it. Not one frame sent while only the model speaks is
    above the service's speech threshold, not even while the canceller converges."""
    scene = room_scene(model_talks, moves=moves)
    canceller = EchoCanceller()
    out = replay(scene.recording, canceller)
    figures = model_alone(out.raw, out.sent, scene.alone, moves_s=scene.moves_s)
    assert vad_onsets(out.raw)  # the echo alone would be heard as speech...
    assert figures.self_interruptions == 0  # ...once sent, never
    assert figures.frames_over == 0
    assert figures.erle_db >= 30
    assert all(r is not None and r <= 0.3 for r in figures.recovery_s), figures.recovery_s
    if moves == "xrun":  # the speaker's underruns are re-aligned from its timestamps, at once
        assert canceller.stats.steps == len(scene.moves_s)
        assert canceller.stats.moves == len(Xruns.alternating(40).overflows)  # the microphone's: found
    else:  # moves nothing reports are found in the signals; a steady path is left alone
        assert canceller.stats.moves == len(scene.moves_s) and canceller.stats.steps == 0


@needs_aec
@pytest.mark.parametrize("step_ms", [0.75, 1.5, 3.0])
def test_a_small_unseen_step_of_the_path_is_followed_at_once(step_ms):
    """A sound server correcting drift steps the path by a millisecond or so, nothing reports
    it, and the echo's peak moves by a few samples only. Left to follow that itself, AEC3 lost
    the echo then or seconds later (frames at RMS 600-900 here, 665 in a CI run through the
    rig): a step of half a millisecond and more is a move, and the reference is shifted."""
    scene = room_scene(speech_like(20, seed=14), moves="path", move_ms=step_ms)
    canceller = EchoCanceller()
    out = replay(scene.recording, canceller)
    figures = model_alone(out.raw, out.sent, scene.alone, moves_s=scene.moves_s)
    assert figures.self_interruptions == 0 and figures.frames_over == 0, figures
    assert canceller.stats.moves == len(scene.moves_s)


@needs_aec
def test_an_echo_jumping_50_ms_sooner_is_followed(far):
    """A starving PulseAudio stream's echo jumped 50.1 and 50.5 ms sooner, nothing in the
    timestamps (two rig takes, one CI's failing one): beyond the 50 ms a move is followed, so AEC3
    had to find it itself and let the echo through for seconds. The frames before a window can
    show the jump still get through; from 0.2 s on, none."""
    echo = path_moves(simulate_echo(far[: 10 * RATE], delay_ms=80), [5.0], ms=-50.5)
    canceller = EchoCanceller()
    sent = replay(synthetic_recording(far[: 10 * RATE], echo, RATE), canceller).sent
    assert canceller.stats.moves == 1
    assert frame_rms(after(sent, 5.2)).max() < VAD_THRESHOLD


@pytest.mark.parametrize("noise_dbfs", [-60.0, -22.0], ids=["quiet", "noisy"])
def test_a_move_is_found_within_half_a_second_even_where_the_echo_correlates_weakly(noise_dbfs):
    """Through real devices a room's echo correlates weakly with what was played (GCC-PHAT peaks
    of 0.2-0.3, as loud noise makes them here): windows that agree on the new delay, the old
    one gone, are a move as surely as one clear peak. (Waiting for a clear one found the move
    3.8 s late in the noisy room, and AEC3 had begun to follow it by then.)"""
    far = speech_like(8, seed=11)
    delay, moved_at, chunk = 800, 4.0, RATE // 10
    echo = path_moves(np.concatenate([np.zeros(delay), room_echo(far)])[: len(far)], [moved_at])
    mic = echo + noise(len(far), level_dbfs=noise_dbfs)
    tracker, found = PathTracker(), []
    reference = np.concatenate([np.zeros(tracker.window + tracker.reach), far])  # fed up to `end`
    for end in range(chunk, len(far) + 1, chunk):
        moved = tracker.check(mic[end - chunk : end], reference[: end + len(reference) - len(far)])
        if moved:
            found.append((end / RATE, moved))
    ((at, moved),) = found
    assert moved == RATE // 100 and moved_at < at <= moved_at + 0.5


@needs_aec
def test_a_user_speaking_over_the_moving_room_is_heard_at_once(model_talks):
    voices = tuple((at, speech_like(2.5, seed=5 + i, level_dbfs=USER_DBFS)) for i, at in enumerate((3.0, 7.5, 11.5)))
    scene = room_scene(model_talks[: 16 * RATE], voices=voices, moves="path")
    out = replay(scene.recording, EchoCanceller())
    for start, voice in scene.voices:
        heard = voice_over(out.sent, voice, start)
        assert heard.heard and heard.heard_after_ms <= 200, heard
        assert heard.kept_db > -8, heard  # AEC3's own double-talk suppression: see benchmarks/README.md
    assert model_alone(out.raw, out.sent, scene.alone).self_interruptions == 0


@needs_aec
@pytest.mark.parametrize("echo_path", [True, False], ids=["laptop", "headphones"])
def test_auto_cancels_only_what_the_microphone_hears(model_talks, echo_path):
    """`auto`: with headphones the microphone goes out untouched once the model has spoken a
    little (AEC3 would take 7.5 dB off the user's voice); in the room, the canceller."""
    voices = ((4.0, speech_like(2.5, seed=5, level_dbfs=USER_DBFS)),)
    scene = room_scene(model_talks[: 8 * RATE], voices=voices, echo_path=echo_path)
    control = make_echo("auto").control
    assert isinstance(control, AutoEcho) and control.mode == "aec" and "checking" in control.reason
    out = replay(scene.recording, control)
    start, voice = scene.voices[0]
    kept = voice_over(out.sent, voice, start).kept_db
    if echo_path:
        assert control.mode == "aec" and control.reason == echo.HEARD
        assert model_alone(out.raw, out.sent, scene.alone).frames_over == 0
    else:
        assert control.mode == "off" and "does not hear" in control.reason
        assert kept == pytest.approx(0.0, abs=0.5)
        assert np.array_equal(out.sent[start:], out.raw[start : len(out.sent)])


@needs_aec
@pytest.mark.parametrize("pitches_hz", [(440.0,), (261.6, 329.6, 392.0)], ids=["tone", "chord"])
def test_auto_keeps_cancelling_a_tone_whose_echo_it_cannot_place(pitches_hz):
    """The model playing a tone or a chord (a chime, a jingle): a phase transform shows no peak
    for its echo. `auto` took that as headphones, sent the microphone untouched and the model
    interrupted itself; but the microphone is loud, and that is no sign of headphones."""
    t = np.arange(8 * RATE) / RATE
    far = sum(np.sin(2 * np.pi * pitch * t) for pitch in pitches_hz) * 8000 / len(pitches_hz)
    scene = room_scene(far.astype(np.int16))
    control = make_echo("auto").control
    out = replay(scene.recording, control)
    assert control.mode == "aec" and "checking" in control.reason
    assert model_alone(out.raw, out.sent, scene.alone).self_interruptions == 0


@needs_aec
def test_auto_keeps_cancelling_an_echo_it_can_no_longer_place(model_talks):
    """A machine short of time: the speaker starves and the sound server plays what it gets on
    its own schedule (here 100 ms blocks in another order), so what livecli played no longer
    correlates with its echo. The microphone is as loud as ever: that is no sign of headphones
    (`auto` took it as one in the rig test under two CPU hogs, and the model heard itself)."""
    far = model_talks[: 12 * RATE]
    blocks = far[4 * RATE :].reshape(-1, RATE // 10)
    played = np.concatenate([far[: 4 * RATE], blocks[np.random.default_rng(1).permutation(len(blocks))].ravel()])
    mic = room_echo(played) + noise(len(played), seed=3)
    control = make_echo("auto").control
    replay(synthetic_recording(far, mic, RATE, seed=3), control)
    assert control.mode == "aec" and control.reason == echo.HEARD


@needs_aec
def test_a_lost_stretch_of_audio_keeps_the_echo_where_it_was_until_it_shows_again(far):
    """The speaker ran dry for 300 ms (a device reopened looks the same): whether the microphone
    hears the speaker is checked anew, but the guard keeps the echo's delay meanwhile (it used to
    forget it, and hold nothing back until the tracker found the echo again)."""
    canceller = EchoCanceller()
    replay(synthetic_recording(far[: 4 * RATE], simulate_echo(far[: 4 * RATE]), RATE), canceller)
    delay = canceller.tracker.delay
    canceller.far_end(far[4 * RATE : 4 * RATE + 1600].tobytes(), 1004.3)  # 300 ms after the last block
    canceller.near_end(bytes(3200), 1004.0)
    assert canceller.stats.reopened == 1 and canceller.tracker.heard is None
    assert delay is not None and canceller.tracker.delay == delay


@needs_aec
def test_an_echo_found_again_nearby_after_a_lost_stretch_is_followed_at_once(far):
    """The speaker ran dry for 300 ms and the echo came back 22 ms sooner (a sound server's
    loopback made anew does this): the reference is shifted to where AEC3 had converged, as for
    any move. Settling on the new delay silently left AEC3 to find it itself, and it let the echo
    through 1.5 s later (CI's moving-loopback talk test heard it at RMS 757; here 422)."""
    xruns = Xruns(underruns=(4.0,), ms=300)
    mic = path_moves(simulate_echo(xruns.played(far)[: 10 * RATE]), [4.15], ms=-22)
    canceller = EchoCanceller()
    sent = replay(synthetic_recording(far[: 10 * RATE], mic, RATE, xruns=xruns), canceller).sent
    assert canceller.stats.reopened == 1 and canceller.stats.moves == 1
    assert frame_rms(after(sent, 4.3)).max() < 200


@needs_aec
def test_auto_checks_again_when_the_devices_change(model_talks):
    scene = room_scene(model_talks[: 6 * RATE], echo_path=False)
    control = make_echo("auto").control
    replay(scene.recording, control)
    assert control.mode == "off"
    control.far_end(bytes(960 * 2), 2000.0, rate=48000, channels=2)  # another speaker, 48 kHz stereo
    control.near_end(bytes(3200), 2000.0)
    assert control.mode == "aec" and control.reason == echo.CHECKING_AGAIN


# -- modes, fallback, half duplex -----------------------------------------------------------------


def test_without_a_canceller_aec_falls_back_to_half_duplex_with_a_hint(monkeypatch):
    def missing(rate, noise_suppression):
        raise ImportError("No module named 'pywebrtc_audio'")

    monkeypatch.setattr(aec_backends, "BACKENDS", {"pywebrtc-audio": missing, "livekit": missing})
    for mode in ("aec", "auto"):
        choice = make_echo(mode)
        assert isinstance(choice.control, HalfDuplexGate) and choice.mode == "half-duplex"
        assert "\n" not in choice.notice
        assert "pipx inject livecli pywebrtc-audio" in choice.notice
        assert "no echo canceller" in choice.control.reason
    assert make_echo("off").notice is None and isinstance(make_echo("off").control, NoEcho)


@needs_aec
def test_make_echo_modes():
    assert echo.MODES == ECHO_MODES and ECHO_MODES[0] == "auto"  # settings checks the same tuple
    assert isinstance(make_echo().control, AutoEcho)
    assert isinstance(make_echo("aec").control, EchoCanceller) and make_echo("aec").notice is None
    assert isinstance(make_echo("half-duplex").control, HalfDuplexGate)
    for mode in ("aec", "half-duplex", "off"):  # forced: the status line says so
        control = make_echo(mode).control
        assert control.mode == mode and control.reason.startswith("chosen")
    with pytest.raises(ValueError):
        make_echo("loud")


def test_half_duplex_mutes_while_the_speaker_plays_and_a_tail_after():
    gate = HalfDuplexGate(tail_ms=300)
    loud = speech_like(1.0, 24000, seed=2)
    block = 240  # 10 ms at 24 kHz
    for i in range(0, len(loud) - block + 1, block):
        gate.far_end(loud[i : i + block].tobytes(), 10.0 + i / 24000, rate=24000)
    chunk = (np.ones(1600, dtype=np.int16) * 3000).tobytes()
    assert gate.near_end(chunk, 9.8) == chunk  # before the model spoke
    assert gate.near_end(chunk, 10.5) == bytes(len(chunk))  # while it speaks
    assert gate.near_end(chunk, 11.2) == bytes(len(chunk))  # in the tail
    assert gate.near_end(chunk, 11.35) == chunk  # after it
    silence = bytes(480)
    gate.far_end(silence, 12.0, rate=24000)  # silence played does not mute
    assert gate.near_end(chunk, 12.0) == chunk


def test_half_duplex_interrupt_key_opens_at_once():
    gate = HalfDuplexGate(tail_ms=300)
    loud = speech_like(0.5, 16000, seed=3)
    gate.far_end(loud.tobytes(), 20.0)
    chunk = (np.ones(1600, dtype=np.int16) * 3000).tobytes()
    assert gate.near_end(chunk, 20.2) == bytes(len(chunk))
    gate.open_now(20.25)
    gate.far_end(loud[:160].tobytes(), 20.3)  # already in the device when the key was hit
    assert gate.near_end(chunk, 20.3) == chunk


def test_no_echo_passes_everything():
    control = NoEcho()
    control.far_end(b"\x10\x00" * 160, 1.0)
    assert control.near_end(b"\x01\x02" * 800, 1.0) == b"\x01\x02" * 800


# -- timestamps -----------------------------------------------------------------------------------


def test_portaudio_timestamps_map_to_monotonic():
    info = SimpleNamespace(currentTime=1.7e9, outputBufferDacTime=1.7e9 + 0.025, inputBufferAdcTime=1.7e9 - 0.03)
    assert portaudio.dac_time(info, now=50.0) == pytest.approx(50.025)
    assert portaudio.adc_time(info, now=50.0) == pytest.approx(49.97)
    zero = SimpleNamespace(currentTime=0.0, outputBufferDacTime=0.0, inputBufferAdcTime=0.0)
    assert portaudio.dac_time(zero, now=50.0, fallback_latency=0.04) == pytest.approx(50.04)
    assert portaudio.adc_time(zero, now=50.0, fallback_latency=0.01, block_s=0.02) == pytest.approx(49.97)


# -- the echo path report (devices test --echo) ---------------------------------------------------


@needs_aec
def test_echo_report_on_a_synthetic_path():
    far = speech_like(6, seed=7)
    mic = simulate_echo(far, delay_ms=45, gain=0.3)
    report = analyse(synthetic_recording(far, mic))
    assert report.delay_ms == pytest.approx(45, abs=2)
    assert report.echo_level_db == pytest.approx(-10.5, abs=1.5)
    assert report.erle_db >= 25
    assert report.mode == "aec" and report.reason == echo.HEARD
    assert report.self_interruptions == 0 and report.residual_max < VAD_THRESHOLD
    assert report.recovery_s is not None and report.recovery_s <= 0.3  # after a 10 ms move made in it
    assert report.voice_kept_db > -6 and report.voice_heard_after_ms <= 100
    assert report.verdict.startswith("echo cancelled") and report.ok
    lines = dict(line.split("  ", 1) for line in report.lines() if "  " in line)
    assert {"echo delay", "auto", "ERLE", "heard", "path moved", "your voice"} <= {key.strip() for key in lines}


@needs_aec
def test_echo_report_without_echo():
    far = speech_like(8, seed=7)
    quiet = np.random.default_rng(0).standard_normal(len(far)) * 3
    report = analyse(synthetic_recording(far, quiet))
    assert report.delay_ms is None and report.erle_db is None
    assert report.mode == "off" and report.voice_kept_db == pytest.approx(0, abs=0.5)  # untouched
    assert report.verdict.startswith("no echo") and report.ok


@needs_aec
def test_echo_report_when_the_echo_is_not_cancelled(monkeypatch):
    """A canceller that lets the echo through: the verdict says so, with the way out."""
    from livecli.audio import echo_guard

    monkeypatch.setattr(aec_backends._PyWebrtcAudio, "process", lambda self, near, far: near, raising=False)
    monkeypatch.setattr(echo_guard, "ATTENUATION_DB", 0.0)
    far = speech_like(6, seed=7)
    report = analyse(synthetic_recording(far, simulate_echo(far, delay_ms=45, gain=0.3)))
    assert report.self_interruptions > 0 and not report.ok
    assert report.verdict.startswith("echo not cancelled") and "half-duplex" in report.verdict
