"""Tools the model can call: plain Python functions, plugins and MCP servers.

The talk session uses `open_registry` (what to declare to the model) and
`ToolRunner` (run the model's calls, with approvals and timeouts). Plugin authors
only need `tool` (optional options) and `ToolError`.
"""

from livecli.tools.declare import tool
from livecli.tools.model import Policy, Scheduling, Tool, ToolError
from livecli.tools.registry import Registry, open_registry
from livecli.tools.runner import ToolRunner

__all__ = [
    "Policy",
    "Registry",
    "Scheduling",
    "Tool",
    "ToolError",
    "ToolRunner",
    "open_registry",
    "tool",
]
