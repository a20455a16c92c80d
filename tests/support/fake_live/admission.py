"""How the fake admits a connection (key or token, model and setup, resumption handle), and the
REST call that mints tokens: the part of the server that stands at the door."""

from __future__ import annotations

import asyncio
import contextlib
import http
import json
import re
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from . import wire
from .conn import Conn
from .front import MintedToken
from .models import model_name, refusal
from .wire import Received, Session, g

if TYPE_CHECKING:
    from .server import FakeLiveServer

PATH_RE = re.compile(
    r"^/+ws/(?:google\.ai\.generativelanguage\.(?P<version>v1|v1beta|v1alpha)"
    r"\.GenerativeService\.(?P<method>BidiGenerateContent|BidiGenerateContentConstrained)"
    r"|google\.cloud\.aiplatform\.(?P<vertex>v1|v1beta1)\.LlmBidiService/BidiGenerateContent)/?$"
)


class Admission:
    """Mixed into FakeLiveServer."""

    # ------------------------------------------------------------------ REST (auth_tokens.create)

    def _rest(
        self: FakeLiveServer, method: str, path: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, dict]:
        try:
            payload = json.loads(body or b"{}")
        except ValueError:
            payload = None
        self._record(
            self.rest_calls, Received(time.monotonic(), "rest", {"method": method, "path": path, "body": payload})
        )
        route = (method, path.split("?")[0])
        if route not in {
            ("POST", "/v1alpha/auth_tokens"),
            *(("GET", f"/{v}/models") for v in ("v1", "v1beta", "v1alpha")),
        }:
            return _rest_error(http.HTTPStatus.NOT_FOUND, f"Method not found: {method} {path}", "NOT_FOUND")
        if self.api_key is not None and headers.get("x-goog-api-key") != self.api_key:
            return _rest_error(http.HTTPStatus.BAD_REQUEST, wire.API_KEY_INVALID[1], "INVALID_ARGUMENT")
        if method == "GET":  # models.list: the Live models, and one that cannot do Live
            live = [
                {"name": f"models/{name}", "supportedGenerationMethods": ["bidiGenerateContent"]}
                for name in self.models
            ]
            return 200, {
                "models": [*live, {"name": "models/text-embedding-004", "supportedGenerationMethods": ["embedContent"]}]
            }
        if not isinstance(payload, dict):
            return _rest_error(http.HTTPStatus.BAD_REQUEST, "Invalid JSON payload received.", "INVALID_ARGUMENT")
        with self._cond:
            return 200, self.tokens.mint(payload)

    # ------------------------------------------------------------------ websocket plumbing

    def _process_request(self: FakeLiveServer, connection: ServerConnection, request: Any) -> Any:
        self._record(
            self.handshakes,
            Received(
                time.monotonic(), "handshake", {"path": request.path, "headers": dict(request.headers.raw_items())}
            ),
        )
        if not PATH_RE.match(request.path.split("?", 1)[0]):
            return connection.respond(http.HTTPStatus.NOT_FOUND, "Not Found\n")
        return None

    def _admit(self: FakeLiveServer, request: Any, setup: dict) -> tuple[int, str] | dict:
        """The setup the session runs with, or how the service refuses the connection."""
        path = PATH_RE.match(request.path.split("?", 1)[0])
        assert path is not None
        if path["method"] == "BidiGenerateContentConstrained":
            auth = request.headers.get("Authorization", "")
            name = auth[len("Token ") :] if auth.startswith("Token ") else ""
            resuming = bool(g(g(setup, "session_resumption"), "handle"))
            with self._cond:
                token = self.tokens.admit(name, resuming=resuming, resumption_uses=self.resumption_uses_token)
            if not isinstance(token, MintedToken):
                return token
            setup = _locked(setup, token)
        elif self.api_key is not None and request.headers.get("x-goog-api-key") != self.api_key:
            return wire.API_KEY_INVALID
        return refusal(setup, self.models, path["version"] or path["vertex"]) or setup

    async def _handler(self: FakeLiveServer, ws: ServerConnection) -> None:
        conn_id = next(self._conn_ids)
        self._event("connected", conn_id, path=ws.request.path)
        conn: Conn | None = None
        try:
            try:
                first = await asyncio.wait_for(ws.recv(), self.setup_timeout)
            except (TimeoutError, ConnectionClosed):
                return
            try:
                frame = json.loads(first)
            except (ValueError, UnicodeDecodeError):
                await ws.close(1007, "Invalid JSON payload received.")
                return
            if not isinstance(frame, dict) or not isinstance(frame.get("setup"), dict):
                self._event("bad_setup", conn_id, frame=wire.abbrev(frame))
                await ws.close(1007, "Invalid JSON payload received. First message must be setup.")
                return
            admitted = self._admit(ws.request, frame["setup"])
            if isinstance(admitted, tuple):
                kind = "auth_failed" if admitted in (wire.API_KEY_INVALID, wire.API_KEY_EXPIRED) else "refused"
                self._event(kind, conn_id, code=admitted[0], reason=admitted[1])
                await ws.close(admitted[0], wire.cut_reason(admitted[1]))
                return
            setup = admitted
            with self._cond:
                self.setups.append(setup)
                self._cond.notify_all()
            self._event("setup", conn_id, model=setup.get("model"))
            session = await self._session_for(ws, conn_id, setup)
            if session is None:
                return
            conn = Conn(self, ws, conn_id, setup, session, self.models[model_name(setup)])
            self._conns[conn_id] = conn
            await conn.run()
        except ConnectionClosed:
            pass
        except Exception as exc:  # a bug in the fake (or an invalid message): fail loudly
            self._error(exc, conn_id)
            with contextlib.suppress(Exception):
                await ws.close(1011, f"fake server error: {exc!r}"[:120])
        finally:
            if conn is not None:
                await conn.shutdown()
            self._conns.pop(conn_id, None)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(), 3)  # no-op if already closed
            self._event("closed", conn_id, code=ws.close_code, reason=ws.close_reason)

    async def _session_for(self: FakeLiveServer, ws: ServerConnection, conn_id: int, setup: dict) -> Session | None:
        """The session a resumption handle continues, a new one, or None (refused and closed)."""
        handle = g(g(setup, "session_resumption"), "handle")
        if handle:
            session = self._sessions_by_handle.get(handle)
            if session is not None:
                session.resumed += 1
                self._event("resumed", conn_id, handle=handle, session=session.id)
                return session
            if self.unknown_handle == "error":
                self._event("resume_rejected", conn_id, handle=handle)
                await ws.close(*self.unknown_handle_close)
                return None
            self._event("resume_unknown", conn_id, handle=handle)
        return Session(id=f"session-{next(self._session_ids)}")


def _locked(setup: dict, token: MintedToken) -> dict:
    """The setup with the token's locked fields in force (the token wins)."""
    merged = {**setup, **{k: v for k, v in token.setup.items() if k != "generationConfig"}}
    if "generationConfig" in token.setup:
        merged["generationConfig"] = {**(setup.get("generationConfig") or {}), **token.setup["generationConfig"]}
    return merged


def _rest_error(status: http.HTTPStatus, message: str, reason: str) -> tuple[int, dict]:
    return status.value, {"error": {"code": status.value, "message": message, "status": reason}}
