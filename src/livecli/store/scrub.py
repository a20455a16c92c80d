"""Keeping secrets out of the store.

Settings lose every text or table whose name mentions a key, token or secret
(numbers and booleans such as `compression_trigger_tokens` cannot be one). Event
payloads keep their keys (usage has `total_tokens`), but lose values under
credential-like names and any string that looks like a Google API key, an
OAuth token or an ephemeral auth token.
"""

from __future__ import annotations

import re
from typing import Any

REDACTED = "[redacted]"
_SETTING_NAME = re.compile(r"key|token|secret|password", re.IGNORECASE)
_PAYLOAD_NAME = re.compile(
    r"api[_-]?key|secret|password|passwd|authorization|(access|refresh|auth|id|bearer)[_-]?token", re.IGNORECASE
)
_SECRET_VALUE = re.compile(r"AIza[0-9A-Za-z_\-]{30,}|ya29\.[0-9A-Za-z_\-.]+|auth_tokens/[0-9A-Za-z_\-]+")


def scrub_settings(settings: dict[str, Any]) -> dict[str, Any]:
    return {
        name: scrub(value)
        for name, value in settings.items()
        if not (_SETTING_NAME.search(name) and not isinstance(value, (bool, int, float)))
    }


def scrub(value: Any) -> Any:
    """`value` with credentials replaced by REDACTED, recursively."""
    if isinstance(value, str):
        return _SECRET_VALUE.sub(REDACTED, value)
    if isinstance(value, dict):
        return {k: REDACTED if _PAYLOAD_NAME.search(str(k)) else scrub(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub(v) for v in value]
    return value
