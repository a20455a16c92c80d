"""`livecli usage`: tokens and estimated cost over stored sessions, per day or per model.

Reads the session database only (no SDK, no audio, no numpy), so the command answers at once.
A session counts on the day it started (local time); failed starts are left out (they never
reached the service, so they cost nothing).
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import re
import time
from collections.abc import Iterable

from livecli.errors import ExitCode, LivecliError
from livecli.pricing import Cost, Overrides, UsageTotals, estimate
from livecli.store.sessions import SessionInfo, SessionStore

GROUPINGS = ("day", "model")


@dataclasses.dataclass(frozen=True)
class UsageRow:
    key: str  # the day ("2026-11-03") or the model; "total" for the sum of rows
    sessions: int
    tokens: UsageTotals
    cost: Cost

    def as_json(self) -> dict:
        return {
            "key": self.key,
            "sessions": self.sessions,
            "tokens": dataclasses.asdict(self.tokens),
            "cost": self.cost.as_json(),
        }


def usage(
    store: SessionStore, *, since: float | None = None, by: str = "day", overrides: Overrides | None = None
) -> list[UsageRow]:
    """The sessions started since `since` (Unix time; None: all), summed per day (oldest first) or per model."""
    return summarize(store.list_sessions(since=since), by=by, overrides=overrides)


def summarize(infos: Iterable[SessionInfo], *, by: str = "day", overrides: Overrides | None = None) -> list[UsageRow]:
    if by not in GROUPINGS:
        raise ValueError(f"cannot group usage by {by!r} (only by {' or '.join(GROUPINGS)})")
    rows: dict[str, UsageRow] = {}
    for info in infos:
        if info.failed_start:
            continue
        key = datetime.date.fromtimestamp(info.started_at).isoformat() if by == "day" else info.model
        row = UsageRow(key, 1, info.tokens, estimate(info.model, info.tokens, overrides))
        rows[key] = _plus(rows[key], row, key) if key in rows else row
    return [rows[key] for key in sorted(rows)]


def total(rows: list[UsageRow]) -> UsageRow:
    """The rows summed (a price unknown in every row stays unknown)."""
    if not rows:
        return UsageRow("total", 0, UsageTotals(), Cost(0.0))
    return functools.reduce(lambda a, b: _plus(a, b, "total"), rows[1:], dataclasses.replace(rows[0], key="total"))


def since_time(text: str, *, now: float | None = None) -> float:
    """`--since`: a number of days back from now ("7d") or a day ("2026-11-01", from its local midnight)."""
    now = time.time() if now is None else now
    text = text.strip()
    if days := re.fullmatch(r"(\d+)d", text):
        return now - int(days[1]) * 86400
    try:
        day = datetime.date.fromisoformat(text)
    except ValueError:
        raise LivecliError(
            f"'{text}' is neither a number of days (7d) nor a date (2026-11-01)", ExitCode.USAGE
        ) from None
    return datetime.datetime.combine(day, datetime.time()).timestamp()


def _plus(a: UsageRow, b: UsageRow, key: str) -> UsageRow:
    return UsageRow(key, a.sessions + b.sessions, a.tokens + b.tokens, a.cost + b.cost)
