"""`kill -9` in the middle of a session loses at most the last second; the rest lists and replays."""

import signal
import subprocess
import sys
import wave

import pytest

from livecli.store import SessionStore
from tests.test_store_helpers import raw_db

RECORD = r"""
import sys, time
from pathlib import Path
from livecli import records
from livecli.store import SessionRecorder

recorder = SessionRecorder.open(Path(sys.argv[1]), model="m", voice=None, input_device=None, output_device=None, settings={})
print(recorder.id, flush=True)
user, model = b"\x01\x00" * 1600, b"\x02\x00" * 2400
for i in range(1000):
    time.sleep(max(0.0, recorder.start + 0.1 * (i + 1) - time.monotonic()))  # a microphone's pace
    recorder.audio("user", user, 16000)
    recorder.audio("model", model, 24000)
    if i % 5 == 0:
        recorder.record(records.UserTurn(f"turn {i // 5}"))
    print(f"{time.monotonic() - recorder.start:.3f}", flush=True)  # handed over up to here
"""


@pytest.mark.slow
def test_kill_9_loses_under_a_second_and_leaves_a_replayable_session(tmp_path, isolated_env, run_cli):
    db_dir = tmp_path / "data" / "livecli"
    child = subprocess.Popen(
        [sys.executable, "-c", RECORD, str(db_dir)], stdout=subprocess.PIPE, text=True, env=isolated_env
    )
    session_id = child.stdout.readline().strip()
    handed = 0.0
    while handed < 2.5:
        handed = float(child.stdout.readline())
    child.send_signal(signal.SIGKILL)
    for line in child.stdout:  # whatever it printed before it died
        handed = float(line)
    child.wait()

    [(stored,)] = raw_db(db_dir, "SELECT max(offset_s) FROM audio WHERE stream = 'user'")
    lost_s = handed - stored
    print(f"\nFIGURES kill9 handed_s={handed:.2f} stored_s={stored:.2f} lost_s={lost_s:.2f}")
    assert lost_s < 1.0

    info = SessionStore(db_dir).info(session_id)
    assert info.ended_at is None and info.status in ("recording", "not closed")
    assert info.duration_s >= stored - 0.01

    listed = run_cli("sessions", "list")
    assert listed.returncode == 0, listed.stderr
    assert session_id in listed.stdout and "turn 0" in listed.stdout

    out = tmp_path / "killed.wav"
    exported = run_cli("replay", session_id[:5], "--export", str(out))
    assert exported.returncode == 0, exported.stderr
    with wave.open(str(out)) as wav:
        assert wav.getnchannels() == 2
        assert abs(wav.getnframes() / wav.getframerate() - info.duration_s) < 0.05

    shown = run_cli("sessions", "show", session_id)
    assert shown.returncode == 0 and ("not closed" in shown.stdout or "still recording" in shown.stdout)

    raw_db(db_dir, "UPDATE sessions SET updated_at = updated_at - 10")  # as it reads once the heartbeat is missed
    assert SessionStore(db_dir).info(session_id).status == "not closed"
    assert "[not closed] turn 0" in run_cli("sessions", "list").stdout
