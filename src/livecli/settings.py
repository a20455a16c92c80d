"""Settings: every key the user can set, with its default and its validation.

One table (`FIELDS`) drives the config file, the environment (`LIVECLI_<KEY>`)
and the `config set` command; a test holds `config.example.toml` to its keys and
example values, so they cannot drift apart.
Precedence is flag > environment > config file > default; `load_settings` merges
them for the commands.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from livecli import config_file, paths
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
    record_pictures: bool = True
    keep_days: int = 90
    max_sessions: int = 0
    echo: str = ECHO_MODES[0]
    api_version: str | None = None  # None: the SDK's default
    budget_usd: float | None = None  # no budget
    idle_minutes: float | None = None  # never stand by
    token_command: str | None = None
    search: bool = True
    screen: str | None = None  # a monitor to share: "primary" or its number
    camera: str | None = None  # a webcam to share: an index or a device path

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


def _parse_amount(high: float) -> Callable[[Any], float | None]:
    """A number from 0 to `high`; 0 (or nothing) means none at all."""

    def parse(raw: Any) -> float | None:
        if isinstance(raw, bool):
            raise ValueError("expected a number")
        try:
            value = float(str(raw).strip().lstrip("$") or 0) if not isinstance(raw, (int, float)) else float(raw)
        except ValueError:
            raise ValueError("expected a number") from None
        if not 0 <= value <= high:
            raise ValueError(f"expected a number from 0 to {high:g}")
        return value or None

    return parse


def _parse_text(raw: Any) -> str | None:
    if isinstance(raw, bool) or not isinstance(raw, (str, int)):
        raise ValueError("expected text")
    text = str(raw).strip()
    return text or None


# The prebuilt voices of the Live models, the one list livecli checks names against
# (Vertex AI Live API, "Configure language and voice": 30 voices; Firebase AI Logic's
# Live API configuration page gives the same 30 for the Gemini Developer API).
VOICES = (
    "Achernar", "Achird", "Algenib", "Algieba", "Alnilam", "Aoede", "Autonoe", "Callirrhoe", "Charon", "Despina",
    "Enceladus", "Erinome", "Fenrir", "Gacrux", "Iapetus", "Kore", "Laomedeia", "Leda", "Orus", "Puck",
    "Pulcherrima", "Rasalgethi", "Sadachbia", "Sadaltager", "Schedar", "Sulafat", "Umbriel", "Vindemiatrix",
    "Zephyr", "Zubenelgenubi",
)  # fmt: skip


def _parse_voice(raw: Any) -> str | None:
    """A voice name, spelled as the service knows it whatever its case."""
    text = _parse_text(raw)
    if text is None:
        return None
    known = {name.lower(): name for name in VOICES}
    if text.lower() in known:
        return known[text.lower()]
    close = difflib.get_close_matches(text.lower(), known, n=1)
    hint = f"did you mean {known[close[0]]}? " if close else ""
    raise ValueError(f"no voice called '{text}'; {hint}voices: {', '.join(VOICES)}")


def _parse_echo(raw: Any) -> str:
    if isinstance(raw, str):
        text = raw.strip().lower().replace("_", "-")
        if text in ECHO_MODES:
            return text
    raise ValueError(f"expected one of {', '.join(ECHO_MODES)}")


API_VERSIONS = ("v1", "v1beta", "v1alpha")


def _parse_api_version(raw: Any) -> str | None:
    text = _parse_text(raw)
    if text is None or text.lower() in API_VERSIONS:
        return text and text.lower()
    raise ValueError(f"expected one of {', '.join(API_VERSIONS)}")


def _parse_screen(raw: Any) -> str | None:
    text = _parse_text(raw)
    if text is None or text.lower() == "primary" or text.isdigit():
        return text and text.lower()
    raise ValueError("expected primary or a monitor number (1, 2…)")


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
        Field(
            "voice", _parse_voice, "Prebuilt voice name (e.g. Puck, Kore, Charon); empty = the model's default.", "Puck"
        ),
        Field(
            "system",
            _parse_text,
            "System instruction: text, or @path/to/file.txt to read it from a file.",
            "You are a concise assistant.",
        ),
        Field("language", _parse_text, "BCP-47 language code for speech, e.g. en-US; empty = automatic.", "en-US"),
        Field(
            "input_device",
            _parse_device,
            "Microphone: device index or a unique part of its name; empty = system default.",
            "USB",
        ),
        Field(
            "output_device",
            _parse_device,
            "Speaker: device index or a unique part of its name; empty = system default.",
            "pulse",
        ),
        Field("text", _parse_bool, "Ask for text replies instead of audio.", False),
        Field("chunk_ms", _parse_int_range(20, 1000), "Length of each microphone chunk sent to the model, in ms.", 100),
        Field(
            "preroll_ms",
            _parse_int_range(0, 1000),
            "Model audio buffered before playback starts, in ms (absorbs network jitter).",
            60,
        ),
        Field("plain", _parse_bool, "Print one line per finished turn instead of the live layout.", False),
        Field(
            "context_compression",
            _parse_bool,
            "Let the service compress old context (sliding window), so sessions are not capped at 15 minutes.",
            True,
        ),
        Field(
            "compression_trigger_tokens",
            _parse_int_range(0, 10_000_000),
            "Context size in tokens that triggers compression; 0 = the service's default (about 80% of the model's window).",
            0,
        ),
        Field(
            "record_audio",
            _parse_bool,
            "Store both sides' audio with each session (for replay); false = transcripts only.",
            True,
        ),
        Field(
            "record_history",
            _parse_bool,
            "Store each session's transcript and events; false = nothing said is kept (no audio either).",
            True,
        ),
        Field(
            "record_pictures",
            _parse_bool,
            "Keep the pictures the model was shown (shared screen or camera, /image) with each session; only where audio is kept.",
            True,
        ),
        Field(
            "keep_days",
            _parse_int_range(0, 36500),
            "Talk deletes stored sessions older than this many days; 0 = keep them.",
            90,
        ),
        Field(
            "max_sessions",
            _parse_int_range(0, 1_000_000),
            "Keep at most this many stored sessions (the newest); 0 = no limit.",
            0,
        ),
        Field(
            "echo",
            _parse_echo,
            "Keeping the assistant's voice out of the microphone: auto (echo cancellation when the microphone hears the speaker, measured as Gemini speaks; untouched when it does not, as with headphones), aec (always echo cancellation; half-duplex when it is not installed), half-duplex (microphone muted while Gemini speaks), off (headphones).",
            "auto",
        ),
        Field(
            "budget_usd",
            _parse_amount(1_000_000),
            "End a talk session once its estimated cost passes this many US dollars (a warning at 80%); 0 = no budget.",
            0.5,
        ),
        Field(
            "idle_minutes",
            _parse_amount(24 * 60),
            "Stand by after this many minutes without speech: the connection closes (an idle session is still billed) and the next words reopen it; 0 = never.",
            5,
        ),
        Field(
            "token_command",
            _parse_text,
            "A command that prints a fresh ephemeral token (minted by your backend); talk runs it whenever it needs one, instead of using a key.",
            "my-backend mint-live-token",
        ),
        Field(
            "screen",
            _parse_screen,
            "Share a monitor with the model in every talk session: primary, or its number (1, 2…); empty = no sharing. `talk --screen [N]` for one session.",
            "primary",
        ),
        Field(
            "camera",
            _parse_text,
            "Share a webcam in every talk session: its index (0, 1…) or device path; empty = none. Needs livecli[camera].",
            "0",
        ),
        Field(
            "search",
            _parse_bool,
            "Let the model ground its answers in Google Search (sources shown under the answer).",
            True,
        ),
        Field(
            "api_version",
            _parse_api_version,
            "Live API version the SDK connects with: v1, v1beta or v1alpha; empty = the SDK's default (v1). Tokens always use v1alpha.",
            "v1",
        ),
    )
}


class BadSetting(ConfigError):
    """A key or a value livecli cannot use; `key` and `source` say where the fix goes."""

    def __init__(self, message: str, *, key: str, source: str):
        super().__init__(message)
        self.key = key
        self.source = source

    @property
    def environment_variable(self) -> str | None:
        """The variable it came from, if it came from the environment."""
        name = ENV_PREFIX + self.key.upper()
        return name if self.source == _environment_source(name) else None


def parse_value(key: str, raw: Any, *, source: str) -> Any:
    """Validate one setting; `source` names where it came from for the error."""
    field = FIELDS.get(key)
    if field is None:
        raise BadSetting(f"{source}: unknown key '{key}' (known keys: {', '.join(FIELDS)})", key=key, source=source)
    try:
        return field.parse(raw)
    except ValueError as exc:
        raise BadSetting(f"{source}: bad value for '{key}': {exc}", key=key, source=source) from None


# Tables in config.toml that belong to other parts of livecli (validated there).
TABLES = frozenset({"tools", "mcp_servers", "prices"})


def from_mapping(values: Mapping[str, Any], *, source: str) -> dict[str, Any]:
    """Validate the flat keys; tables listed in TABLES are left to their owners."""
    return {key: parse_value(key, raw, source=source) for key, raw in values.items() if key not in TABLES}


def from_environment(environ: Mapping[str, str]) -> dict[str, Any]:
    found = {}
    for key in FIELDS:
        env_name = ENV_PREFIX + key.upper()
        if env_name in environ:
            found[key] = parse_value(key, environ[env_name], source=_environment_source(env_name))
    return found


def _environment_source(variable: str) -> str:
    return f"environment variable {variable}"


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
    merged.update({k: parse_value(k, v, source=f"--{k.replace('_', '-')}") for k, v in flags.items() if v is not None})
    settings = Settings(**merged)
    if settings.system and settings.system.startswith("@"):
        settings = settings.replace(system=_read_system_file(settings.system[1:]))
    return settings


def load_settings(flags: Mapping[str, Any] | None = None, *, environ: Mapping[str, str] = os.environ) -> Settings:
    """The settings in effect: config.toml, then the environment, then these flags."""
    path = paths.config_file()
    return resolve(file_values=config_file.read(path), file_source=str(path), environ=environ, flags=flags or {})


def load_price_overrides() -> dict[str, dict[str, float]]:
    """config.toml's `[prices."MODEL"]` tables, checked (livecli.pricing prices with them)."""
    from livecli.pricing import parse_overrides  # not needed by most commands

    path = paths.config_file()
    return parse_overrides(config_file.read(path).get("prices", {}), source=str(path))


def save_setting(path: Path, key: str, raw: Any) -> Any:
    """Validate one setting and store it in config.toml (other keys kept); None or empty text removes it."""
    value = None if raw is None else parse_value(key, raw, source="config set")
    if value is None:
        config_file.remove_key(path, key)
    else:
        config_file.set_key(path, key, value)
    return value


def remove_setting(path: Path, key: str) -> None:
    """Take a key out of config.toml whatever its value, even one livecli does not know
    (the fix for a file that names it)."""
    if not config_file.remove_key(path, key) and key not in FIELDS:
        raise ConfigError(f"unknown key '{key}' (known keys: {', '.join(FIELDS)})")


def _read_system_file(path_text: str) -> str:
    path = Path(os.path.expanduser(path_text))
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise BadSetting(
            f"cannot read system instruction file {path}: {exc.strerror}", key="system", source=""
        ) from None
