"""`livecli token create`: an ephemeral token for a client that should never hold the key."""

from __future__ import annotations

import datetime
import json
import os
import re

import typer

from livecli import keys, paths
from livecli.errors import ConfigError
from livecli.settings import load_settings

token_app = typer.Typer(help="Mint ephemeral tokens, so the API key stays with you.", no_args_is_help=True)

_DURATION = re.compile(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")


def register(app: typer.Typer) -> None:
    app.add_typer(token_app, name="token")


def duration(text: str) -> datetime.timedelta:
    """ "30m", "2h", "90s" or "1h30m", from 1 s to 20 h."""
    found = _DURATION.fullmatch(text.strip().lower())
    if not text.strip() or found is None:
        raise typer.BadParameter(f"'{text}' is not a duration such as 30m, 2h or 90s")
    from livecli.tokens import MAX_LIFETIME

    hours, minutes, seconds = (int(n or 0) for n in found.groups())
    lifetime = datetime.timedelta(hours=hours, minutes=minutes, seconds=seconds)
    if not datetime.timedelta(0) < lifetime <= MAX_LIFETIME:
        raise typer.BadParameter(f"'{text}': a token lasts from 1 s to 20 h")
    return lifetime


@token_app.command("create")
def create(
    uses: int = typer.Option(
        1, min=0, metavar="N", help="Sessions it can open (0 = no limit); resuming one does not count."
    ),
    expire: datetime.timedelta = typer.Option(
        "30m", metavar="30m|2h|90s", parser=duration, help="How long it works, new sessions included (at most 20h)."
    ),
    as_json: bool = typer.Option(False, "--json", help="JSON with the token, when it expires and its uses."),
) -> None:
    """Mint an ephemeral token and print it.

    The token is locked to the model and settings talk would use. Only the token goes to stdout, for a backend to hand on to a client (a token_command);
    the API key is never printed.
    """
    if keys.uses_vertex(os.environ):
        raise ConfigError(
            "ephemeral tokens come from the Gemini Developer API, not Vertex AI: unset GOOGLE_GENAI_USE_VERTEXAI"
        )
    from livecli.tokens import mint_token  # google.genai: only now

    settings = load_settings()
    api_key = keys.require_key(os.environ, paths.key_file())
    token = mint_token(api_key, settings, uses=uses, lifetime=expire)
    expires = token.expires_at.astimezone()
    if as_json:
        found = {
            "name": token.name,
            "expires": expires.isoformat(timespec="seconds"),
            "uses": token.uses,
            "model": settings.model,
        }
        typer.echo(json.dumps(found, indent=2))
        return
    typer.echo(token.name)
    times = "no limit of uses" if token.uses == 0 else f"{token.uses} use{'s' * (token.uses != 1)}"
    typer.echo(f"livecli: token for {settings.model}, {times}, until {expires:%Y-%m-%d %H:%M:%S}", err=True)
