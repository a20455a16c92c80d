"""The Live service's refusals and the network's failures, as one line the user can act on.

The service closes the websocket with a code and a reason cut at 123 bytes (the most a close
frame holds), so reasons are recognised by how they start, never by how they end. What each
one means (NOTES.md, "The real service on the wire"):

| code | reason starts with | livecli |
|---|---|---|
| 1007 | "API key not valid." / "API Key not found." / "API key expired." | AuthError (a token: TokenRefused) |
| 1007 | "Request contains an invalid argument." and other setup refusals | AuthError naming the likely setting |
| 1008 | "models/X is not found for API version V…" | AuthError naming the model |
| 1008 | "Connection aborted because the client failed to close … GoAway…" | ConnectionFailed (resume) |
| 1008 | anything else (a stale resumption handle, policy) | AuthError |
| 1011 | "You exceeded your current quota…" (about 0.8 s after setupComplete) | QuotaExceeded (no retry) |
| 1011 | "Deadline expired…" (an old-style 10-minute cut) and others | ConnectionFailed (resume) |
"""

from __future__ import annotations

import re
import ssl
from typing import Any

from google.genai import errors as genai_errors
from websockets.exceptions import InvalidStatus, WebSocketException

from livecli.errors import AuthError, ConnectionFailed, LivecliError, QuotaExceeded
from livecli.settings import Settings

QUOTA_HINT = (
    "wait for the quota to reset or raise it (https://ai.google.dev/gemini-api/docs/rate-limits); "
    "livecli does not retry"
)
LIST_MODELS_HINT = "`livecli models` lists the Live models your key can use"
# The HTTP libraries the SDK's REST calls (models.list, auth_tokens.create) may go through; their
# failures to connect carry the network's own error as their cause.
_HTTP_LIBRARIES = frozenset({"httpx", "httpx2", "httpcore", "httpcore2", "aiohttp"})
_UNKNOWN_MODEL = re.compile(r"models/(?P<model>\S+) is not found for API version (?P<version>\w+)")


class TokenRefused(AuthError):
    """The service refused the ephemeral token at connect time (expired, unknown, or used up)."""


def translate_error(exc: BaseException, *, settings: Settings | None = None, token: bool = False) -> BaseException:
    """The SDK's and the network's failures as one line the user can act on (never with the key).
    `token`: the failure came while connecting with an ephemeral token."""
    if isinstance(exc, LivecliError):
        return exc
    if isinstance(exc, genai_errors.APIError):
        return _refusal(exc.code, _reason(exc), settings, token)
    if isinstance(exc, InvalidStatus):
        return ConnectionFailed(
            f"the Live service answered HTTP {exc.response.status_code}: check the model name and base URL"
        )
    if isinstance(exc, WebSocketException):
        return ConnectionFailed(f"the Live connection failed: {exc}")
    if isinstance(exc, ssl.SSLError):
        return ConnectionFailed(f"TLS failed with the Live service: {exc.reason or exc}")
    if isinstance(exc, TimeoutError):  # an OSError too: said first, as it has no strerror of its own
        return ConnectionFailed("cannot reach the Live service: timed out")
    if isinstance(exc, OSError):
        detail = exc.strerror or str(exc) or type(exc).__name__
        return ConnectionFailed(f"cannot reach the Live service: {detail}")
    if type(exc).__module__.partition(".")[0] in _HTTP_LIBRARIES:
        cause = _network_cause(exc)
        return (
            translate_error(cause)
            if cause is not None
            else ConnectionFailed(f"cannot reach the Live service: {exc or type(exc).__name__}")
        )
    return exc


def _network_cause(exc: BaseException) -> OSError | None:
    """The OSError (refused, unreachable, TLS, timed out) an HTTP library's error was raised from."""
    seen = exc.__cause__ or exc.__context__
    while seen is not None and not isinstance(seen, OSError):
        seen = seen.__cause__ or seen.__context__
    return seen


def _refusal(code: int, reason: str, settings: Settings | None, token: bool) -> LivecliError:
    said = f"({code}): {reason}"
    if code == 1000:
        return ConnectionFailed("the Live service closed the session")
    if code == 1011 and reason.startswith("You exceeded your current quota"):
        return QuotaExceeded(f"the Live service refused for quota {said} — {QUOTA_HINT}")
    if code == 1008 and (found := _UNKNOWN_MODEL.match(reason)):
        return AuthError(
            f"the Live service does not know the model '{found['model']}' or cannot do Live with it "
            f"(API version {found['version']}) — {LIST_MODELS_HINT}"
        )
    if code == 1008 and reason.startswith("Connection aborted because the client failed to close"):
        return ConnectionFailed(f"the Live service cut the connection after its goAway {said}")
    if token and (reason.lower().startswith("api key") or reason.startswith("The service is currently unavailable")):
        return TokenRefused(f"the Live service refused the token {said} — it may have expired or been used up")
    if code == 1007 and not reason.lower().startswith("api key") and settings is not None:
        return AuthError(f"the Live service refused the session {said}{_likely_culprits(settings)}")
    if code in (1007, 1008):
        return AuthError(f"the Live service refused the session {said}")
    return ConnectionFailed(f"the Live connection closed {said}")


def _likely_culprits(settings: Settings) -> str:
    """The settings in the setup the service most often refuses, when the user set them."""
    if settings.text:
        return f" — the model {settings.model} may not answer in text: set text = false"
    suspects = [
        f"{name} '{value}'"
        for name, value in (
            ("voice", settings.voice),
            ("language", settings.language),
            ("api_version", settings.api_version),
        )
        if value
    ]
    if settings.compression_trigger_tokens:
        suspects.append(f"compression_trigger_tokens {settings.compression_trigger_tokens}")
    if not suspects:
        return ""
    return f" — check {', '.join(suspects)} (unset to try without)"


def _reason(exc: genai_errors.APIError) -> str:
    details: Any = exc.details
    if isinstance(details, dict):
        text = details.get("message") or details.get("error", {}).get("message")
        if text:
            return str(text)
    return str(exc.message or details or "no reason given")
