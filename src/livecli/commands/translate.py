"""`livecli translate`: a live interpreter — you speak, the translation model speaks it in another language."""

from __future__ import annotations

import os
from typing import Optional

import typer

from livecli import config_file, paths, settings
from livecli.commands import talk

TRANSLATE_MODEL = "gemini-3.5-live-translate-preview"


def register(app: typer.Typer) -> None:
    app.command()(translate)


def translate(
    to: str = typer.Option(..., "--to", metavar="LANG", help="The language to speak (BCP-47), e.g. fr, de, ja."),
    source: Optional[str] = typer.Option(
        None, "--from", metavar="LANG", help="The language you speak (a label: the model hears it)."
    ),
    input_device: Optional[str] = talk.INPUT_DEVICE,
    output_device: Optional[str] = talk.OUTPUT_DEVICE,
    plain: bool = talk.PLAIN,
    echo: Optional[str] = talk.ECHO,
    no_record: bool = talk.NO_RECORD,
    no_history: bool = talk.NO_HISTORY,
) -> None:
    """Speak in one language, hear it in another (speech to speech)."""
    chosen = settings.load_settings(
        dict(
            input_device=input_device,
            output_device=output_device,
            plain=plain or None,
            echo=echo,
            record_audio=False if no_record or no_history else None,
            record_history=False if no_history else None,
        )
    ).replace(model=TRANSLATE_MODEL, system=None, voice=None, language=None, text=False, screen=None, camera=None)
    from livecli.talk import TalkOptions, run_talk

    you = f"You ({source})" if source else "You"
    options = TalkOptions(no_tools=True, translate_to=to, labels=(you, f"Translation ({to})"))
    code = run_talk(chosen, options, environ=os.environ, config=config_file.read(paths.config_file()))
    raise typer.Exit(int(code))
