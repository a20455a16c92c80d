"""The `[tools]` and `[mcp_servers.NAME]` tables of config.toml, validated here
(settings.py leaves tables to their owners)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pydantic

from livecli.errors import ConfigError
from livecli.tools.model import DEFAULT_TIMEOUT_S, Policy


class _Table(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)


class ToolsConfig(_Table):
    timeout_s: pydantic.PositiveFloat = DEFAULT_TIMEOUT_S
    approval_timeout_s: pydantic.PositiveFloat = 30.0
    enabled: frozenset[str] | None = None  # None: every tool
    disabled: frozenset[str] = frozenset()
    approval: dict[str, Policy] = {}
    timeouts: dict[str, pydantic.PositiveFloat] = {}


class McpServerConfig(_Table):
    command: str
    args: list[str] = []
    env: dict[str, str] = {}
    cwd: str | None = None
    include: frozenset[str] | None = None  # None: every tool the server offers
    exclude: frozenset[str] = frozenset()
    approval: Policy = Policy.ASK  # for its tools, unless [tools.approval] says otherwise


def parse_tools(config: Mapping[str, Any], *, source: str) -> ToolsConfig:
    return _validate(ToolsConfig, config.get("tools", {}), f"{source}: [tools]")


def parse_mcp_servers(config: Mapping[str, Any], *, source: str) -> dict[str, McpServerConfig]:
    servers = config.get("mcp_servers", {})
    if not isinstance(servers, Mapping):
        raise ConfigError(f"{source}: mcp_servers must be a table of [mcp_servers.NAME] tables")
    return {
        name: _validate(McpServerConfig, table, f"{source}: [mcp_servers.{name}]") for name, table in servers.items()
    }


def _validate(model: type[_Table], raw: Any, where: str):
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where} must be a table")
    try:
        return model.model_validate(raw)
    except pydantic.ValidationError as exc:
        error = exc.errors()[0]
        key = ".".join(str(part) for part in error["loc"])
        if error["type"] == "extra_forbidden":
            raise ConfigError(f"{where}: unknown key '{key}' (known keys: {', '.join(model.model_fields)})") from None
        raise ConfigError(f"{where}: bad value for '{key}': {error['msg']}") from None
