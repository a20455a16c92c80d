"""Device choice by index or name, format fallbacks, channel conversion, the
`devices test` verdict and the `devices pick` chooser, without audio hardware."""

import numpy as np
import pytest

from livecli import settings
from livecli.audio.devices import Device, match
from livecli.audio.opening import StreamFormat, candidate_formats, describe_error
from livecli.audio.pcm import from_mono, to_mono
from livecli.audio.resample import StreamResampler
from livecli.audio.verdict import judge, measure
from livecli.commands.devices import render_table
from livecli.errors import AudioError
from livecli.ui.chooser import Chooser

DEVICES = [
    Device(0, "HDA Intel PCH: ALC257 Analog (hw:0,0)", "ALSA", 2, 2, 48000.0),
    Device(1, "USB Audio Device: - (hw:1,0)", "ALSA", 1, 0, 44100.0),
    Device(2, "pulse", "ALSA", 32, 32, 44100.0),
    Device(3, "default", "ALSA", 32, 32, 44100.0),
    Device(4, "Headset (BT)", "MME", 1, 2, 16000.0),
    Device(5, "Headset (BT)", "WASAPI", 1, 2, 16000.0),
    Device(6, "HDMI 0", "ALSA", 0, 8, 48000.0),
]


@pytest.mark.parametrize(
    "spec,direction,index",
    [
        ("2", "input", 2),
        (" 1 ", "input", 1),
        ("usb", "input", 1),
        ("PULSE", "output", 2),
        ("default", "input", 3),
        ("hdmi", "output", 6),
        ("alc257", "output", 0),
        ("headset", "input", 4),  # one device under two host APIs: the first (default) one
    ],
)
def test_match_by_index_or_case_insensitive_name_part(spec, direction, index):
    assert match(spec, DEVICES, direction).index == index


def test_an_exact_name_wins_over_longer_names_containing_it():
    devices = [Device(0, "Mic", "ALSA", 1, 0, 48000.0), Device(1, "Mic 2", "ALSA", 1, 0, 48000.0)]
    assert match("mic", devices, "input").index == 0


def test_unknown_name_lists_the_candidates_of_that_direction():
    with pytest.raises(AudioError) as failure:
        match("webcam", DEVICES, "input")
    assert str(failure.value) == (
        "no microphone matches 'webcam'; candidates: 0: HDA Intel PCH: ALC257 Analog (hw:0,0) (ALSA), "
        "1: USB Audio Device: - (hw:1,0) (ALSA), 2: pulse (ALSA), 3: default (ALSA), 4: Headset (BT) (MME), "
        "5: Headset (BT) (WASAPI)"
    )


def test_ambiguous_name_lists_only_the_matches():
    with pytest.raises(AudioError) as failure:
        match("a", DEVICES, "output")
    assert str(failure.value).startswith("'a' matches several speakers; candidates: 0: HDA Intel")
    assert "USB" not in str(failure.value)  # no output channels


def test_an_index_of_the_wrong_direction_is_refused():
    with pytest.raises(AudioError, match="no speaker with index 1; candidates: 0: "):
        match("1", DEVICES, "output")


def test_formats_tried_wanted_rate_then_native_then_common_rates_mono_first():
    assert candidate_formats(DEVICES[1], "input", 16000) == [
        StreamFormat(16000, 1),
        StreamFormat(44100, 1),
        StreamFormat(48000, 1),
    ]
    assert candidate_formats(DEVICES[0], "output", 24000) == [
        StreamFormat(24000, 1),
        StreamFormat(24000, 2),
        StreamFormat(48000, 1),
        StreamFormat(48000, 2),
        StreamFormat(44100, 1),
        StreamFormat(44100, 2),
    ]
    assert candidate_formats(DEVICES[6], "input", 16000) == []
    assert str(StreamFormat(44100, 2)) == "44100 Hz stereo"


def test_portaudio_errors_lose_sounddevices_prefix_only():
    class PortAudioError(Exception):
        pass

    assert describe_error(PortAudioError("Error opening RawInputStream: Invalid sample rate [PaErrorCode -9997]")) == (
        "Invalid sample rate [PaErrorCode -9997]"
    )
    assert describe_error(PortAudioError("Device unavailable")) == "Device unavailable"


def test_stereo_is_averaged_to_mono_and_mono_duplicated_to_stereo():
    stereo = np.array([[1000, 3000], [-32768, -32768], [32767, 32767], [5, -5]], np.int16)
    assert np.frombuffer(to_mono(stereo.tobytes(), 2), np.int16).tolist() == [2000, -32768, 32767, 0]
    mono = np.array([7, -7, 32767], np.int16).tobytes()
    assert np.frombuffer(from_mono(mono, 2), np.int16).tolist() == [7, 7, -7, -7, 32767, 32767]
    assert to_mono(mono, 1) == mono and from_mono(mono, 1) == mono


@pytest.mark.parametrize("rate", [44100, 48000])
def test_stereo_capture_block_by_block_equals_the_whole_recording(rate):
    """What Microphone.chunks does to 20 ms stereo blocks, against one conversion of the whole."""
    t = np.arange(rate) / rate
    left = (12000 * np.sin(2 * np.pi * 300 * t)).astype(np.int16)
    right = (12000 * np.sin(2 * np.pi * 300 * t + 0.3)).astype(np.int16)
    stereo = np.column_stack([left, right]).tobytes()
    whole = StreamResampler(rate, 16000).process(to_mono(stereo, 2), last=True)
    streamed = StreamResampler(rate, 16000)
    block = rate // 50 * 4
    pieces = [streamed.process(to_mono(stereo[i : i + block], 2)) for i in range(0, len(stereo), block)]
    pieces.append(streamed.process(b"", last=True))
    a, b = np.frombuffer(whole, np.int16).astype(int), np.frombuffer(b"".join(pieces), np.int16).astype(int)
    assert len(a) == len(b) == 16000
    assert np.max(np.abs(a - b)) <= 2


def sine(seconds, amplitude, freq=300.0, rate=16000):
    t = np.arange(int(rate * seconds)) / rate
    return np.clip(amplitude * 32767 * np.sin(2 * np.pi * freq * t), -32768, 32767).astype(np.int16)


def recording(*parts):
    return np.concatenate(parts).astype(np.int16).tobytes()


def quiet_room(seconds, dbfs=-70.0, seed=1):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(int(16000 * seconds)) * 32768 * 10 ** (dbfs / 20)).astype(np.int16)


def test_levels_are_measured_on_the_signal():
    levels = measure(recording(quiet_room(1.0), sine(1.0, 0.5)))
    assert levels.seconds == pytest.approx(2.0)
    assert levels.peak_dbfs == pytest.approx(-6.0, abs=0.1)
    assert levels.loud_dbfs == pytest.approx(-9.0, abs=0.2)  # RMS of the sine
    assert levels.rms_dbfs == pytest.approx(-12.0, abs=0.2)  # half the time
    assert levels.noise_floor_dbfs == pytest.approx(-70.0, abs=1.5)
    assert levels.clipped_samples == 0


@pytest.mark.parametrize(
    "parts,ok,text",
    [
        ((quiet_room(1.0), sine(1.0, 0.3)), True, "microphone OK"),
        ((np.zeros(32000),), False, "no signal: the microphone delivers silence"),
        ((quiet_room(2.0, dbfs=-85.0),), False, "no signal"),
        ((quiet_room(1.0), sine(1.0, 0.005)), False, "too quiet: raise input gain"),
        ((quiet_room(1.0), sine(1.0, 1.5)), False, "clipping: lower the input gain"),
        ((quiet_room(2.0, dbfs=-30.0),), False, "too noisy: the background is at -30 dBFS"),
        ((sine(2.0, 0.3),), False, "too noisy: the background is at -13 dBFS"),
        ((quiet_room(2.0, dbfs=-60.0),), False, "no speech heard: nothing louder than the background"),
        ((), False, "no signal"),
    ],
)
def test_verdict(parts, ok, text):
    pcm = recording(*parts) if parts else b""
    verdict = judge(measure(pcm))
    assert verdict.ok is ok
    assert verdict.text.startswith(text)


def test_chooser_moves_with_arrows_and_jumps_to_typed_indexes():
    chooser = Chooser([("d", "system default"), ("0", "a"), ("2", "b"), ("12", "c")], position=1)
    assert chooser.press("down") is None and chooser.position == 2
    chooser.press("down"), chooser.press("down")
    assert chooser.position == 3  # stays on the last entry
    chooser.press("up")
    assert chooser.position == 2
    chooser.press("1"), chooser.press("2")
    assert chooser.position == 3 and chooser.typed == "12"
    chooser.press("0")  # "120" is no entry: a fresh "0"
    assert chooser.position == 1
    chooser.press("d")
    assert chooser.position == 0
    assert chooser.lines()[0] == ">   d  system default"
    assert chooser.press("\r") == "done"
    assert Chooser([("d", "x")]).press("\x1b") == "cancel"


def test_table_marks_system_defaults_and_livecli_choices():
    listing = {
        "devices": [
            dict(
                index=0,
                name="pulse",
                hostapi="ALSA",
                input_channels=32,
                output_channels=32,
                default_samplerate=44100.0,
                default_input=False,
                default_output=False,
                livecli_uses=["speaker"],
            ),
            dict(
                index=1,
                name="default",
                hostapi="ALSA",
                input_channels=32,
                output_channels=32,
                default_samplerate=44100.0,
                default_input=True,
                default_output=True,
                livecli_uses=["microphone"],
            ),
        ],
        "microphone": {"spec": None, "source": "system default", "index": 1, "name": "default"},
        "speaker": {"spec": "pulse", "source": "config", "index": 0, "name": "pulse"},
    }
    assert render_table(listing).splitlines() == [
        "#  name     host API  in  out      rate  system default  livecli uses",
        "0  pulse    ALSA      32   32  44100 Hz                  speaker",
        "1  default  ALSA      32   32  44100 Hz  input+output    microphone",
        "microphone: 1 default  (system default)",
        "speaker: 0 pulse  (config: 'pulse')",
    ]


def test_device_settings_accept_names_and_indexes():
    assert settings.parse_value("input_device", 3, source="x") == "3"
    assert settings.parse_value("output_device", " USB ", source="x") == "USB"
