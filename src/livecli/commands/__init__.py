"""The command line: each module of this package parses one command's arguments
and wires the pieces together; `main` runs them.

Every module registers its commands the same way (`register(app)`), and `main`
is the one place where an error the user can fix (a `LivecliError`) becomes one
line on stderr and its exit code. Heavy imports (google.genai, numpy,
sounddevice, Rich's live display) happen inside the commands that need them, so
`livecli --help` and `--version` stay fast.
"""

from __future__ import annotations

import os
import sys

import typer

from livecli import __version__
from livecli.commands import config, devices, doctor, keys, sessions, talk, tools
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


for module in (talk, sessions, doctor, config, keys, tools, devices):
    module.register(app)


@app.command()
def version() -> None:
    """Show the version (as --version does)."""
    typer.echo(f"livecli {__version__}")

def main() -> None:
    try:
        app(prog_name="livecli")
    except KeyboardInterrupt:
        sys.exit(int(ExitCode.INTERRUPTED))
    except LivecliError as exc:
        typer.echo(f"livecli: error: {exc}", err=True)
        sys.exit(int(exc.exit_code))
    except Exception as exc:  # a bug: one line, no locals, no key
        if os.environ.get("LIVECLI_DEBUG"):
            raise
        typer.echo(f"livecli: internal error: {type(exc).__name__}: {exc} (LIVECLI_DEBUG=1 shows details)", err=True)
        sys.exit(int(ExitCode.ERROR))
