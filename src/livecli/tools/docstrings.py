"""Google-style docstrings: the SDK puts the whole docstring in the description and
drops the `Args:` text, so livecli moves each argument's text into its schema."""

from __future__ import annotations

import inspect
import re

_SECTION = re.compile(r"(Args|Arguments|Parameters):\s*$")
_ENTRY = re.compile(r"\*{0,2}(\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$")


def split_docstring(doc: str | None) -> tuple[str, dict[str, str]]:
    """The docstring without its `Args:` section, and each argument's text."""
    lines = inspect.cleandoc(doc or "").splitlines()
    kept: list[str] = []
    args: dict[str, str] = {}
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not _SECTION.match(line.strip()):
            kept.append(line)
            continue
        section_indent = _indent(line)
        entry_indent = None
        name = None
        while i < len(lines) and (not lines[i].strip() or _indent(lines[i]) > section_indent):
            line = lines[i]
            i += 1
            if not line.strip():
                continue
            entry_indent = _indent(line) if entry_indent is None else entry_indent
            entry = _ENTRY.match(line.strip())
            if entry and _indent(line) <= entry_indent:
                name = entry.group(1)
                args[name] = entry.group(2).strip()
            elif name is not None:
                args[name] = f"{args[name]} {line.strip()}".strip()
    return "\n".join(kept).strip(), args


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())
