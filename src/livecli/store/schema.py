"""The session database: where it lives, how it is opened, how it is migrated.

One SQLite file in WAL mode, so `sessions list` and `replay` read while a
`talk` session writes, and a killed process leaves only whole transactions.
`PRAGMA user_version` is the schema version; every version after the first is
a migration appended to MIGRATIONS, applied in its own transaction on open.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from livecli.errors import LivecliError

DB_NAME = "sessions.sqlite3"
BUSY_TIMEOUT_MS = 5000
PAGE_SIZE = 16384  # audio rows are 2-5 KB: big pages hold several without overflow chains

MIGRATIONS = [
    """
    CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        started_at REAL NOT NULL,          -- Unix time
        ended_at REAL,                     -- NULL while recording, or when the process died
        updated_at REAL NOT NULL,          -- last commit: tells a running session from a dead one
        duration_s REAL NOT NULL DEFAULT 0,
        model TEXT NOT NULL,
        voice TEXT,
        input_device TEXT,
        output_device TEXT,
        settings TEXT NOT NULL,            -- JSON, secrets removed
        record_audio INTEGER NOT NULL,
        record_history INTEGER NOT NULL,
        continues TEXT,
        exit_reason TEXT
    );
    CREATE INDEX sessions_by_start ON sessions(started_at);

    CREATE TABLE events (
        id INTEGER PRIMARY KEY,
        session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        offset_s REAL NOT NULL,            -- seconds since the session started
        kind TEXT NOT NULL,
        payload TEXT NOT NULL              -- JSON object
    );
    CREATE INDEX events_by_session ON events(session_id, kind);

    CREATE TABLE audio (
        id INTEGER PRIMARY KEY,
        session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        stream TEXT NOT NULL CHECK (stream IN ('user', 'model')),
        offset_s REAL NOT NULL,            -- user: when the chunk's last sample was captured; model: when it arrived
        rate INTEGER NOT NULL,
        pcm BLOB NOT NULL                  -- int16 mono little-endian
    );
    CREATE INDEX audio_by_session ON audio(session_id, stream, id);

    CREATE VIRTUAL TABLE turn_text USING fts5(text, tokenize = 'porter unicode61 remove_diacritics 2');
    CREATE TRIGGER turn_text_add AFTER INSERT ON events WHEN new.kind IN ('user_turn', 'model_turn') BEGIN
        INSERT INTO turn_text(rowid, text) VALUES (new.id, json_extract(new.payload, '$.text'));
    END;
    CREATE TRIGGER turn_text_remove AFTER DELETE ON events WHEN old.kind IN ('user_turn', 'model_turn') BEGIN
        DELETE FROM turn_text WHERE rowid = old.id;
    END;
    """,
    # Pictures the model was shown (the shared screen or camera, /image), when kept.
    """
    CREATE TABLE pictures (
        id INTEGER PRIMARY KEY,
        session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        offset_s REAL NOT NULL,            -- when it was sent
        mime_type TEXT NOT NULL,
        data BLOB NOT NULL
    );
    CREATE INDEX pictures_by_session ON pictures(session_id, id);
    """,
    # A grounded answer is found by the titles of its sources too.
    """
    DROP TRIGGER turn_text_add;
    CREATE TRIGGER turn_text_add AFTER INSERT ON events WHEN new.kind IN ('user_turn', 'model_turn') BEGIN
        INSERT INTO turn_text(rowid, text) VALUES (
            new.id,
            json_extract(new.payload, '$.text') || coalesce(
                (SELECT ' ' || group_concat(json_extract(value, '$.title'), ' ') FROM json_each(new.payload, '$.sources')), ''
            )
        );
    END;
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)


class StoreError(LivecliError):
    """The session database cannot be used as asked (damaged, newer, unknown id)."""


def db_path(db_dir: Path) -> Path:
    return Path(db_dir) / DB_NAME


def describe(exc: sqlite3.Error, path: Path) -> StoreError:
    """SQLite's failures as one line that says what to do."""
    text = str(exc)
    if "locked" in text or "busy" in text:
        return StoreError(f"the session database {path} is busy (another livecli is writing); try again")
    damaged = "malformed" in text or not isinstance(exc, sqlite3.OperationalError)  # e.g. "file is not a database"
    if damaged:
        return StoreError(f"the session database {path} is damaged ({text}); move it away to start a new one")
    return StoreError(f"the session database {path} cannot be used: {text}")


def connect(path: Path, *, create: bool = True) -> sqlite3.Connection:
    """Open (and create or migrate) the database; any problem is a StoreError."""
    if create:
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False)
    except sqlite3.Error as exc:
        raise describe(exc, path) from None
    try:
        db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"the session database {path} was written by a newer livecli (schema {version}; "
                f"this one knows up to {SCHEMA_VERSION}): upgrade livecli"
            )
        if version == 0:
            # Only possible before the first table exists.
            db.execute(f"PRAGMA page_size = {PAGE_SIZE}")
            db.execute("PRAGMA auto_vacuum = INCREMENTAL")
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")  # in WAL: durable against a killed process, not a power cut
        db.execute("PRAGMA foreign_keys = ON")
        _migrate(db, version)
    except sqlite3.Error as exc:
        db.close()
        raise describe(exc, path) from None
    except StoreError:
        db.close()
        raise
    return db


def _migrate(db: sqlite3.Connection, version: int) -> None:
    for number in range(version, SCHEMA_VERSION):
        db.execute("BEGIN IMMEDIATE")
        try:
            # Another process may have migrated while we waited for the lock.
            if db.execute("PRAGMA user_version").fetchone()[0] > number:
                db.execute("COMMIT")
                continue
            for statement in _statements(MIGRATIONS[number]):
                db.execute(statement)
            db.execute(f"PRAGMA user_version = {number + 1}")
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise


def _statements(script: str) -> list[str]:
    """Split a migration into statements (executescript would commit on its own)."""
    statements, current = [], ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    return [s for s in statements if s]
