"""Every message the fake sends is checked against the SDK's own model of a server message."""

from __future__ import annotations

import base64
import binascii
import copy
import enum
import json
from collections.abc import Mapping
from typing import Any

import pydantic
from google.genai import _live_converters, types

from .wire import abbrev


class InvalidServerMessage(AssertionError):
    """A message the fake server was about to send is not a valid LiveServerMessage."""


# Wire names the SDK's receive path renames on the way in (its _live_converters): the model
# itself knows only the new names, so the strict check reads the message through them.
_RENAMES = {
    False: {("voiceActivity", "type"): "voiceActivityType"},
    True: {
        ("voiceActivity", "type"): "voiceActivityType",
        ("usageMetadata", "candidatesTokenCount"): "responseTokenCount",
        ("usageMetadata", "candidatesTokensDetails"): "responseTokensDetails",
    },
}


def validate_server_message(message: Mapping[str, Any], *, vertex: bool = False) -> str:
    """Validate one server->client message (Developer API, or Vertex with ``vertex``); return its JSON.

    Checks, in order:

    1. ``types.LiveServerMessage.model_validate_json(text, strict=True, by_alias=True,
       by_name=False)``: unknown keys are rejected (the SDK models have
       ``extra='forbid'``), snake_case keys are rejected (the service speaks camelCase;
       the SDK models would otherwise accept both), no type coercion (``"yes"`` for a bool).
       Fields the SDK's converters rename (``voiceActivity.type``; Vertex's
       ``candidatesTokenCount``) are checked under the name they get.
    2. A round trip: the validated model dumped back (camelCase, no ``None``) must equal
       the message, so explicit ``null``s, unknown enum values (the SDK only warns and
       invents a member), lower-case enum spellings, and bytes that are not strict
       standard base64 are rejected too.
    3. The SDK's real receive path (``_LiveServerMessage_from_mldev`` or ``_from_vertex``, then
       ``LiveServerMessage._from_response``, which silently drops unknown fields) must
       produce the same object, so nothing the server sends is lost on the client.
    """
    if not isinstance(message, Mapping) or not message:
        raise InvalidServerMessage(f"server message must be a non-empty object: {message!r}")
    try:
        text = json.dumps(message, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidServerMessage(f"server message is not JSON-serialisable: {exc}") from exc
    as_model = _renamed(json.loads(text), _RENAMES[vertex])
    try:
        model = types.LiveServerMessage.model_validate_json(
            json.dumps(as_model), strict=True, by_alias=True, by_name=False
        )
    except pydantic.ValidationError as exc:
        raise InvalidServerMessage(f"not a valid LiveServerMessage: {exc}\nmessage: {abbrev(message)}") from exc
    dumped = model.model_dump(mode="python", by_alias=True, exclude_none=True)
    _compare(as_model, dumped, "$")
    convert = (
        _live_converters._LiveServerMessage_from_vertex if vertex else _live_converters._LiveServerMessage_from_mldev
    )
    sdk_view = types.LiveServerMessage._from_response(response=convert(json.loads(text)), kwargs={})
    if sdk_view != model:
        raise InvalidServerMessage(
            f"the SDK's receive path does not reproduce the message (a field it does not map?): {abbrev(message)}"
        )
    return text


def _renamed(message: dict, renames: Mapping[tuple[str, str], str]) -> dict:
    out = copy.deepcopy(message)
    for (top, key), new in renames.items():
        body = out.get(top)
        if isinstance(body, dict) and key in body:
            body[new] = body.pop(key)
    return out


def _compare(orig: Any, dumped: Any, path: str) -> None:
    if isinstance(dumped, enum.Enum):
        members = type(dumped).__members__
        if members.get(dumped.name) is not dumped:
            raise InvalidServerMessage(f"{path}: {orig!r} is not a valid {type(dumped).__name__}")
        if orig != dumped.value:
            raise InvalidServerMessage(f"{path}: enum spelled {orig!r}, expected {dumped.value!r}")
        return
    if isinstance(dumped, bytes):
        if not isinstance(orig, str):
            raise InvalidServerMessage(f"{path}: bytes must be a base64 string")
        try:
            decoded = base64.b64decode(orig, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise InvalidServerMessage(f"{path}: not standard base64: {exc}") from exc
        if decoded != dumped:
            raise InvalidServerMessage(f"{path}: base64 round trip differs")
        return
    if isinstance(dumped, dict):
        if not isinstance(orig, Mapping):
            raise InvalidServerMessage(f"{path}: expected an object, got {orig!r}")
        if set(orig) != set(dumped):
            raise InvalidServerMessage(
                f"{path}: keys {sorted(orig)} do not survive validation (got back "
                f"{sorted(dumped)}); nulls are not allowed"
            )
        for key, value in dumped.items():
            _compare(orig[key], value, f"{path}.{key}")
        return
    if isinstance(dumped, list):
        if not isinstance(orig, (list, tuple)) or len(orig) != len(dumped):
            raise InvalidServerMessage(f"{path}: list does not survive validation")
        for i, (a, b) in enumerate(zip(orig, dumped)):
            _compare(a, b, f"{path}[{i}]")
        return
    if isinstance(dumped, bool) or isinstance(orig, bool):
        if type(orig) is not type(dumped) or orig != dumped:
            raise InvalidServerMessage(f"{path}: {orig!r} != {dumped!r}")
        return
    if orig != dumped:
        raise InvalidServerMessage(f"{path}: {orig!r} != {dumped!r}")
