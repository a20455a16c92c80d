"""A recorder that keeps in memory what a talk session would store, so a test can assert on
the session's records (turns, tool calls, reconnections) instead of on the sentences shown."""

from __future__ import annotations

from livecli import records


class KeptRecords:
    """The `livecli.ports.Recorder` a TalkSession takes, without a disk."""

    def __init__(self) -> None:
        self.records: list[records.Record] = []
        self.exit_reason: str | None = None

    def record(self, record: records.Record) -> None:
        self.records.append(record)

    def picture(self, data: bytes, mime_type: str) -> None:
        pass

    def audio(self, stream: str, pcm: bytes, rate: int, at: float | None = None) -> None:
        pass

    def close(self, exit_reason: str) -> None:
        self.exit_reason = exit_reason

    def of(self, *kinds: type) -> list:
        """The records of these kinds, in order."""
        return [record for record in self.records if isinstance(record, kinds)]

    @property
    def turns(self) -> list:
        return self.of(records.UserTurn, records.ModelTurn)
