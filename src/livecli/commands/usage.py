"""`livecli usage`: tokens and estimated cost summed over stored sessions, per day or per model.

It reads the session database only (no SDK, no audio), so it answers at once.
"""

from __future__ import annotations

import datetime
import enum
import json
from typing import Optional

import typer

from livecli import paths
from livecli.errors import LivecliError
from livecli.formats import columns
from livecli.settings import load_price_overrides


class Grouping(str, enum.Enum):
    day = "day"
    model = "model"


def register(app: typer.Typer) -> None:
    app.command()(usage)


def _since(text: str) -> float:
    from livecli.store.usage import since_time

    try:
        return since_time(text)
    except LivecliError as exc:
        raise typer.BadParameter(str(exc)) from None


def usage(
    since: Optional[float] = typer.Option(
        None,
        metavar="7d|2026-11-01",
        parser=_since,
        help="Only sessions started in the last N days, or since that day.",
    ),
    by: Grouping = typer.Option(Grouping.day, "--by", metavar="day|model", help="One row per day or per model."),
    as_json: bool = typer.Option(False, "--json", help="JSON, for scripts."),
) -> None:
    """Tokens and estimated cost of stored sessions.

    One row per day or per model, and their total. Prices are the models' published
    ones, or config.toml's [prices."MODEL"]; a model with no known price shows
    "unknown price", a partly priced sum "≥ $x".
    """
    from livecli.store import SessionStore
    from livecli.store.usage import total
    from livecli.store.usage import usage as summed

    rows = summed(SessionStore(paths.data_dir()), since=since, by=by.value, overrides=load_price_overrides())
    overall = total(rows)
    if as_json:
        since_iso = (
            None if since is None else datetime.datetime.fromtimestamp(since).astimezone().isoformat(timespec="seconds")
        )
        found = {
            "by": by.value,
            "since": since_iso,
            "rows": [row.as_json() for row in rows],
            "total": overall.as_json(),
        }
        typer.echo(json.dumps(found, indent=2, ensure_ascii=False))
        return
    if not rows:
        typer.echo(
            "no sessions recorded yet"
            if since is None
            else f"no sessions since {datetime.datetime.fromtimestamp(since):%Y-%m-%d %H:%M}"
        )
        return
    table = [[by.value.upper(), "SESSIONS", "INPUT", "OUTPUT", "TOKENS", "COST"]]
    for row in [*rows, overall]:
        tokens = row.tokens
        input_tokens, output_tokens = tokens.prompt + tokens.tool_use_prompt, tokens.response + tokens.thoughts
        table.append(
            [row.key, str(row.sessions), f"{input_tokens:,}", f"{output_tokens:,}", f"{tokens.total:,}", str(row.cost)]
        )
    for line in columns(table, right=range(1, 6)):
        typer.echo(line)
    if not overall.cost.complete and overall.cost.reasons:
        typer.echo(f"{overall.cost.unpriced_tokens:,} tokens not priced:")
        for reason in overall.cost.reasons:
            typer.echo(f"  {reason}")
