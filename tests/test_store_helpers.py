"""Helpers shared by the store, sessions and replay tests (this module has no tests).

`Scripted` writes a session through the real SessionRecorder as a talk session
would, but at chosen session times: it moves the recorder's start so that
"now" is the moment being scripted.
"""

from __future__ import annotations

import dataclasses
import sqlite3
import time
from pathlib import Path

import numpy as np

from livecli import records
from livecli.store import DB_NAME, SessionRecorder


def noise(seconds: float, rate: int, seed: int, amplitude: int = 6000) -> np.ndarray:
    """Speech-like for cross-correlation: every stretch of it is unlike any other."""
    return (
        (np.random.default_rng(seed).standard_normal(int(round(seconds * rate))) * amplitude / 3)
        .clip(-32767, 32767)
        .astype(np.int16)
    )


class Scripted:
    def __init__(self, db_dir: Path, *, connected: bool = True, **open_args):
        """`connected=False`: the service never accepted the session (a failed start)."""
        args = dict(
            model="gemini-test",
            voice="Puck",
            input_device="pulse",
            output_device=None,
            settings={"model": "gemini-test"},
        )
        args.update(open_args)
        self.recorder = SessionRecorder.open(db_dir, **args)
        self.id = self.recorder.id
        if connected:
            self.record(0.2, records.Connected())

    def _now_is(self, t: float) -> float:
        """Make session time `t` the present; returns the monotonic time of `t`."""
        self.recorder.start = time.monotonic() - t
        return self.recorder.start + t

    def user(self, t0: float, pcm: np.ndarray, chunk_s: float = 0.1) -> None:
        """Microphone chunks captured in real time from `t0` (each stamped when it ends)."""
        n = int(chunk_s * 16000)
        for i in range(0, len(pcm), n):
            chunk = pcm[i : i + n]
            self.recorder.audio("user", chunk.tobytes(), 16000, at=self._now_is(t0 + (i + len(chunk)) / 16000))

    def model(self, t0: float, pcm: np.ndarray, chunk_s: float = 0.08, speed: float = 3.0) -> None:
        """The model's chunks arriving from `t0`, `speed` times faster than real time."""
        n = int(chunk_s * 24000)
        for k, i in enumerate(range(0, len(pcm), n)):
            self.recorder.audio("model", pcm[i : i + n].tobytes(), 24000, at=self._now_is(t0 + k * chunk_s / speed))

    def record(self, t: float, record: records.Record) -> None:
        self._now_is(t)
        self.recorder.record(record)

    def close(self, t: float, reason: str = "user") -> str:
        self._now_is(t)
        self.recorder.close(reason)
        return self.id


@dataclasses.dataclass
class Conversation:
    """What `conversation()` recorded, to check replays against."""

    id: str
    user: list[tuple[float, np.ndarray]]  # (start_s, 16 kHz samples) as heard
    model: list[tuple[float, np.ndarray]]  # (start_s, 24 kHz samples) as heard
    duration_s: float = 8.0


def conversation(db_dir: Path, **open_args) -> Conversation:
    """Two exchanges: the first answer is cut off by the user at 4.0 s; a tool call at the end."""
    a, c = noise(1.5, 16000, 1), noise(1.0, 16000, 3)
    b, d = noise(3.0, 24000, 2), noise(1.5, 24000, 4)
    s = Scripted(db_dir, **open_args)
    s.user(0.5, a)  # "what is the weather like"
    s.model(2.5, b)  # arrives by 3.5 s, would play until 5.5 s
    s.user(3.8, c)  # barge-in
    s.record(4.0, records.Interruption())
    s.record(4.0, records.UserTurn("what is the weather like"))
    s.record(4.0, records.ModelTurn("It is sunny and warm today with a light breeze.", interrupted=True))
    s.model(5.3, d)
    s.record(
        6.8, records.UsageReport(100, 50, 150, prompt_details={"TEXT": 20, "AUDIO": 80}, response_details={"AUDIO": 50})
    )
    s.record(6.8, records.UserTurn("stop please"))
    s.record(6.9, records.ModelTurn("Okay, stopping."))
    s.record(7.0, records.ToolCalled(id="call-1", name="get_weather", args={"city": "Paris"}))
    s.record(
        7.2,
        records.ToolFinished(
            "call-1", "get_weather", {"result": {"temp_c": 21}}, "done", approval="auto", duration_s=0.2
        ),
    )
    s.record(7.3, records.ResumptionHandle("handle-2"))
    session_id = s.close(8.0)
    return Conversation(session_id, user=[(0.5, a), (3.8, c)], model=[(2.5, b[: int(1.5 * 24000)]), (5.3, d)])


def raw_db(db_dir: Path, sql: str, *args) -> list[tuple]:
    """Straight SQL on the session database, around the store."""
    with sqlite3.connect(db_dir / DB_NAME) as db:
        return db.execute(sql, args).fetchall()
