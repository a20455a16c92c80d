"""`livecli config …`: where config.toml lives, what is in effect, and changing one key."""

from __future__ import annotations

import os

import typer

from livecli import config_file, paths, settings

config_app = typer.Typer(help="Show or change config.toml.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(config_app, name="config")


@config_app.command("path")
def config_path() -> None:
    """Print where config.toml lives."""
    typer.echo(str(paths.config_file()))


@config_app.command("show")
def config_show() -> None:
    """Print the settings in effect and where each comes from.

    Each line reads as it would in config.toml, its source after the #.
    """
    file_values = config_file.read(paths.config_file())
    effective = settings.load_settings()
    env_values = settings.from_environment(os.environ)
    for key in settings.FIELDS:
        value = getattr(effective, key)
        variable = settings.ENV_PREFIX + key.upper()
        source = f"environment ({variable})" if key in env_values else "config" if key in file_values else "default"
        typer.echo(
            f"# {key}: unset ({source})" if value is None else f"{config_file.toml_line(key, value)}  # {source}"
        )


# A value that starts with "-" (chunk_ms -5) is a value for the settings to judge, not an option.
@config_app.command("set", context_settings={"ignore_unknown_options": True})
def config_set(
    key: str = typer.Argument(..., metavar="KEY", help="A setting, as `livecli config show` lists them."),
    value: str = typer.Argument(..., metavar="VALUE", help="Its new value; empty text removes it."),
) -> None:
    """Set KEY to VALUE in config.toml (other keys are kept)."""
    stored = settings.save_setting(paths.config_file(), key, config_file.parse_literal(value))
    typer.echo(config_file.toml_line(key, stored) if stored is not None else f"{key} unset")


@config_app.command("unset")
def config_unset(key: str = typer.Argument(..., metavar="KEY", help="The key to remove.")) -> None:
    """Remove KEY from config.toml."""
    settings.remove_setting(paths.config_file(), key)
    typer.echo(f"{key} unset")
