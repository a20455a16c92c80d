"""`livecli talk`: the options of a conversation, turned into settings for `run_talk`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import typer

from livecli import config_file, paths, settings
from livecli.errors import ExitCode, LivecliError

THINKING_MODEL = "gemini-3.8-live-extended-thinking"


def register(app: typer.Typer) -> None:
    app.command()(talk)


# Options `translate` shares with `talk`.
INPUT_DEVICE = typer.Option(None, metavar="DEVICE", help="Microphone: index or part of its name.")
OUTPUT_DEVICE = typer.Option(None, metavar="DEVICE", help="Speaker: index or part of its name.")
PLAIN = typer.Option(False, "--plain", help="One line per turn, no live layout.")
ECHO = typer.Option(
    None, "--echo", metavar="auto|aec|half-duplex|off", help="Keep the speaker out of the microphone (default: auto)."
)
NO_RECORD = typer.Option(False, "--no-record", help="Keep audio out of the session record.")
NO_HISTORY = typer.Option(False, "--no-history", help="Record nothing said (no transcript, no audio).")


def talk(
    model: Optional[str] = typer.Option(None, metavar="MODEL", help=f"Live model (default: {settings.DEFAULT_MODEL})."),
    voice: Optional[str] = typer.Option(None, metavar="NAME", help="Prebuilt voice, e.g. Puck, Kore, Charon."),
    system: Optional[str] = typer.Option(None, metavar="TEXT|@FILE", help="System instruction: text, or @FILE."),
    language: Optional[str] = typer.Option(None, metavar="CODE", help="Speech language (BCP-47), e.g. en-US."),
    input_device: Optional[str] = INPUT_DEVICE,
    output_device: Optional[str] = OUTPUT_DEVICE,
    text: bool = typer.Option(False, "--text", help="Text replies instead of audio."),
    chunk_ms: Optional[int] = typer.Option(None, metavar="MS", help="Microphone chunk length in ms (default: 100)."),
    plain: bool = PLAIN,
    echo: Optional[str] = ECHO,
    tools: list[Path] = typer.Option(
        [],
        "--tools",
        metavar="FILE.py",
        exists=True,
        dir_okay=False,
        help="A Python file of tools for this run (repeatable).",
    ),
    no_tools: bool = typer.Option(False, "--no-tools", help="Declare no tools to the model."),
    yolo: bool = typer.Option(False, "--yolo", help="Approve every tool call, this run only."),
    no_record: bool = NO_RECORD,
    no_history: bool = NO_HISTORY,
    continue_: bool = typer.Option(False, "--continue", help="Continue the latest stored session, or session ID."),
    budget: Optional[float] = typer.Option(
        None, "--budget", metavar="USD", help="End the session when its estimated cost passes this."
    ),
    token: Optional[str] = typer.Option(
        None, "--token", metavar="TOKEN", help="An ephemeral token instead of the API key."
    ),
    no_search: bool = typer.Option(False, "--no-search", help="No Google Search grounding this run."),
    think: bool = typer.Option(False, "--think", help="The extended-thinking model: it works in the background."),
    think_level: Optional[str] = typer.Option(
        None, "--think-level", metavar="low|medium|high", help="How hard --think thinks."
    ),
    screen: Optional[str] = typer.Option(
        None, "--screen", metavar="[N]", help="Share monitor N (default: the primary one)."
    ),
    camera: Optional[str] = typer.Option(
        None, "--camera", metavar="[DEVICE]", help="Share a webcam (default: the first)."
    ),
    session: Optional[str] = typer.Argument(
        None, metavar="ID", help="With --continue: a session id or a unique prefix of it.", show_default=False
    ),
) -> None:
    """Talk with Gemini Live through your microphone and speakers."""
    # `--continue [ID]` is a flag and an optional argument: an option whose value may be
    # left out would take the next option as its value (`--continue --plain`).
    if session is not None and not continue_:
        raise LivecliError(f"a session ID goes with --continue: `livecli talk --continue {session}`", ExitCode.USAGE)
    chosen = settings.load_settings(
        dict(
            voice=voice,
            system=system,
            language=language,
            input_device=input_device,
            output_device=output_device,
            text=text or None,
            chunk_ms=chunk_ms,
            plain=plain or None,
            echo=echo,
            record_audio=False if no_record or no_history else None,
            record_history=False if no_history else None,
            budget_usd=budget,
            search=False if no_search else None,
            model=THINKING_MODEL if think and model is None else model,
            screen=screen,
            camera=camera,
        )
    )
    if think_level is not None and not think and chosen.model != THINKING_MODEL:
        raise LivecliError(f"--think-level goes with --think (the {THINKING_MODEL} model)", ExitCode.USAGE)
    from livecli.talk import LATEST, TalkOptions, run_talk

    continue_ref = (session or LATEST) if continue_ else None
    options = TalkOptions(
        tool_files=tools,
        no_tools=no_tools,
        yolo=yolo,
        continue_ref=continue_ref,
        token=token,
        thinking_level=think_level.lower() if think_level else None,
    )
    code = run_talk(chosen, options, environ=os.environ, config=config_file.read(paths.config_file()))
    raise typer.Exit(int(code))
