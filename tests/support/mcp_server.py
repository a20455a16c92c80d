"""A tiny MCP server over stdio for the tools tests (run: python mcp_server.py).

Tools: `add` (two integers), `shout` (upper-cases text), `fail` (always an MCP
tool error with the given reason). The mcp 2.x `MCPServer` is what 1.x called FastMCP.
"""

from __future__ import annotations

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

server = MCPServer("livecli-test")


@server.tool()
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@server.tool()
def shout(text: str) -> str:
    """Return the text in upper case."""
    return text.upper()


@server.tool()
def fail(reason: str) -> str:
    """Always fails with the given reason."""
    raise ToolError(reason)


if __name__ == "__main__":
    server.run("stdio")
