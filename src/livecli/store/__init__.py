"""Where talk sessions are kept: transcripts, events and both audio streams.

`SessionRecorder` writes a session's records while it happens; `SessionStore`
reads, searches and prunes; `usage` sums tokens and cost over sessions;
`timeline.Timeline` lays the stored audio on the session's clock (imported
apart: it needs numpy).
"""

from livecli.store.recorder import SessionRecorder
from livecli.store.schema import DB_NAME, StoreError
from livecli.store.sessions import Event, SessionInfo, SessionStore

__all__ = ["DB_NAME", "Event", "SessionInfo", "SessionRecorder", "SessionStore", "StoreError"]
