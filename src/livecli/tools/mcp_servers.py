"""MCP servers from `[mcp_servers.NAME]`: started over stdio with the `mcp` package,
kept running while the registry is open, their tools offered like any other.

A server that fails to start or to list its tools is one warning; its stderr goes
to a log file so it never garbles the talk screen.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

from livecli.tools.config import McpServerConfig
from livecli.tools.model import Tool, ToolError

START_TIMEOUT_S = 20.0


async def start_server(
    name: str,
    server: McpServerConfig,
    *,
    stack: contextlib.AsyncExitStack,
    timeout_s: float,
    log_dir: Path,
    warnings: list[str],
) -> list[Tool]:
    """Start one server (closed with `stack`) and return its tools; [] with a warning if it fails."""
    from mcp import ClientSession, StdioServerParameters, stdio_client

    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"mcp-{name}.log"
    label = f"mcp {name}"
    server_stack = contextlib.AsyncExitStack()
    try:
        errlog = server_stack.enter_context(open(log_path, "w", encoding="utf-8"))
        params = StdioServerParameters(command=server.command, args=server.args, env=server.env or None, cwd=server.cwd)
        read, write = await server_stack.enter_async_context(stdio_client(params, errlog=errlog))
        session = await server_stack.enter_async_context(ClientSession(read, write))
        async with asyncio.timeout(START_TIMEOUT_S):
            listed = await _initialize_and_list(session)
    except Exception as exc:
        await _close_quietly(server_stack)
        reason = "no answer in time" if isinstance(exc, TimeoutError) else _reason(exc)
        warnings.append(f"MCP server '{name}' failed to start: {reason} (its log: {log_path})")
        return []
    except BaseException:
        await _close_quietly(server_stack)
        raise
    stack.push_async_callback(_close_quietly, server_stack)
    tools = []
    for listed_tool in listed:
        if (
            server.include is not None and listed_tool.name not in server.include
        ) or listed_tool.name in server.exclude:
            continue
        tools.append(_as_tool(listed_tool, session, source=label, policy=server.approval, timeout_s=timeout_s))
    return tools


async def _initialize_and_list(session) -> list:
    from mcp.types import PaginatedRequestParams

    await session.initialize()
    listed, cursor = [], None
    while True:
        page = await session.list_tools(params=PaginatedRequestParams(cursor=cursor) if cursor else None)
        listed += page.tools
        cursor = page.next_cursor
        if not cursor:
            return listed


def _as_tool(listed_tool, session, *, source: str, policy, timeout_s: float) -> Tool:
    from google.genai import types

    async def invoke(args: dict) -> Any:
        return _result_value(await session.call_tool(listed_tool.name, args))

    declaration = types.FunctionDeclaration(
        name=listed_tool.name,
        description=listed_tool.description,
        parameters_json_schema=listed_tool.input_schema,  # the server's own schema
    )
    return Tool(
        name=listed_tool.name, source=source, declaration=declaration, invoke=invoke, policy=policy, timeout_s=timeout_s
    )


def _result_value(result) -> Any:
    """A CallToolResult as a JSON-able value; an MCP tool error raises ToolError."""
    text = "\n".join(getattr(block, "text", None) or f"[{block.type}]" for block in result.content)
    if result.is_error:
        raise ToolError(text or "the MCP tool failed")
    structured = result.structured_content
    if structured is None:
        return text
    # The Python MCP SDK wraps a non-object return value as {"result": value}.
    if isinstance(structured, dict) and set(structured) == {"result"}:
        return structured["result"]
    return structured


async def _close_quietly(stack: contextlib.AsyncExitStack) -> None:
    """Stop a server; one that failed or died has said so already, and must not
    turn the end of a talk session into a crash."""
    with contextlib.suppress(Exception):
        await stack.aclose()


def _reason(exc: BaseException) -> str:
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:  # anyio task groups wrap errors
        exc = exc.exceptions[0]
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
