"""Settings: every key the user can set, with its default and its validation.

One table (`FIELDS`) drives the config file, the environment (`LIVECLI_<KEY>`)
and the `config set` command; a test holds `config.example.toml` to its keys and
example values, so they cannot drift apart.
Precedence is flag > environment > config file > default.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from livecli.errors import ConfigError
from livecli.formats import ECHO_MODES

DEFAULT_MODEL = "gemini-3.8-live"
ENV_PREFIX = "LIVECLI_"


@dataclasses.dataclass(frozen=True)
class Settings:
    model: str = DEFAULT_MODEL
    voice: str | None = None
    system: str | None = None
    language: str | None = None
    input_device: str | None = None
    output_device: str | None = None
    text: bool = False
    chunk_ms: int = 100
    preroll_ms: int = 60
    plain: bool = False
    context_compression: bool = True
    compression_trigger_tokens: int = 0
    record_audio: bool = True
    record_history: bool = True
    keep_days: int = 90
    max_sessions: int = 0
    echo: str = ECHO_MODES[0]

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


def _parse_bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off"}:
        return False
    raise ValueError("expected true or false")


def _parse_int_range(low: int, high: int) -> Callable[[Any], int]:
    def parse(raw: Any) -> int:
        if isinstance(raw, bool):
            raise ValueError("expected a whole number")
        try:
            value = int(str(raw).strip()) if not isinstance(raw, int) else raw
        except ValueError:
            raise ValueError("expected a whole number") from None
        if not low <= value <= high:
            raise ValueError(f"expected a number from {low} to {high}")
        return value

    return parse


def _parse_text(raw: Any) -> str | None:
    if isinstance(raw, bool) or not isinstance(raw, (str, int)):
        raise ValueError("expected text")
    text = str(raw).strip()
    return text or None


def _parse_echo(raw: Any) -> str:
    if isinstance(raw, str):
        text = raw.strip().lower().replace("_", "-")
        if text in ECHO_MODES:
            return text
    raise ValueError(f"expected one of {', '.join(ECHO_MODES)}")


def _parse_device(raw: Any) -> str | None:
    """A device is an index or a name substring; both are kept as text."""
    return _parse_text(raw)


@dataclasses.dataclass(frozen=True)
class Field:
    name: str
    parse: Callable[[Any], Any]
    help: str
    example: Any


FIELDS: dict[str, Field] = {
    f.name: f
    for f in (
        Field("model", _parse_text, "Gemini Live model to talk to.", DEFAULT_MODEL),
        Field("voice", _parse_text, "Prebuilt voice name (e.g. Puck, Kore, Charon); empty = the model's default.", "Puck"),
        Field("system", _parse_text, "System instruction: text, or @path/to/file.txt to read it from a file.", "You are a concise assistant."),
        Field("language", _parse_text, "BCP-47 language code for speech, e.g. en-US; empty = automatic.", "en-US"),
        Field("input_device", _parse_device, "Microphone: device index or a unique part of its name; empty = system default.", "USB"),
        Field("output_device", _parse_device, "Speaker: device index or a unique part of its name; empty = system default.", "pulse"),
        Field("text", _parse_bool, "Ask for text replies instead of audio.", False),
        Field("chunk_ms", _parse_int_range(20, 1000), "Length of each microphone chunk sent to the model, in ms.", 100),
        Field("preroll_ms", _parse_int_range(0, 1000), "Model audio buffered before playback starts, in ms (absorbs network jitter).", 60),
        Field("plain", _parse_bool, "Print one line per finished turn instead of the live layout.", False),
        Field("context_compression", _parse_bool, "Let the service compress old context (sliding window), so sessions are not capped at 15 minutes.", True),
        Field("compression_trigger_tokens", _parse_int_range(0, 10_000_000), "Context size in tokens that triggers compression; 0 = the service's default (about 80% of the model's window).", 0),
        Field("record_audio", _parse_bool, "Store both sides' audio with each session (for replay); false = transcripts only.", True),
        Field("record_history", _parse_bool, "Store each session's transcript and events; false = nothing said is kept (no audio either).", True),
        Field("keep_days", _parse_int_range(0, 36500), "Talk deletes stored sessions older than this many days; 0 = keep them.", 90),
        Field("max_sessions", _parse_int_range(0, 1_000_000), "Keep at most this many stored sessions (the newest); 0 = no limit.", 0),
        Field("echo", _parse_echo, "Keeping the assistant's voice out of the microphone: auto (echo cancellation when the microphone hears the speaker, measured as Gemini speaks; untouched when it does not, as with headphones), aec (always echo cancellation; half-duplex when it is not installed), half-duplex (microphone muted while Gemini speaks), off (headphones).", "auto"),
    )
}


def parse_value(key: str, raw: Any, *, source: str) -> Any:
    """Validate one setting; `source` names where it came from for the error."""
    field = FIELDS.get(key)
    if field is None:
        raise ConfigError(f"{source}: unknown key '{key}' (known keys: {', '.join(FIELDS)})")
    try:
        return field.parse(raw)
    except ValueError as exc:
        raise ConfigError(f"{source}: bad value for '{key}': {exc}") from None


# Tables in config.toml that belong to other parts of livecli (validated there).
TABLES = frozenset({"tools", "mcp_servers"})


def from_mapping(values: Mapping[str, Any], *, source: str) -> dict[str, Any]:
    """Validate the flat keys; tables listed in TABLES are left to their owners."""
    return {key: parse_value(key, raw, source=source) for key, raw in values.items() if key not in TABLES}


def from_environment(environ: Mapping[str, str]) -> dict[str, Any]:
    found = {}
    for key in FIELDS:
        env_name = ENV_PREFIX + key.upper()
        if env_name in environ:
            found[key] = parse_value(key, environ[env_name], source=f"environment variable {env_name}")
    return found


def resolve(
    *,
    file_values: Mapping[str, Any],
    file_source: str,
    environ: Mapping[str, str],
    flags: Mapping[str, Any],
) -> Settings:
    """Merge the layers: flag > environment > config file > default."""
    merged: dict[str, Any] = {}
    merged.update(from_mapping(file_values, source=file_source))
    merged.update(from_environment(environ))
    merged.update(from_mapping({k: v for k, v in flags.items() if v is not None}, source="option"))
    settings = Settings(**merged)
    if settings.system and settings.system.startswith("@"):
        settings = settings.replace(system=_read_system_file(settings.system[1:]))
    return settings


def _read_system_file(path_text: str) -> str:
    path = Path(os.path.expanduser(path_text))
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"cannot read system instruction file {path}: {exc.strerror}") from None
