"""The API key: from the environment, or a file only the user can read.

The key is only ever handed to the SDK; it is never printed or logged.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from livecli.errors import AuthError, ConfigError

ENV_NAMES = ("GEMINI_API_KEY", "GOOGLE_API_KEY")
VERTEX_ENV = "GOOGLE_GENAI_USE_VERTEXAI"
MISSING_KEY_MESSAGE = "no API key: set GEMINI_API_KEY or run `livecli keys set`"


def uses_vertex(environ: Mapping[str, str]) -> bool:
    return environ.get(VERTEX_ENV, "").strip().lower() in {"1", "true", "yes"}


def find_key(environ: Mapping[str, str], key_file: Path) -> tuple[str, str] | None:
    """(key, where it came from), or None."""
    for name in ENV_NAMES:
        value = environ.get(name, "").strip()
        if value:
            return value, f"environment variable {name}"
    try:
        stored = key_file.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(f"cannot read the stored key {key_file}: {exc.strerror}") from None
    return (stored, f"key file {key_file}") if stored else None


def require_key(environ: Mapping[str, str], key_file: Path) -> str:
    found = find_key(environ, key_file)
    if found is None:
        raise AuthError(MISSING_KEY_MESSAGE)
    return found[0]


def store_key(key_file: Path, key: str) -> None:
    """Write the key readable only by the user (0600), atomically."""
    key = key.strip()
    if not key:
        raise ConfigError("empty key: nothing stored")
    if any(ch.isspace() for ch in key):
        raise ConfigError("an API key has no spaces: nothing stored")
    key_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = key_file.with_name(key_file.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(key + "\n")
    os.chmod(tmp, 0o600)
    os.replace(tmp, key_file)


def delete_key(key_file: Path) -> bool:
    try:
        key_file.unlink()
    except FileNotFoundError:
        return False
    return True

