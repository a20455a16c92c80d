"""Recording a talk session as it happens.

`record()` and `audio()` are called on the asyncio loop, which must never wait
for the disk: they only time-stamp the item and put it on a bounded queue. A
writer thread inserts the items and commits every COMMIT_EVERY_S, so a killed
process loses at most that much plus what was still queued; a full queue (a
stalled disk) drops items and counts them rather than block the loop.
"""

from __future__ import annotations

import json
import queue
import secrets
import sqlite3
import threading
import time
from pathlib import Path

from livecli import records
from livecli.store import schema
from livecli.store.scrub import scrub, scrub_settings

COMMIT_EVERY_S = 0.25
HEARTBEAT_S = 1.0  # an idle session still commits this often: see SessionStore's "recording" status
QUEUE_LIMIT = 5000  # items: minutes of 100 ms chunks
CLOSE_TIMEOUT_S = 10.0
STREAMS = ("user", "model")
PICTURE = "picture"  # a queued picture (apart from the streams and the records)

_ID_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, in ASCII order
_ID_EPOCH = 1704067200  # 2024-01-01: six characters of seconds last until 2058


def new_id(now: float) -> str:
    """Eight characters: six of seconds (ids sort by start), two random."""
    seconds, digits = int(now) - _ID_EPOCH, ""
    for _ in range(6):
        seconds, digit = divmod(seconds, 32)
        digits = _ID_ALPHABET[digit] + digits
    return digits + "".join(secrets.choice(_ID_ALPHABET) for _ in range(2))


class _Close:
    def __init__(self, offset: float, exit_reason: str):
        self.offset = offset
        self.exit_reason = exit_reason


class SessionRecorder:
    """Writes one session: metadata at open, events and audio as they come."""

    def __init__(
        self,
        db: sqlite3.Connection,
        path: Path,
        session_id: str,
        start: float,
        *,
        record_audio: bool,
        record_history: bool,
    ):
        self.id = session_id
        self.start = start  # time.monotonic() at open: offsets are measured from here
        self.record_audio = record_audio
        self.record_history = record_history
        self.dropped = 0  # items lost to a full queue
        self.failure: str | None = None  # set when the database stopped taking writes
        self._db = db
        self._path = path
        self._queue: queue.Queue = queue.Queue(QUEUE_LIMIT)
        self._end_offset = 0.0
        self._closed = False
        self._writer = threading.Thread(target=self._write_loop, name=f"recorder-{session_id}", daemon=True)
        self._writer.start()

    @classmethod
    def open(
        cls,
        db_dir: Path,
        *,
        model: str,
        voice: str | None,
        input_device: str | None,
        output_device: str | None,
        settings: dict,
        record_audio: bool = True,
        record_history: bool = True,
        continues: str | None = None,
    ) -> SessionRecorder:
        """Create the session's row (synchronously: a broken database fails here, as a StoreError).

        Without history nothing said is kept, so no audio either.
        """
        record_audio = record_audio and record_history
        path = schema.db_path(db_dir)
        db = schema.connect(path)
        start, now = time.monotonic(), time.time()
        row = (model, voice, input_device, output_device, json.dumps(scrub_settings(settings), default=str))
        try:
            for _ in range(20):
                session_id = new_id(now)
                try:
                    db.execute(
                        "INSERT INTO sessions (id, started_at, updated_at, model, voice, input_device, output_device,"
                        " settings, record_audio, record_history, continues) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (session_id, now, now, *row, record_audio, record_history, continues),
                    )
                    break
                except sqlite3.IntegrityError:
                    continue  # same second, same random part: draw again
            else:
                raise sqlite3.IntegrityError("no free session id")
        except sqlite3.Error as exc:
            db.close()
            raise schema.describe(exc, path) from None
        return cls(db, path, session_id, start, record_audio=record_audio, record_history=record_history)

    def record(self, record: records.Record) -> None:
        """Store `record` now (serialised on the writer thread: don't mutate its dicts after)."""
        if not self.record_history and isinstance(record, records.CONTENT):
            return
        self._put((time.monotonic() - self.start, record))

    def audio(self, stream: str, pcm: bytes, rate: int, at: float | None = None) -> None:
        """`stream` "user": a chunk sent, `at` when its last sample was captured;
        "model": a chunk received, `at` when it arrived. `at` is time.monotonic()."""
        if not self.record_audio or not pcm:
            return
        if stream not in STREAMS:
            raise ValueError(f"unknown audio stream {stream!r}")
        self._put((stream, (at if at is not None else time.monotonic()) - self.start, rate, bytes(pcm)))

    def picture(self, data: bytes, mime_type: str) -> None:
        """A picture the model was shown, kept with the session (only where audio is kept)."""
        if self.record_audio:
            self._put((PICTURE, time.monotonic() - self.start, mime_type, bytes(data)))

    def close(self, exit_reason: str) -> None:
        """Write what is queued, mark the session ended; waits for the writer (at most CLOSE_TIMEOUT_S)."""
        if self._closed:
            return
        self._closed = True
        offset = time.monotonic() - self.start
        last = [_Close(offset, exit_reason)]
        if self.dropped:
            last.insert(0, (offset, records.Notice(f"{self.dropped} recordings lost: the disk was too slow")))
        try:
            for item in last:
                self._queue.put(item, timeout=CLOSE_TIMEOUT_S)
        except queue.Full:
            pass
        self._writer.join(CLOSE_TIMEOUT_S)
        if not self._writer.is_alive():
            self._db.close()

    def _put(self, item: tuple) -> None:
        if self.failure is not None:
            return
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            self.dropped += 1

    # -- writer thread --------------------------------------------------------------------

    def _write_loop(self) -> None:
        last_commit = time.monotonic()
        pending = False
        while True:
            wait = COMMIT_EVERY_S if pending else HEARTBEAT_S
            try:
                item = self._queue.get(timeout=max(0.0, last_commit + wait - time.monotonic()))
            except queue.Empty:
                item = None
            if self.failure is not None:
                if isinstance(item, _Close):
                    return
                continue
            try:
                if item is not None and not isinstance(item, _Close):
                    if not pending:
                        # IMMEDIATE: the write lock is waited for here (busy_timeout). A deferred BEGIN
                        # made another livecli writing at the same moment a "database is busy" failure
                        # on a loaded machine, and the session lost everything after it.
                        self._db.execute("BEGIN IMMEDIATE")
                        pending = True
                    self._insert(item)
                    if time.monotonic() - last_commit < COMMIT_EVERY_S:
                        continue
                if not pending:
                    self._db.execute("BEGIN IMMEDIATE")
                self._commit(item if isinstance(item, _Close) else None)
            except sqlite3.Error as exc:
                self.failure = str(schema.describe(exc, self._path))
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
            last_commit, pending = time.monotonic(), False
            if isinstance(item, _Close):
                return

    def _insert(self, item: tuple) -> None:
        if item[0] == PICTURE:
            _, offset, mime_type, data = item
            self._db.execute(
                "INSERT INTO pictures (session_id, offset_s, mime_type, data) VALUES (?, ?, ?, ?)",
                (self.id, offset, mime_type, data),
            )
            return
        if item[0] in STREAMS:
            stream, offset, rate, pcm = item
            self._db.execute(
                "INSERT INTO audio (session_id, stream, offset_s, rate, pcm) VALUES (?, ?, ?, ?, ?)",
                (self.id, stream, offset, rate, pcm),
            )
            self._end_offset = max(self._end_offset, offset + (len(pcm) / 2 / rate if stream == "model" else 0.0))
            return
        offset, record = item
        self._db.execute(
            "INSERT INTO events (session_id, offset_s, kind, payload) VALUES (?, ?, ?, ?)",
            (self.id, offset, record.KIND, json.dumps(scrub(records.payload(record)), default=str)),
        )
        self._end_offset = max(self._end_offset, offset)

    def _commit(self, close: _Close | None) -> None:
        now = time.time()
        if close is None:
            self._db.execute(
                "UPDATE sessions SET updated_at = ?, duration_s = ? WHERE id = ?", (now, self._end_offset, self.id)
            )
        else:
            self._db.execute(
                "UPDATE sessions SET updated_at = ?, ended_at = ?, duration_s = ?, exit_reason = ? WHERE id = ?",
                (now, now, max(self._end_offset, close.offset), close.exit_reason, self.id),
            )
        self._db.execute("COMMIT")
