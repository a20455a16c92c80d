"""Libraries' own noise never reaches the terminal: only livecli's lines do."""

import ctypes

import pytest

from livecli.audio import alsa, portaudio


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
