"""Reading and writing config.toml: tomllib in, tomli_w out, other keys kept."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

import tomli_w

from livecli.errors import ConfigError
from livecli.settings import FIELDS, parse_value


def read(path: Path) -> dict[str, Any]:
    """The file's table, or {} when there is no file; TOML errors name file and line."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        # tomllib puts "(at line N, column M)" in the message.
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None


def set_value(path: Path, key: str, raw: str) -> Any:
    """Validate and store one key; returns the stored value."""
    value = parse_value(key, _coerce(raw), source=f"config key '{key}'")
    table = read(path)
    if value is None:
        table.pop(key, None)
    else:
        table[key] = value
    write(path, table)
    return value


def unset_value(path: Path, key: str) -> None:
    if key not in FIELDS:
        raise ConfigError(f"unknown key '{key}' (known keys: {', '.join(FIELDS)})")
    table = read(path)
    table.pop(key, None)
    write(path, table)


def write(path: Path, table: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".toml.tmp")
    tmp.write_text(tomli_w.dumps(table), encoding="utf-8")
    os.replace(tmp, path)


def _coerce(raw: str) -> Any:
    """Command-line values are text; TOML literals (true, 42) keep their type."""
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw
