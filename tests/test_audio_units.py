"""Chunking, resampling and the jitter buffer, on synthetic signals."""

import time

import numpy as np
import pytest

from livecli.audio.jitter import JitterBuffer
from livecli.audio.pcm import Chunker, clip_int16, dbfs, level_dbfs
from livecli.audio.resample import StreamResampler


def sine(freq, rate, seconds, amplitude=0.5):
    t = np.arange(int(rate * seconds)) / rate
    return (amplitude * 32767 * np.sin(2 * np.pi * freq * t)).astype(np.int16)


def test_chunker_cuts_20ms_blocks_into_exact_100ms_chunks():
    chunker = Chunker(3200)  # 100 ms at 16 kHz
    signal = sine(440, 16000, 1.0).tobytes()
    chunks = []
    for start in range(0, len(signal), 640):  # 20 ms device blocks
        chunks += chunker.push(signal[start : start + 640])
    assert [len(c) for c in chunks] == [3200] * 10
    assert b"".join(chunks) == signal


def test_chunker_keeps_remainder_for_next_chunk():
    chunker = Chunker(3200)
    assert chunker.push(bytes(3000)) == []
    assert len(chunker.push(bytes(400))) == 1
    assert len(chunker.push(bytes(3000))) == 1  # 200 left + 3000 = one chunk


def test_chunk_start_times_count_back_from_the_end_of_the_block():
    chunker = Chunker(3200)  # 100 ms at 16 kHz
    chunker.push(bytes(1600))  # 50 ms
    chunks = chunker.push(bytes(6000))  # 187.5 ms more, ending at t = 10 s: two chunks, 37.5 ms left
    assert chunker.start_times(chunks, 10.0, 16000) == pytest.approx([9.7625, 9.8625])


def test_level_meter_tracks_loudness():
    assert level_dbfs(bytes(640)) == -96.0
    loud = level_dbfs(sine(440, 16000, 0.02, amplitude=0.5).tobytes())
    quiet = level_dbfs(sine(440, 16000, 0.02, amplitude=0.005).tobytes())
    assert loud == pytest.approx(-9.0, abs=0.5)  # 0.5 amplitude sine: -6 dB peak, -9 dB RMS
    assert quiet == pytest.approx(-49.0, abs=0.5)


def test_dbfs_of_an_amplitude_with_a_floor_for_silence():
    assert dbfs(32768.0) == 0.0
    assert dbfs(3276.8) == pytest.approx(-20.0)
    assert dbfs(0.5) == dbfs(0.0) == -96.0  # below one int16 step: silence, not -inf


def test_clip_int16_rounds_and_stays_in_range():
    out = clip_int16(np.array([-40000.0, -1.6, 0.4, 2.5, 32767.4, 1e9]))
    assert out.dtype == np.int16
    assert out.tolist() == [-32768, -2, 0, 2, 32767, 32767]


@pytest.mark.parametrize("in_rate,out_rate", [(48000, 16000), (44100, 16000), (24000, 48000), (24000, 44100)])
def test_resampler_block_by_block_equals_whole_signal(in_rate, out_rate):
    signal = sine(440, in_rate, 1.0)
    whole = np.frombuffer(StreamResampler(in_rate, out_rate).process(signal.tobytes(), last=True), np.int16)
    streamed = StreamResampler(in_rate, out_rate)
    block = in_rate // 100  # 10 ms blocks
    pieces = [streamed.process(signal[i : i + block].tobytes()) for i in range(0, len(signal), block)]
    pieces.append(streamed.process(b"", last=True))
    blockwise = np.frombuffer(b"".join(pieces), np.int16)
    assert len(blockwise) == len(whole) == out_rate
    assert np.max(np.abs(blockwise.astype(int) - whole.astype(int))) <= 2


def test_resampled_sine_has_no_clicks_at_block_edges():
    streamed = StreamResampler(48000, 16000)
    signal = sine(440, 48000, 0.5)
    out = np.frombuffer(
        b"".join(streamed.process(signal[i : i + 480].tobytes()) for i in range(0, len(signal), 480)), np.int16
    ).astype(int)
    steady = out[200:-200]
    # A 440 Hz sine at 16 kHz moves at most 2*pi*440/16000*A per sample.
    assert np.max(np.abs(np.diff(steady))) <= 2 * np.pi * 440 / 16000 * 0.5 * 32767 * 1.05


def test_same_rate_is_passthrough():
    data = sine(440, 16000, 0.1).tobytes()
    assert StreamResampler(16000, 16000).process(data) == data


def read_block(buffer, size):
    out = bytearray(size)
    n = buffer.read_into(memoryview(out))
    return n, bytes(out)


def test_jitter_buffer_waits_for_preroll_then_plays_in_order():
    buffer = JitterBuffer(preroll_bytes=960)
    buffer.write(b"\x01\x00" * 240)  # 480 bytes: under the pre-roll
    assert read_block(buffer, 480) == (0, bytes(480))
    buffer.write(b"\x02\x00" * 240)
    n, data = read_block(buffer, 480)
    assert n == 480 and data == b"\x01\x00" * 240
    n, data = read_block(buffer, 480)
    assert n == 480 and data == b"\x02\x00" * 240


def test_jitter_buffer_plays_a_short_tail_at_end_of_turn():
    buffer = JitterBuffer(preroll_bytes=960)
    buffer.write(b"\x05\x00" * 100)
    buffer.end_of_turn()
    n, data = read_block(buffer, 480)
    assert n == 200 and data == b"\x05\x00" * 100 + bytes(280)
    assert buffer.underruns == 0


def test_jitter_buffer_counts_a_gap_in_the_middle_of_a_turn():
    buffer = JitterBuffer(preroll_bytes=0)
    buffer.write(bytes(100))
    read_block(buffer, 480)  # ran dry: maybe the turn is over, maybe the network is late
    assert buffer.underruns == 0
    buffer.write(bytes(100))  # it was late: the listener heard a gap
    assert buffer.underruns == 1
    read_block(buffer, 480)
    buffer.end_of_turn()  # it was the end: no gap
    buffer.write(bytes(100))
    assert buffer.underruns == 1


def test_flush_silences_the_very_next_block():
    buffer = JitterBuffer(preroll_bytes=0)
    buffer.write(b"\x10\x10" * 24000)  # a second of loud audio
    assert read_block(buffer, 480)[0] == 480
    dropped = buffer.flush()
    assert dropped == 48000 - 480
    assert read_block(buffer, 480) == (0, bytes(480))
    assert not buffer.active


def test_jitter_buffer_measures_the_wait_of_pieces_that_find_it_empty():
    buffer = JitterBuffer(preroll_bytes=0)
    long_ago = time.monotonic() - 1000  # monotonic time starts near 0 at boot: count back from now
    buffer.write(bytes(480), written_at=long_ago)  # into an empty buffer: measured
    buffer.write(bytes(480), written_at=long_ago + 5)  # queued behind the first: its wait is by design
    read_block(buffer, 960)
    assert len(buffer.latencies) == 1 and buffer.latencies[0] >= 1000
    assert buffer.started_at is not None
    buffer.write(bytes(480), written_at=10**12)  # empty again: measured once played
    buffer.flush()
    read_block(buffer, 480)
    assert len(buffer.latencies) == 1  # a flushed piece was never played
