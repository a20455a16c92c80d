"""Libraries' own noise never reaches the terminal: only livecli's lines do."""

import ctypes
import subprocess
import sys
import textwrap

import pytest

from livecli.audio import alsa, portaudio

RESAMPLERS_SET_ASIDE = textwrap.dedent(
    """
    import gc
    from livecli.audio.echo import make_echo
    from livecli.audio.resample import StreamResampler

    echo = make_echo("aec").control
    echo.far_end(bytes(480), 0.0, rate=24000)
    echo.near_end(bytes(3200), 0.0)  # the canceller's reference resampler starts
    # Held in a reference cycle, as the talk session holds its speaker and echo control...
    session = {"echo": echo, "speaker_resampler": StreamResampler(24000, 48000)}
    session["self"] = session
    gc.freeze()  # ...and set aside for good, as talk does
    """
)


def test_alsa_error_lines_are_silenced_once_portaudio_is_loaded(capfd):
    try:
        libasound = ctypes.CDLL(alsa.LIBRARY)
    except OSError:
        pytest.skip("no libasound here: nothing to silence")
    portaudio.sounddevice()
    pcm = ctypes.c_void_p()
    assert libasound.snd_pcm_open(ctypes.byref(pcm), b"livecli_no_such_device", 0, 0) < 0  # ALSA's error path
    assert "ALSA lib" not in capfd.readouterr().err


def test_without_libasound_nothing_is_installed(monkeypatch):
    monkeypatch.setattr(alsa, "_handler", None)
    monkeypatch.setattr(alsa, "LIBRARY", "liblivecli_no_such_library.so")
    assert alsa.silence() is False


def test_no_nanobind_leak_report_at_exit_with_resamplers_set_aside_by_gc_freeze():
    """talk freezes its session (gc.freeze): what it holds is never collected, and soxr's
    nanobind objects still alive at exit made nanobind print 'leaked 1 instances!' (17 lines)."""
    done = subprocess.run([sys.executable, "-c", RESAMPLERS_SET_ASIDE], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
