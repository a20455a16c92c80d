"""The API key: from the environment, or a file only the user can read.

The key is only ever handed to the SDK; it is never printed or logged. When
the service accepts it, the time is noted next to the key file with a
fingerprint of the key (a hash, never the key), so `keys status` can say
when this key last worked.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import datetime

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
    _write_private(key_file, key + "\n")


def delete_key(key_file: Path) -> bool:
    _accepted_file(key_file).unlink(missing_ok=True)
    try:
        key_file.unlink()
    except FileNotFoundError:
        return False
    return True


def mark_accepted(key: str, key_file: Path) -> None:
    """Note that the service accepted `key` just now (for `keys status`); never fails."""
    import datetime  # here, like hashlib: `livecli --help` loads this module

    stamp = {
        "accepted_at": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "key": _fingerprint(key),
    }
    try:
        _write_private(_accepted_file(key_file), json.dumps(stamp) + "\n")
    except OSError:
        pass  # a note that cannot be written is no reason to fail


def last_accepted(key: str, key_file: Path) -> datetime.datetime | None:
    """When the service last accepted this very key, if livecli saw it."""
    import datetime

    try:
        stamp = json.loads(_accepted_file(key_file).read_text(encoding="utf-8"))
        if stamp.get("key") == _fingerprint(key):
            return datetime.datetime.fromisoformat(stamp["accepted_at"])
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        pass
    return None


def _accepted_file(key_file: Path) -> Path:
    return key_file.with_name(key_file.name + ".accepted")


def _fingerprint(key: str) -> str:
    import hashlib

    return hashlib.sha256(key.encode()).hexdigest()[:16]


def _write_private(path: Path, text: str) -> None:
    """Readable only by the user (0600), written atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
