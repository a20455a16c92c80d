"""The command line: each module of this package parses one command's arguments
and wires the pieces together; `main` runs them.

Every module registers its commands the same way (`register(app)`), and `main`
is the one place where an error the user can fix (a `LivecliError`, or a
mistake on the command line) becomes one line on stderr and its exit code. Heavy imports (google.genai, numpy,
sounddevice, Rich's live display) happen inside the commands that need them, so
`livecli --help` and `--version` stay fast.
"""

from __future__ import annotations

import os
import sys
from typing import NoReturn

import typer

from livecli import __version__
from livecli.commands import config, devices, doctor, keys, models, sessions, talk, token, tools, translate, usage
from livecli.errors import ExitCode, LivecliError

app = typer.Typer(
    help="A terminal voice assistant for Google's Gemini Live API.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},  # inherited by every command
    pretty_exceptions_enable=False,  # tracebacks with locals could show the key
    rich_markup_mode=None,  # plain help: Rich's help renderer doubles start-up time
)


def _show_version(value: bool) -> None:
    if value:
        version()
        raise typer.Exit()


@app.callback()
def main_options(
    show_version: bool = typer.Option(
        False, "--version", callback=_show_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    pass


for module in (talk, translate, sessions, usage, models, token, doctor, config, keys, tools, devices):
    module.register(app)


@app.command()
def version() -> None:
    """Show the version (as --version does)."""
    typer.echo(f"livecli {__version__}")


# Options whose value may be left out (Typer has none): alone, they take this value.
OPTIONAL_VALUES = {"--screen": "primary", "--camera": "0"}


def with_optional_values(args: list[str]) -> list[str]:
    """`--screen` alone (at the end, or before another option) as `--screen=primary`."""
    found = []
    for index, arg in enumerate(args):
        following = args[index + 1] if index + 1 < len(args) else None
        if arg in OPTIONAL_VALUES and (following is None or following.startswith("-")):
            arg = f"{arg}={OPTIONAL_VALUES[arg]}"
        found.append(arg)
    return found


def main() -> None:
    try:
        code = app(args=with_optional_values(sys.argv[1:]), prog_name="livecli", standalone_mode=False)
    except KeyboardInterrupt:
        sys.exit(int(ExitCode.INTERRUPTED))
    except LivecliError as exc:
        _fail(str(exc), exc.exit_code)
    except typer.TyperException as exc:  # the command line itself: unknown option, missing argument...
        _command_line_error(exc)
    except typer.Abort:
        _fail("aborted", ExitCode.ERROR)
    except Exception as exc:  # a bug: one line, no locals, no key
        if os.environ.get("LIVECLI_DEBUG"):
            raise
        typer.echo(f"livecli: internal error: {type(exc).__name__}: {exc} (LIVECLI_DEBUG=1 shows details)", err=True)
        sys.exit(int(ExitCode.ERROR))
    sys.exit(code if isinstance(code, int) else 0)


def _fail(message: str, code: int) -> NoReturn:
    typer.echo(f"livecli: error: {message}", err=True)
    sys.exit(int(code))


def _command_line_error(exc: typer.TyperException) -> NoReturn:
    """One line, with where to look, instead of Typer's usage block."""
    ctx = getattr(exc, "ctx", None)
    if ctx is None:
        _fail(exc.format_message(), exc.exit_code)
    if exc.format_message() == ctx.get_help():  # a group called without its command: its help
        typer.echo(exc.format_message(), err=True)
        sys.exit(exc.exit_code)
    _fail(f"{exc.format_message().rstrip('.')} (`{ctx.command_path} -h` shows how)", exc.exit_code)
