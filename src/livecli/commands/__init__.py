"""Command line: parses arguments, builds settings, wires the pieces together.

Heavy imports (google.genai, numpy, sounddevice) happen inside the commands
that need them, so `livecli --help` and `--version` stay fast.
"""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path
from typing import Optional

import typer

from livecli import __version__, cli_devices, config_file, keys, paths, settings
from livecli.cli_sessions import replay, sessions_app
from livecli.cli_tools import tools_app
from livecli.errors import ConfigError, ExitCode, LivecliError

app = typer.Typer(
    help="A terminal voice assistant for Google's Gemini Live API.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,  # tracebacks with locals could show the key
    rich_markup_mode=None,  # plain help: Rich's help renderer doubles start-up time
)
config_app = typer.Typer(help="Show or change config.toml.", no_args_is_help=True)
keys_app = typer.Typer(help="Store the Gemini API key for livecli.", no_args_is_help=True)
app.add_typer(config_app, name="config")
app.add_typer(keys_app, name="keys")
app.add_typer(sessions_app, name="sessions")
app.command()(replay)
app.add_typer(tools_app, name="tools")


def fail(message: str, code: ExitCode) -> typer.Exit:
    typer.echo(f"livecli: error: {message}", err=True)
    return typer.Exit(int(code))


def user_errors(command):
    """Print a LivecliError as one line and exit with its code."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except LivecliError as exc:
            raise fail(str(exc), exc.exit_code) from None

    return wrapper


def _version(value: bool) -> None:
    if value:
        typer.echo(f"livecli {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version."),
) -> None:
    pass


def load_settings(flags: dict) -> settings.Settings:
    path = paths.config_file()
    return settings.resolve(
        file_values=config_file.read(path), file_source=str(path), environ=os.environ, flags=flags
    )


@app.command()
@user_errors
def talk(
    model: Optional[str] = typer.Option(None, help=f"Live model (default: {settings.DEFAULT_MODEL})."),
    voice: Optional[str] = typer.Option(None, help="Prebuilt voice, e.g. Puck, Kore, Charon."),
    system: Optional[str] = typer.Option(None, help="System instruction: text, or @FILE."),
    language: Optional[str] = typer.Option(None, help="Speech language (BCP-47), e.g. en-US."),
    input_device: Optional[str] = typer.Option(None, help="Microphone: index or part of its name."),
    output_device: Optional[str] = typer.Option(None, help="Speaker: index or part of its name."),
    text: bool = typer.Option(False, "--text", help="Text replies instead of audio."),
    chunk_ms: Optional[int] = typer.Option(None, help="Microphone chunk length in ms (default: 100)."),
    plain: bool = typer.Option(False, "--plain", help="One line per turn, no live layout."),
    echo: Optional[str] = typer.Option(
        None, "--echo", metavar="aec|half-duplex|off", help="Keep Gemini's voice out of the microphone (default: aec)."
    ),
    tools: list[Path] = typer.Option([], "--tools", help="A Python file of tools for this run (repeatable)."),
    no_tools: bool = typer.Option(False, "--no-tools", help="Declare no tools to the model."),
    yolo: bool = typer.Option(False, "--yolo", help="Approve every tool call, this run only."),
    no_record: bool = typer.Option(False, "--no-record", help="Keep audio out of the session record."),
    no_history: bool = typer.Option(False, "--no-history", help="Record nothing said (no transcript, no audio)."),
    continue_: Optional[str] = typer.Option(
        None,
        "--continue",
        flag_value="latest",
        metavar="[ID]",
        help="Continue the latest session, or the one whose id starts with ID.",
    ),
) -> None:
    """Talk with Gemini Live through your microphone and speakers."""
    chosen = load_settings(
        dict(
            model=model,
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
        )
    )
    from livecli.talk import TalkOptions, run_talk

    options = TalkOptions(tool_files=tools, no_tools=no_tools, yolo=yolo, continue_ref=continue_)
    code = run_talk(chosen, options, environ=os.environ, config=config_file.read(paths.config_file()))
    raise typer.Exit(int(code))


@config_app.command("path")
def config_path() -> None:
    """Print where config.toml lives."""
    typer.echo(str(paths.config_file()))


@config_app.command("show")
@user_errors
def config_show() -> None:
    """Print the settings in effect and where each comes from."""
    path = paths.config_file()
    file_values = config_file.read(path)
    effective = load_settings({})
    env_values = settings.from_environment(os.environ)
    for key in settings.FIELDS:
        value = getattr(effective, key)
        source = "environment" if key in env_values else "config" if key in file_values else "default"
        shown = "" if value is None else str(value).lower() if isinstance(value, bool) else str(value)
        typer.echo(f"{key} = {shown!r}  ({source})" if shown else f"{key} = ({source}: unset)")


@config_app.command("set")
@user_errors
def config_set(key: str, value: str) -> None:
    """Set KEY to VALUE in config.toml (other keys are kept)."""
    stored = config_file.set_value(paths.config_file(), key, value)
    typer.echo(f"{key} = {stored!r}" if stored is not None else f"{key} unset")


@config_app.command("unset")
@user_errors
def config_unset(key: str) -> None:
    """Remove KEY from config.toml."""
    config_file.unset_value(paths.config_file(), key)
    typer.echo(f"{key} unset")


@keys_app.command("set")
@user_errors
def keys_set() -> None:
    """Store an API key (read from the terminal without echo, or from stdin)."""
    if sys.stdin.isatty():
        import getpass

        key = getpass.getpass("Gemini API key: ")
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
@user_errors
def keys_status() -> None:
    """Say where the key comes from, without showing it."""
    if keys.uses_vertex(os.environ):
        typer.echo("Vertex AI (GOOGLE_GENAI_USE_VERTEXAI): the SDK's Google Cloud credentials are used")
        return
    found = keys.find_key(os.environ, paths.key_file())
    if found is None:
        raise ConfigError(keys.MISSING_KEY_MESSAGE)
    typer.echo(f"a key is set ({found[1]})")


cli_devices.register(app, load_settings, user_errors)


@app.command()
@user_errors
def doctor() -> None:
    """Check PortAudio, devices, config, API key and the Live service; a fix for each failure."""
    from livecli.doctor import run_doctor

    raise typer.Exit(run_doctor(load_settings, os.environ))


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(int(ExitCode.INTERRUPTED))
    except LivecliError as exc:  # raised outside a command, e.g. in a callback
        typer.echo(f"livecli: error: {exc}", err=True)
        sys.exit(int(exc.exit_code))
    except Exception as exc:  # a bug: one line, no locals, no key
        if os.environ.get("LIVECLI_DEBUG"):
            raise
        typer.echo(f"livecli: internal error: {type(exc).__name__}: {exc} (LIVECLI_DEBUG=1 shows details)", err=True)
        sys.exit(int(ExitCode.ERROR))
