"""`livecli keys …`: store, find and delete the Gemini API key, never showing it."""

from __future__ import annotations

import os
import sys

import typer

from livecli import keys, paths
from livecli.errors import AuthError

keys_app = typer.Typer(help="Store the Gemini API key for livecli.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")


@keys_app.command("set")
def keys_set() -> None:
    """Store an API key, typed without echo (or read from stdin)."""
    if sys.stdin.isatty():
        import getpass

        try:
            key = getpass.getpass("Gemini API key: ")
        except (EOFError, KeyboardInterrupt) as stopped:
            typer.echo()  # the prompt's line ends before what follows
            if isinstance(stopped, KeyboardInterrupt):
                raise
            key = ""  # Ctrl-D: nothing typed, nothing stored
    else:
        key = sys.stdin.readline()
    path = paths.key_file()
    keys.store_key(path, key)
    typer.echo(f"key stored in {path} (readable only by you)")


@keys_app.command("path")
def keys_path() -> None:
    """Print where the stored key lives."""
    typer.echo(str(paths.key_file()))


@keys_app.command("delete")
def keys_delete() -> None:
    """Delete the stored key."""
    removed = keys.delete_key(paths.key_file())
    typer.echo("key deleted" if removed else "no stored key")


@keys_app.command("status")
def keys_status() -> None:
    """Say where the key comes from and when it last worked.

    The key itself is never shown.
    """
    if keys.uses_vertex(os.environ):
        typer.echo("Vertex AI (GOOGLE_GENAI_USE_VERTEXAI): the SDK's Google Cloud credentials are used")
        return
    found = keys.find_key(os.environ, paths.key_file())
    if found is None:
        raise AuthError(keys.MISSING_KEY_MESSAGE)
    key, source = found
    typer.echo(f"a key is set ({source})")
    accepted = keys.last_accepted(key, paths.key_file())
    if accepted is None:
        typer.echo("not yet used with the service (`livecli doctor` tries it)")
    else:
        typer.echo(f"last accepted by the service: {accepted:%Y-%m-%d %H:%M}")
