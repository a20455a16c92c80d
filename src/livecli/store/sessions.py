"""Reading and managing stored sessions: list, look up, search, delete, prune.

Every call opens its own connection, so a `SessionStore` can be used from any
thread (the `search_memory` tool runs in a worker thread) and never holds the
database open between commands. SQLite's failures come out as StoreError.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import json
import re
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from livecli import records
from livecli.pricing import UsageTotals
from livecli.store import schema
from livecli.store.recorder import HEARTBEAT_S
from livecli.store.schema import StoreError

ROLES = {records.UserTurn: "user", records.ModelTurn: "model"}  # as `LiveConnection.send_history` names them
STALE_AFTER_S = 5 * HEARTBEAT_S  # no commit for this long and not ended: the process died
# A session connected if it says so; sessions written before `Connected` existed did if the
# service ever answered (a turn, a usage report, a resumption handle) or audio was sent or heard.
CONNECTED_IF = (records.Connected, *records.TURNS, records.UsageReport, records.ResumptionHandle)
_CONNECTED_SQL = (
    f"(EXISTS (SELECT 1 FROM events e WHERE e.session_id = s.id AND e.kind IN ({', '.join('?' * len(CONNECTED_IF))}))"
    " OR EXISTS (SELECT 1 FROM audio a WHERE a.session_id = s.id))"
)
_CONNECTED_ARGS = tuple(cls.KIND for cls in CONNECTED_IF)


@dataclasses.dataclass(frozen=True)
class SessionInfo:
    id: str
    started_at: float
    ended_at: float | None
    updated_at: float
    duration_s: float
    model: str
    voice: str | None
    input_device: str | None
    output_device: str | None
    settings: dict
    record_audio: bool
    record_history: bool
    continues: str | None
    exit_reason: str | None
    turns: int
    first_words: str
    connected: bool  # the service accepted the session (see CONNECTED_IF)
    failure: str | None  # the last error recorded, if any
    tokens: UsageTotals  # the sum of its usage reports

    @property
    def failed_start(self) -> bool:
        """Over without ever connecting: a refused key, an unreachable service, a bad --tools file…"""
        return not self.connected and self._life != "recording"

    @property
    def status(self) -> str:
        return "failed to start" if self.failed_start else self._life

    @property
    def _life(self) -> str:
        if self.ended_at is not None:
            return "ended"
        return "recording" if time.time() - self.updated_at < STALE_AFTER_S else "not closed"

    @property
    def ending(self) -> str:
        """How it ended, in words: the exit reason, or what became of it."""
        if self.failed_start:
            return f"failed to start: {self.failure}" if self.failure else "failed to start"
        if self.status == "ended":
            return f"ended: {self.exit_reason}" if self.exit_reason else "ended"
        return "still recording" if self.status == "recording" else "not closed (the process was killed or crashed)"

    def as_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data.update(
            status=self.status,
            failed_start=self.failed_start,
            started=_iso(self.started_at),
            ended=_iso(self.ended_at) if self.ended_at else None,
        )
        return data


@dataclasses.dataclass(frozen=True)
class Event:
    """A stored row: its kind and payload as stored, and the record they make (None when the
    payload is damaged, kind `records.UNREADABLE`, or the kind is one this version does not know)."""

    offset_s: float
    kind: str
    data: dict
    record: records.Record | None


class SessionStore:
    def __init__(self, db_dir: Path):
        self.path = schema.db_path(db_dir)

    @contextlib.contextmanager
    def _db(self) -> Iterator[sqlite3.Connection | None]:
        """A connection, or None when nothing was ever recorded (reading must not create the file)."""
        if not self.path.exists():
            yield None
            return
        db = schema.connect(self.path, create=False)
        try:
            yield db
        except sqlite3.Error as exc:
            raise schema.describe(exc, self.path) from None
        finally:
            db.close()

    # -- listing and lookup ---------------------------------------------------------------

    def list_sessions(self, limit: int | None = None, *, since: float | None = None) -> list[SessionInfo]:
        """Newest first; only those started at or after `since` (Unix time) if given."""
        return self._infos(
            "WHERE s.started_at >= ? ORDER BY s.started_at DESC, s.id DESC LIMIT ?",
            (float("-inf") if since is None else since, -1 if limit is None else limit),
        )

    def info(self, session_id: str) -> SessionInfo:
        found = self._infos("WHERE s.id = ?", (session_id,))
        if not found:
            raise StoreError(f"no session '{session_id}'")
        return found[0]

    def _infos(self, where: str, args: tuple) -> list[SessionInfo]:
        with self._db() as db:
            if db is None:
                return []
            rows = db.execute(
                "SELECT s.id, s.started_at, s.ended_at, s.updated_at, s.duration_s, s.model, s.voice, s.input_device,"
                " s.output_device, s.settings, s.record_audio, s.record_history, s.continues, s.exit_reason,"
                " (SELECT count(*) FROM events e WHERE e.session_id = s.id AND e.kind IN (?, ?)),"
                " (SELECT e.payload FROM events e WHERE e.session_id = s.id AND e.kind = ? ORDER BY e.id LIMIT 1),"
                f" {_CONNECTED_SQL},"
                " (SELECT e.payload FROM events e WHERE e.session_id = s.id AND e.kind = ? ORDER BY e.id DESC LIMIT 1)"
                f" FROM sessions s {where}",
                (
                    *(cls.KIND for cls in records.TURNS),
                    records.UserTurn.KIND,
                    *_CONNECTED_ARGS,
                    records.Failure.KIND,
                    *args,
                ),
            ).fetchall()
            usage = _usage_by_session(db, f"SELECT s.id FROM sessions s {where}", args)
        return [
            SessionInfo(
                *row[:9],
                settings=_json(row[9]),
                record_audio=bool(row[10]),
                record_history=bool(row[11]),
                continues=row[12],
                exit_reason=row[13],
                turns=row[14],
                first_words=str(_json(row[15]).get("text", "")).strip(),
                connected=bool(row[16]),
                failure=_json(row[17]).get("message"),
                tokens=usage.get(row[0], UsageTotals()),
            )
            for row in rows
        ]

    def resolve(self, ref: str | None) -> str:
        """The id of the session `ref` names: a unique prefix of its id, or None for the latest
        that connected (a failed start is only ever named by its id)."""
        with self._db() as db:
            if db is None or db.execute("SELECT 1 FROM sessions LIMIT 1").fetchone() is None:
                raise StoreError("no sessions recorded yet")
            if ref is None:
                row = db.execute(
                    f"SELECT s.id FROM sessions s WHERE {_CONNECTED_SQL} ORDER BY s.started_at DESC, s.id DESC LIMIT 1",
                    _CONNECTED_ARGS,
                ).fetchone()
                if row is None:
                    raise StoreError(
                        "no session has connected yet: every recorded one failed to start (`livecli sessions list` shows them)"
                    )
                return row[0]
            prefix = ref.strip().lower()
            matches = []
            if prefix and re.fullmatch(r"[0-9a-z]+", prefix):
                matches = [
                    r[0]
                    for r in db.execute(
                        "SELECT id FROM sessions WHERE substr(id, 1, ?) = ? ORDER BY id", (len(prefix), prefix)
                    )
                ]
        if not matches:
            raise StoreError(f"no session matches '{ref}' (`livecli sessions list` shows them)")
        if len(matches) > 1:
            shown = ", ".join(matches[:5]) + (", …" if len(matches) > 5 else "")
            raise StoreError(f"'{ref}' matches {len(matches)} sessions ({shown}): give more of the id")
        return matches[0]

    def events(self, session_id: str, kinds: tuple[type, ...] | None = None) -> list[Event]:
        """In the order they happened, only of the record classes in `kinds` if given;
        a damaged payload comes back as kind `records.UNREADABLE`."""
        query = "SELECT offset_s, kind, payload FROM events WHERE session_id = ?"
        args: tuple = (session_id,)
        if kinds:
            query += f" AND kind IN ({', '.join('?' * len(kinds))})"
            args += tuple(cls.KIND for cls in kinds)
        with self._db() as db:
            rows = [] if db is None else db.execute(query + " ORDER BY id", args).fetchall()
        found = []
        for offset, kind, payload in rows:
            try:
                data = json.loads(payload)
                if not isinstance(data, dict):
                    raise ValueError("not an object")
            except ValueError:
                found.append(Event(float(offset), records.UNREADABLE, {}, None))
                continue
            found.append(Event(float(offset), kind, data, records.parse(kind, data)))
        return found

    def audio_index(self, session_id: str, stream: str) -> list[tuple[int, float, int, int]]:
        """(chunk id, offset_s, rate, bytes) of each chunk of `stream`, in the order recorded."""
        with self._db() as db:
            if db is None:
                return []
            return db.execute(
                "SELECT id, offset_s, rate, length(pcm) FROM audio WHERE session_id = ? AND stream = ? ORDER BY id",
                (session_id, stream),
            ).fetchall()

    def audio_chunks(self, chunk_ids: list[int]) -> dict[int, bytes]:
        with self._db() as db:
            if db is None or not chunk_ids:
                return {}
            rows = db.execute(f"SELECT id, pcm FROM audio WHERE id IN ({', '.join('?' * len(chunk_ids))})", chunk_ids)
            return {chunk_id: bytes(pcm) for chunk_id, pcm in rows}

    def pictures(self, session_id: str) -> list[tuple[float, str, bytes]]:
        """The pictures kept with a session: (offset_s, mime_type, data), in the order sent."""
        with self._db() as db:
            if db is None:
                return []
            rows = db.execute(
                "SELECT offset_s, mime_type, data FROM pictures WHERE session_id = ? ORDER BY id", (session_id,)
            )
            return [(float(offset), str(mime), bytes(data)) for offset, mime, data in rows]

    # -- for `talk --continue` ------------------------------------------------------------

    def latest_resumption_handle(self, session_id: str) -> str | None:
        for event in reversed(self.events(session_id, (records.ResumptionHandle,))):
            if isinstance(event.record, records.ResumptionHandle) and event.record.handle:
                return str(event.record.handle)
        return None

    def recent_turns(self, session_id: str, limit: int = 20) -> list[tuple[str, str]]:
        """The last `limit` turns as (role "user" | "model", text), oldest first: what
        `LiveConnection.send_history` takes to prime a fresh session."""
        turns = [
            (ROLES[type(e.record)], str(e.record.text).strip())
            for e in self.events(session_id, records.TURNS)
            if isinstance(e.record, records.TURNS)
        ]
        return [turn for turn in turns if turn[1]][-limit:] if limit > 0 else []

    # -- search ----------------------------------------------------------------------------

    def search_transcripts(self, query: str, limit: int = 5, exclude_session: str | None = None) -> list[dict]:
        """Turns that match `query` (all its words, else any), best first, as JSON-able dicts.

        Words are matched after stemming ("breezes" finds "breeze"); "quoted words" match as a phrase.
        """
        terms = _fts_terms(query)
        if not terms:
            raise StoreError("nothing to search for: give some words")
        limit = max(1, min(int(limit), 50))
        with self._db() as db:
            if db is None:
                return []
            for joiner in (" AND ", " OR "):
                rows = db.execute(
                    "SELECT e.session_id, s.started_at, e.offset_s, e.kind,"
                    " snippet(turn_text, 0, '', '', '…', 40) FROM turn_text"
                    " JOIN events e ON e.id = turn_text.rowid JOIN sessions s ON s.id = e.session_id"
                    " WHERE turn_text MATCH ? AND e.session_id IS NOT ? ORDER BY rank LIMIT ?",
                    (joiner.join(terms), exclude_session, limit),
                ).fetchall()
                if rows or len(terms) == 1:
                    break
        return [
            {
                "session": sid,
                "date": _iso(started),
                "at_s": round(offset, 1),
                "speaker": ROLES[records.KINDS[kind]],
                "text": text,
            }
            for sid, started, offset, kind, text in rows
        ]

    # -- deleting --------------------------------------------------------------------------

    def delete(self, session_id: str) -> None:
        with self._db() as db:
            if db is None or db.execute("DELETE FROM sessions WHERE id = ?", (session_id,)).rowcount == 0:
                raise StoreError(f"no session '{session_id}'")
            db.execute("PRAGMA incremental_vacuum")

    def prune(self, keep_days: int, max_sessions: int, *, now: float | None = None) -> list[str]:
        """Delete sessions started more than `keep_days` ago and all but the newest
        `max_sessions` (0 = no limit); a session still recording is never deleted.
        Returns the ids deleted."""
        now = time.time() if now is None else now
        infos = self.list_sessions()
        doomed = [
            info.id
            for position, info in enumerate(infos)
            if info.status != "recording"
            and ((keep_days > 0 and info.started_at < now - keep_days * 86400) or (0 < max_sessions <= position))
        ]
        if doomed:
            with self._db() as db:
                db.execute("BEGIN IMMEDIATE")
                db.executemany("DELETE FROM sessions WHERE id = ?", [(sid,) for sid in doomed])
                db.execute("COMMIT")
                db.execute("PRAGMA incremental_vacuum")
        return doomed


def _usage_by_session(db: sqlite3.Connection, sessions_sql: str, args: tuple) -> dict[str, UsageTotals]:
    """The usage reports of the sessions `sessions_sql` selects, summed per session."""
    totals: dict[str, UsageTotals] = {}
    rows = db.execute(
        f"SELECT session_id, payload FROM events WHERE kind = ? AND session_id IN ({sessions_sql}) ORDER BY id",
        (records.UsageReport.KIND, *args),
    )
    for session_id, payload in rows:
        report = records.parse(records.UsageReport.KIND, _json(payload))
        if isinstance(report, records.UsageReport):
            totals[session_id] = totals.get(session_id, UsageTotals()) + UsageTotals.of(report)
    return totals


def _fts_terms(query: str) -> list[str]:
    """FTS5 string literals for the "phrases" and words of `query` (no FTS syntax gets through)."""
    phrases = re.findall(r'"([^"]*)"', query)
    words = re.findall(r"\w+", re.sub(r'"[^"]*"', " ", query))
    terms = [t for t in phrases if re.search(r"\w", t)] + words
    return ['"' + t.replace('"', '""') + '"' for t in terms]


def _json(text: str | None) -> dict:
    try:
        value = json.loads(text) if text else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _iso(unix: float) -> str:
    return datetime.datetime.fromtimestamp(unix).astimezone().isoformat(timespec="seconds")
