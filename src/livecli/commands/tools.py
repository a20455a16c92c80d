"""`livecli tools ...`: list, inspect and try the tools the model can call.

For users checking what the model is offered, and for plugin authors trying a
tool without talking. Imports of the tools machinery stay inside the commands so
`livecli --help` stays fast.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from livecli import config_file, paths
from livecli.errors import ExitCode, LivecliError

tools_app = typer.Typer(help="List, inspect and try the tools the model can call.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(tools_app, name="tools")


_FILES_HELP = "Also load the tools of this Python file (repeatable)."
_NAME_HELP = "The tool's name, as `livecli tools list` shows it."


@tools_app.command("list")
def tools_list(
    as_json: bool = typer.Option(False, "--json", help="One JSON object per tool, in a list."),
    files: Optional[list[Path]] = typer.Option(
        None, "--tools", metavar="FILE.py", exists=True, dir_okay=False, help=_FILES_HELP
    ),
) -> None:
    """Every tool: name, source, approval policy, description."""

    async def collect(registry):
        return list(registry.tools.values())

    tools = _with_registry(files, collect)
    if as_json:
        rows = [
            dict(
                name=t.name,
                source=t.source,
                approval=t.policy.value,
                enabled=t.enabled,
                non_blocking=t.non_blocking,
                timeout_s=t.timeout_s,
                description=t.summary,
            )
            for t in tools
        ]
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    table = [(t.name, t.source, t.policy.value if t.enabled else "disabled", t.summary) for t in tools]
    widths = [
        max([len(row[i]) for row in table] + [len(title)]) for i, title in enumerate(("NAME", "SOURCE", "APPROVAL"))
    ]
    for row in [("NAME", "SOURCE", "APPROVAL", "DESCRIPTION"), *table]:
        typer.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[3])


@tools_app.command("show")
def tools_show(
    name: str = typer.Argument(..., metavar="NAME", help=_NAME_HELP),
    files: Optional[list[Path]] = typer.Option(
        None, "--tools", metavar="FILE.py", exists=True, dir_okay=False, help=_FILES_HELP
    ),
) -> None:
    """The declaration of tool NAME as sent to the model, as JSON."""

    async def declaration(registry):
        return _find(registry, name).declaration.model_dump(mode="json", by_alias=True, exclude_none=True)

    typer.echo(json.dumps(_with_registry(files, declaration), indent=2, ensure_ascii=False))


@tools_app.command("call")
def tools_call(
    name: str = typer.Argument(..., metavar="NAME", help=_NAME_HELP),
    arguments: str = typer.Argument("{}", metavar="ARGUMENTS", help="The arguments as a JSON object."),
    files: Optional[list[Path]] = typer.Option(
        None, "--tools", metavar="FILE.py", exists=True, dir_okay=False, help=_FILES_HELP
    ),
) -> None:
    """Run tool NAME here and print its result as JSON.

    No approval is asked: you are the one running it.
    """
    try:
        args = json.loads(arguments)
    except json.JSONDecodeError as exc:
        raise LivecliError(f"arguments are not valid JSON: {exc}", ExitCode.USAGE) from None
    if not isinstance(args, dict):
        raise LivecliError('arguments must be a JSON object, e.g. \'{"city": "Paris"}\'', ExitCode.USAGE)

    async def call(registry):
        from livecli.events import FunctionCall
        from livecli.tools import ToolRunner

        tool = _find(registry, name)
        if not tool.enabled:
            raise LivecliError(f"tool '{name}' is disabled in config.toml ([tools] enabled / disabled)")
        _check_arguments(tool, args)
        runner = ToolRunner(registry, approve=_never, yolo=True)
        (result,) = await runner.run([FunctionCall(id="cli", name=name, args=args)])
        return result.response

    response = _with_registry(files, call)
    if "error" in response:
        raise LivecliError(f"{name}: {' '.join(str(response['error']).split())}")  # one line, as the model got it
    typer.echo(json.dumps(response["result"], indent=2, ensure_ascii=False))


async def _never(call) -> bool:
    return False


def _check_arguments(tool, args: dict) -> None:
    """Missing and unknown arguments said plainly, before the tool's own validation says them at length."""
    schema = tool.declaration.parameters_json_schema or {}
    known = schema.get("properties", {})
    missing = [arg for arg in schema.get("required", []) if arg not in args]
    unknown = [arg for arg in args if arg not in known and not schema.get("additionalProperties")]
    if missing or unknown:
        problem = f"missing {', '.join(missing)}" if missing else f"no argument {', '.join(unknown)}"
        raise LivecliError(
            f"{tool.name}: {problem} (arguments: {', '.join(known) or 'none'}; `livecli tools show {tool.name}`)",
            ExitCode.USAGE,
        )


def _find(registry, name: str):
    tool = registry.tools.get(name)
    if tool is None:
        known = ", ".join(registry.tools) or "none"
        raise LivecliError(f"no tool called '{name}' (loaded: {known})", ExitCode.USAGE)
    return tool


def _with_registry(files: list[Path] | None, use):
    """Open the registry as talk does (built-ins, MCP servers included), print its warnings,
    return `use(registry)`."""
    import asyncio

    from livecli.store import SessionStore
    from livecli.tools import open_registry

    path = paths.config_file()
    config = config_file.read(path)
    store = SessionStore(paths.data_dir())

    async def run():
        async with open_registry(
            config,
            config_source=str(path),
            extra_files=files or (),
            memory_search=store.search_transcripts,
            log_dir=paths.data_dir() / "logs",
        ) as registry:
            for warning in registry.warnings:
                typer.echo(f"livecli: warning: {warning}", err=True)
            return await use(registry)

    return asyncio.run(run())
