"""`livecli doctor`: the checks themselves live in livecli.doctor."""

from __future__ import annotations

import os

import typer


def register(app: typer.Typer) -> None:
    app.command()(doctor)


def doctor() -> None:
    """Check everything livecli needs, with a fix for each failure.

    PortAudio, the microphone and speaker, config.toml, the API key, and the Live service.
    """
    from livecli.doctor import run_doctor

    raise typer.Exit(run_doctor(os.environ))
