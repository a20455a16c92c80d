"""`livecli models`: the Live models the key can use, as the service lists them."""

from __future__ import annotations

import os

import typer

from livecli import keys, paths
from livecli.settings import load_settings


def register(app: typer.Typer) -> None:
    app.command()(models)


def models() -> None:
    """List the Live models your key can use.

    One per line, as the service lists them; the model talk uses (config `model`, or livecli's default) is marked "(default)".
    """
    from livecli.live import live_models  # google.genai: only now

    settings = load_settings()
    api_key = None if keys.uses_vertex(os.environ) else keys.require_key(os.environ, paths.key_file())
    found = live_models(api_key, settings.api_version)
    if api_key is not None:
        keys.mark_accepted(api_key, paths.key_file())
    for name in found:
        typer.echo(f"{name}  (default)" if name == settings.model else name)
    if settings.model not in found:
        typer.echo(
            f"livecli: the model talk uses, {settings.model}, is not among them: `livecli config set model MODEL`",
            err=True,
        )
