"""All tools merged into one registry, with config applied.

Sources, in order: built-ins, plugins, files in the config folder's tools/, MCP
servers, then `--tools` files. A later tool with the same name replaces an earlier
one (with a warning), so a file given on the command line can stand in for an
installed plugin while its author works on it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from livecli import paths
from livecli.errors import ExitCode, LivecliError
from livecli.tools import builtins, sources
from livecli.tools.config import ToolsConfig, parse_mcp_servers, parse_tools
from livecli.tools.declare import function_tool
from livecli.tools.mcp_servers import start_server
from livecli.tools.model import Tool

# What the Gemini API accepts as a function name.
_VALID_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.:-]{0,63}")


@dataclasses.dataclass
class Registry:
    tools: dict[str, Tool]  # every loaded tool, disabled ones included (Tool.enabled)
    config: ToolsConfig
    warnings: list[str]

    @property
    def enabled(self) -> list[Tool]:
        return [t for t in self.tools.values() if t.enabled]

    def get(self, name: str) -> Tool | None:
        """The enabled tool called `name`, or None."""
        found = self.tools.get(name)
        return found if found is not None and found.enabled else None

    def declarations(self) -> list:
        """What goes into LiveConnectConfig(tools=...): [] when no tool is enabled."""
        from google.genai import types

        enabled = self.enabled
        return [types.Tool(function_declarations=[t.declaration for t in enabled])] if enabled else []


@contextlib.asynccontextmanager
async def open_registry(
    config: Mapping[str, Any],
    *,
    config_source: str = "config.toml",
    extra_files: Sequence[Path] = (),
    no_tools: bool = False,
    memory_search: Callable[[str, int], Any] | None = None,
    tools_dir: Path | None = None,
    log_dir: Path | None = None,
) -> AsyncIterator[Registry]:
    """Load every tool; MCP servers run until the block ends.

    `config` is the whole parsed config.toml; a bad [tools] or [mcp_servers] table
    raises ConfigError, a missing `--tools` file a LivecliError. Everything that
    fails to load is a warning in `registry.warnings`.
    """
    tools_config = parse_tools(config, source=config_source)
    servers = parse_mcp_servers(config, source=config_source)
    for path in extra_files:
        if not Path(path).is_file():
            raise LivecliError(f"--tools {path}: no such file", ExitCode.USAGE)
    warnings: list[str] = []
    if no_tools:
        yield Registry({}, tools_config, warnings)
        return
    timeout_s = tools_config.timeout_s
    async with contextlib.AsyncExitStack() as stack:
        found = [function_tool(builtins.current_datetime, source="builtin", timeout_s=timeout_s)]
        if memory_search is not None:
            found.append(
                function_tool(builtins.make_search_memory(memory_search), source="builtin", timeout_s=timeout_s)
            )
        found += sources.plugin_tools(timeout_s=timeout_s, warnings=warnings)
        for path in sources.folder_files(tools_dir or paths.config_dir() / "tools"):
            found += sources.file_tools(path, timeout_s=timeout_s, warnings=warnings)
        for name, server in servers.items():
            found += await start_server(
                name,
                server,
                stack=stack,
                timeout_s=timeout_s,
                log_dir=log_dir or paths.data_dir() / "logs",
                warnings=warnings,
            )
        for path in extra_files:
            found += sources.file_tools(Path(path), timeout_s=timeout_s, warnings=warnings)
        yield Registry(_merge(found, tools_config, warnings), tools_config, warnings)


def _merge(found: list[Tool], config: ToolsConfig, warnings: list[str]) -> dict[str, Tool]:
    tools: dict[str, Tool] = {}
    for tool in found:
        if not _VALID_NAME.fullmatch(tool.name):
            warnings.append(f"{tool.source}: tool '{tool.name}' skipped: the Gemini API does not accept that name")
            continue
        if tool.name in tools:
            warnings.append(f"tool '{tool.name}' from {tool.source} replaces the one from {tools[tool.name].source}")
        tools[tool.name] = tool
    for key, names in (("enabled", config.enabled or ()), ("approval", config.approval), ("timeouts", config.timeouts)):
        for name in sorted(set(names) - set(tools)):
            warnings.append(f"[tools] {key} names '{name}', but no such tool is loaded")
    return {
        name: dataclasses.replace(
            tool,
            policy=config.approval.get(name, tool.policy),
            timeout_s=config.timeouts.get(name, tool.timeout_s),
            enabled=name not in config.disabled and (config.enabled is None or name in config.enabled),
        )
        for name, tool in tools.items()
    }
