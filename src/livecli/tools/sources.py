"""Where Python tools come from: entry-point plugins and `.py` files.

Each failure (a plugin that does not import, a function that cannot be declared)
becomes one warning naming it; everything else still loads.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import inspect
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

from livecli.tools.declare import function_tool
from livecli.tools.model import Tool

ENTRY_POINT_GROUP = "livecli.tools"


def plugin_tools(*, timeout_s: float, warnings: list[str]) -> list[Tool]:
    """Tools from installed packages: each entry point names a function or a list of them."""
    found = []
    for entry in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        dist = entry.dist.name if entry.dist is not None else entry.value.split(":")[0]
        label = f"plugin {dist}"
        try:
            loaded = entry.load()
        except Exception as exc:
            warnings.append(f"{label}: entry point '{entry.name}' failed to load: {_reason(exc)}")
            continue
        functions = loaded if isinstance(loaded, (list, tuple)) else [loaded]
        found += _declare_all(functions, source=label, timeout_s=timeout_s, warnings=warnings)
    return found


def file_tools(path: Path, *, timeout_s: float, warnings: list[str]) -> list[Tool]:
    """Tools from one Python file: its public functions (not the ones it imports)."""
    label = f"file {path}"
    module_name = f"livecli_tools_file_{abs(hash(str(path.resolve())))}"
    try:
        spec = importlib.util.spec_from_file_location(module_name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module  # dataclasses and pydantic look their module up
        spec.loader.exec_module(module)
    except Exception as exc:
        sys.modules.pop(module_name, None)
        warnings.append(f"{label}: failed to load: {_reason(exc)}")
        return []
    functions = [
        value
        for name, value in vars(module).items()
        if inspect.isfunction(value) and value.__module__ == module_name and not name.startswith("_")
    ]
    return _declare_all(functions, source=label, timeout_s=timeout_s, warnings=warnings)


def folder_files(folder: Path) -> list[Path]:
    """The `.py` files of the config folder's tools/ (those starting with `_` are helpers)."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("*.py") if not p.name.startswith("_"))


def _declare_all(functions: Iterable[Callable], *, source: str, timeout_s: float, warnings: list[str]) -> list[Tool]:
    tools = []
    for fn in functions:
        name = getattr(fn, "__name__", repr(fn))
        if not callable(fn):
            warnings.append(f"{source}: {name} is not a function")
            continue
        try:
            tools.append(function_tool(fn, source=source, timeout_s=timeout_s))
        except Exception as exc:
            warnings.append(f"{source}: tool '{name}' cannot be declared: {_reason(exc)}")
    return tools


def _reason(exc: BaseException) -> str:
    """The first line of the error: SDK messages go on with advice the user does not need."""
    text = str(exc).split("\n", 1)[0]
    first_sentence = text.split(".Automatic function calling", 1)[0]
    return f"{type(exc).__name__}: {first_sentence}" if first_sentence else type(exc).__name__
