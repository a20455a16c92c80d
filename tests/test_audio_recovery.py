"""Device recovery and format fallbacks, against a scripted stand-in for sounddevice.

The stand-in runs each stream's callback on its own thread at the stream's
real block rate, and lets a test kill a stream (PortAudio ends it and calls
`finished_callback`), stall it (callbacks stop, the stream still says it is
active), make devices refuse formats or vanish, and swap the device list on a
re-scan. The watch thread's timings are shortened so each case takes well
under a second or two. The same paths run for real in test_audio_recovery_e2e.py.
"""

import asyncio
import sys
import threading
import time
import types

import numpy as np
import pytest

from livecli.audio import device_stream, portaudio
from livecli.audio.opening import StreamFormat
from livecli.audio.streams import Microphone, Speaker
from livecli.errors import AudioError

INVALID_RATE = -9997
INVALID_CHANNELS = -9998
UNAVAILABLE = -9985


class PortAudioError(Exception):
    def __str__(self):  # as sounddevice's: the message, not the argument tuple
        return self.args[0]


class Flags:
    input_overflow = False
    output_underflow = False


class TimeInfo:
    """PortAudio's callback times; zeros, as host APIs without timing give (livecli falls back)."""

    inputBufferAdcTime = currentTime = outputBufferDacTime = 0.0


def device(index, name, ins=2, outs=2, rate=48000.0):
    return dict(
        index=index, name=name, hostapi=0, max_input_channels=ins, max_output_channels=outs, default_samplerate=rate
    )


class World:
    """What the fake PortAudio sees; tests change it while streams run."""

    def __init__(self):
        self.devices = [device(0, "USB Mic"), device(1, "default", rate=44100.0)]
        self.next_devices = None  # takes effect at the next re-scan
        self.refuse = {}  # name -> callable(rate, channels) -> error code or None
        self.streams = []
        self.opens = []  # (name, rate, channels) of every attempt
        self.rescans = 0

    def module(self):
        world = self

        class Stream:
            def __init__(
                self, kind, samplerate, blocksize, device, channels, dtype, latency, callback, finished_callback=None
            ):
                info = world.devices[device]
                world.opens.append((info["name"], samplerate, channels))
                code = world.refuse.get(info["name"], lambda r, c: None)(samplerate, channels)
                if code is not None:
                    raise PortAudioError(f"Error opening Raw{kind}Stream: refused [PaErrorCode {code}]", code)
                self.kind, self.name, self.rate, self.channels = kind, info["name"], samplerate, channels
                self.blocksize, self.callback, self.finished = blocksize, callback, finished_callback
                self.stalled = self.dead = self.closed = False
                self.running = False
                self.played = bytearray()
                self._phase = 0

            def start(self):
                self.running = True
                world.streams.append(self)
                threading.Thread(target=self._run, daemon=True).start()

            def _run(self):
                period = self.blocksize / self.rate
                while self.running and not self.dead:
                    time.sleep(period)
                    if self.stalled or not self.running or self.dead:
                        continue
                    if self.kind == "Input":
                        self.callback(self._sine_block(), self.blocksize, TimeInfo(), Flags())
                    else:
                        out = bytearray(self.blocksize * self.channels * 2)
                        self.callback(memoryview(out), self.blocksize, TimeInfo(), Flags())
                        self.played += out
                if self.finished:
                    self.finished()

            def _sine_block(self):
                n = np.arange(self._phase, self._phase + self.blocksize)
                self._phase += self.blocksize
                mono = (8000 * np.sin(2 * np.pi * 440 * n / self.rate)).astype(np.int16)
                return np.repeat(mono, self.channels).tobytes()

            @property
            def active(self):
                return self.running and not self.dead

            def kill(self):
                self.dead = True

            def abort(self):
                self.running = False

            def close(self):
                self.running = False
                self.closed = True
                if self in world.streams:
                    world.streams.remove(self)

        def query_devices(kind=None):
            if kind is None:
                return list(world.devices)
            for info in world.devices:
                if info["name"] == "default":
                    return info
            raise PortAudioError("Error querying device -1", -9996)

        def terminate():
            assert not world.streams, "PortAudio terminated under open streams"
            world.rescans += 1
            if world.next_devices is not None:
                world.devices, world.next_devices = world.next_devices, None

        return types.SimpleNamespace(
            PortAudioError=PortAudioError,
            RawInputStream=lambda **kw: Stream("Input", **kw),
            RawOutputStream=lambda **kw: Stream("Output", **kw),
            query_devices=query_devices,
            query_hostapis=lambda: ({"name": "Fake"},),
            _terminate=terminate,
            _initialize=lambda: None,
        )

    def live(self, name):
        return [s for s in self.streams if s.name == name and not s.closed]


@pytest.fixture
def world(monkeypatch):
    world = World()
    monkeypatch.setitem(sys.modules, "sounddevice", world.module())
    monkeypatch.setattr(device_stream, "WATCH_S", 0.01)
    monkeypatch.setattr(device_stream, "STALL_S", 0.2)
    monkeypatch.setattr(device_stream, "FIRST_CALLBACK_S", 0.3)
    monkeypatch.setattr(device_stream, "RETRY_S", (0.05, 0.1))
    monkeypatch.setattr(device_stream, "RETURN_EVERY_S", 0.3)
    monkeypatch.setattr(device_stream, "RESCAN_EVERY_S", 0.0)
    return world


def wait_until(predicate, timeout=3.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return False


async def async_wait_until(predicate, timeout=3.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(0.01)
    return False


def collect(mic, into):
    async def run():
        async for chunk, _ in mic.chunks():
            into.append(chunk)

    return asyncio.create_task(run())


def test_a_dead_microphone_stream_is_reopened_and_chunks_keep_coming(world):
    async def scenario():
        mic = Microphone(None)
        mic.start()
        chunks = []
        task = collect(mic, chunks)
        try:
            assert await async_wait_until(lambda: len(chunks) >= 2)
            world.live("default")[0].kill()
            assert await async_wait_until(lambda: mic.status is not None)
            assert mic.status == "microphone 'default' lost (the stream stopped): reopening…"
            before = len(chunks)
            assert await async_wait_until(lambda: len(chunks) >= before + 3)
            assert await async_wait_until(lambda: mic.status is None)
            return mic.pop_notices()
        finally:
            task.cancel()
            mic.close()

    assert asyncio.run(scenario()) == [
        "microphone 'default' lost (the stream stopped): reopening…",
        "microphone back: 'default' (16000 Hz mono)",
    ]
    assert world.streams == []


def test_a_stalled_speaker_is_reopened_and_play_never_raises_meanwhile(world):
    speaker = Speaker(None)
    speaker.start()
    try:
        first = world.live("default")[0]
        assert wait_until(lambda: len(first.played) > 0)
        world.refuse["default"] = lambda rate, channels: UNAVAILABLE  # down for a while
        first.stalled = True
        assert wait_until(lambda: speaker.status is not None)
        assert speaker.status == "speaker 'default' lost (no audio for 0.2 s): reopening…"
        for _ in range(10):
            speaker.play(bytes(4800))  # while the device is down: dropped, no error
            assert not speaker.active
            time.sleep(0.02)
        del world.refuse["default"]
        assert wait_until(lambda: speaker.format is not None and world.live("default") != [first])
        second = world.live("default")[0]
        tone = (8000 * np.sin(2 * np.pi * 440 * np.arange(2400) / 24000)).astype(np.int16).tobytes()
        speaker.play(tone)
        speaker.end_of_turn()
        assert wait_until(lambda: not speaker.active)
        assert np.abs(np.frombuffer(bytes(second.played), np.int16)).max() > 7000
    finally:
        speaker.close()


def test_underflows_next_to_model_audio_are_told_from_those_in_silence(world):
    speaker = Speaker(None)
    work = speaker._callback(StreamFormat(24000, 1))
    late, on_time = types.SimpleNamespace(output_underflow=True), Flags()

    def block(status):
        work(bytearray(480), status, TimeInfo())

    block(late)  # the device ran dry while only silence was queued: nobody heard it
    speaker.buffer.write(b"\x10\x00" * 720)  # three blocks of the model's voice
    block(on_time)
    block(late)  # a gap in the middle of the answer
    block(on_time)
    block(late)  # right after the answer's last block
    block(late)  # silence again
    assert (speaker.underflows, speaker.audible_underflows) == (4, 2)


def test_the_speaker_tells_its_echo_control_every_block_it_plays_silence_too(world):
    told = []

    class Echo:
        def far_end(self, pcm, played_at, *, rate=None, channels=1, xrun=False):
            told.append((pcm, rate, channels, xrun))

    class Underflow(Flags):
        output_underflow = True

    speaker = Speaker(None, echo=Echo())
    work = speaker._callback(StreamFormat(48000, 2))
    speaker.buffer.write(b"\x10\x00" * 960)  # one block of the model's voice (48 kHz stereo, 10 ms)
    work(bytearray(1920), Flags(), TimeInfo())
    work(bytearray(1920), Flags(), TimeInfo())  # nothing left: silence, still the reference
    work(bytearray(1920), Underflow(), TimeInfo())  # the device ran dry before: the echo may have moved
    assert told == [(b"\x10\x00" * 960, 48000, 2, False), (bytes(1920), 48000, 2, False), (bytes(1920), 48000, 2, True)]


def test_a_lost_chosen_device_falls_back_to_the_default_and_comes_back(world):
    speaker = Speaker("usb")
    speaker.start()
    try:
        world.refuse["USB Mic"] = lambda rate, channels: UNAVAILABLE
        world.live("USB Mic")[0].kill()
        assert wait_until(lambda: speaker.device.name == "default")
        assert speaker.status == "speaker: using the system default 'default' ('usb' is unavailable)"
        time.sleep(0.4)  # return attempts fail while the device is away
        assert speaker.device.name == "default"
        del world.refuse["USB Mic"]
        assert wait_until(lambda: speaker.device.name == "USB Mic")
        assert speaker.status is None
        notices = speaker.pop_notices()
        assert notices[-1] == "speaker back: 'USB Mic' (24000 Hz mono)"
        assert world.live("default") == []  # the fallback stream was closed
    finally:
        speaker.close()


def test_a_device_that_stalls_again_after_reopening_gives_way_to_the_default(world):
    mic = Microphone("usb")

    async def scenario():
        mic.start()
        try:
            for _ in range(2):
                stream = world.live("USB Mic")[0]
                stream.stalled = True
                assert await async_wait_until(lambda stream=stream: world.live("USB Mic") != [stream])
            assert await async_wait_until(lambda: mic.device.name == "default")
        finally:
            mic.close()

    asyncio.run(scenario())


def test_nothing_opens_so_portaudio_rescans_with_every_stream_closed(world):
    speaker = Speaker(None)
    mic = Microphone("usb")

    async def scenario():
        speaker.start()
        mic.start()
        try:
            world.refuse["USB Mic"] = lambda rate, channels: UNAVAILABLE
            world.refuse["default"] = lambda rate, channels: UNAVAILABLE if world.rescans == 0 else None
            replugged = [device(0, "default", rate=44100.0), device(1, "USB Mic (replugged)")]
            world.next_devices = replugged
            world.live("USB Mic")[0].kill()
            # The fake asserts that no stream is open when PortAudio terminates.
            assert await async_wait_until(lambda: world.rescans >= 1)
            assert await async_wait_until(lambda: mic.device.name == "USB Mic (replugged)")
            assert mic.device.index == 1
            assert await async_wait_until(lambda: world.live("USB Mic (replugged)"))
        finally:
            mic.close()
            speaker.close()

    asyncio.run(scenario())


def test_rate_and_mono_refused_opens_native_stereo_and_converts(world):
    world.refuse["USB Mic"] = lambda rate, channels: (
        INVALID_RATE if rate != 48000 else (INVALID_CHANNELS if channels != 2 else None)
    )

    async def scenario():
        mic = Microphone("usb")
        mic.start()
        chunks = []
        task = collect(mic, chunks)
        try:
            assert await async_wait_until(lambda: len(chunks) >= 5)
        finally:
            task.cancel()
            mic.close()
        return mic, chunks

    mic, chunks = asyncio.run(scenario())
    assert world.opens == [("USB Mic", 16000, 1), ("USB Mic", 16000, 2), ("USB Mic", 48000, 1), ("USB Mic", 48000, 2)]
    assert str(mic.last_format) == "48000 Hz stereo"
    signal = np.frombuffer(b"".join(chunks), np.int16)[800:]  # after the resampler's start-up
    assert {len(c) for c in chunks} == {3200}  # 100 ms of 16 kHz mono
    spectrum = np.abs(np.fft.rfft(signal * np.hanning(len(signal))))
    assert abs(np.argmax(spectrum) * 16000 / len(signal) - 440) < 10
    assert 7000 < np.abs(signal).max() < 8100  # the same level: both channels averaged, not summed


def test_a_stereo_only_speaker_gets_the_same_sound_on_both_channels(world):
    world.refuse["default"] = lambda rate, channels: INVALID_CHANNELS if channels != 2 else None
    speaker = Speaker(None)
    speaker.start()
    try:
        stream = world.live("default")[0]
        speaker.play((np.arange(2400) % 100 * 50).astype(np.int16).tobytes())
        speaker.end_of_turn()
        assert wait_until(lambda: not speaker.active)
        frames = np.frombuffer(bytes(stream.played), np.int16).reshape(-1, 2)
        assert np.abs(frames[:, 0]).max() > 4000
        assert np.array_equal(frames[:, 0], frames[:, 1])
    finally:
        speaker.close()


def test_an_unavailable_device_fails_at_once_with_one_line(world):
    world.refuse["USB Mic"] = lambda rate, channels: UNAVAILABLE
    speaker = Speaker("usb")
    with pytest.raises(AudioError) as failure:
        speaker.start()
    assert str(failure.value) == "cannot open speaker 'USB Mic': refused [PaErrorCode -9985]"
    assert world.opens == [("USB Mic", 24000, 1)]  # no point trying other formats
    assert portaudio._open == set()


def test_no_default_device_says_how_to_choose_one(world):
    world.devices = [device(0, "USB Mic")]  # PortAudio's default is -1: "Error querying device -1"
    with pytest.raises(AudioError) as failure:
        Microphone(None)
    assert str(failure.value) == (
        "no default microphone (Error querying device -1); choose one with --input-device or `livecli devices pick`"
    )
    world.devices = [device(0, "HDMI", ins=0)]
    with pytest.raises(AudioError, match="^no microphone found: PortAudio sees none; is a device plugged in"):
        Microphone(None)
