"""Reading and writing config.toml: tomllib in, tomli_w out, other keys kept.

What a value means is the settings' business (settings.py validates); this
module only knows TOML, so it can still remove a key whose value is bad.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

import tomli_w

from livecli.errors import ConfigError


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


def set_key(path: Path, key: str, value: Any) -> None:
    table = read(path)
    table[key] = value
    write(path, table)


def remove_key(path: Path, key: str) -> bool:
    """Remove a top-level key, whatever its value; False if the file does not have it."""
    table = read(path)
    if key not in table:
        return False
    del table[key]
    write(path, table)
    return True


def write(path: Path, table: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".toml.tmp")
    tmp.write_text(tomli_w.dumps(table), encoding="utf-8")
    os.replace(tmp, path)


def toml_line(key: str, value: Any) -> str:
    """`key = value` as it reads in config.toml."""
    return tomli_w.dumps({key: value}).strip()


def parse_literal(raw: str) -> Any:
    """Command-line values are text; TOML literals (true, 42, -5) keep their type."""
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw
