"""The fake's front door: TLS on the public port, one base URL for REST and websocket, as the service.

The websockets library answers only GET upgrades, so the front door reads each request's head:
a websocket upgrade is spliced, bytes for bytes, to the websocket server behind it on loopback;
anything else is a REST call answered here (``POST /v1alpha/auth_tokens``, what the SDK's
``client.auth_tokens.create`` sends).

Ephemeral tokens follow the SDK's documentation of ``CreateAuthTokenConfig``: ``uses`` defaults
to 1 (0 = no limit; resuming a session is documented not to count as a use),
``newSessionExpireTime`` defaults to 60 s and ``expireTime`` to 30 min from now.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import http
import json
import secrets
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from . import wire

_HEAD_LIMIT = 64 * 1024


@dataclass
class MintedToken:
    name: str
    expire_at: float  # time.time()
    new_session_expire_at: float
    uses_left: int | None  # None: no limit
    setup: dict  # the locked part of the setup (bidiGenerateContentSetup)
    field_mask: str | None


class TokenBook:
    """The tokens the fake minted, and whether one may open a session now."""

    def __init__(self) -> None:
        self.tokens: dict[str, MintedToken] = {}

    def mint(self, body: Mapping[str, Any]) -> dict:
        now = time.time()
        token = MintedToken(
            name=f"auth_tokens/{secrets.token_hex(16)}",
            expire_at=_timestamp(body.get("expireTime"), now + 30 * 60),
            new_session_expire_at=_timestamp(body.get("newSessionExpireTime"), now + 60),
            uses_left=None if body.get("uses") == 0 else int(body.get("uses") or 1),
            setup=dict(body.get("bidiGenerateContentSetup") or {}),
            field_mask=body.get("fieldMask"),
        )
        self.tokens[token.name] = token
        answer = {
            "name": token.name,
            "expireTime": _rfc3339(token.expire_at),
            "newSessionExpireTime": _rfc3339(token.new_session_expire_at),
        }
        if token.uses_left is not None:
            answer["uses"] = token.uses_left
        return answer

    def admit(self, name: str, *, resuming: bool, resumption_uses: bool) -> MintedToken | tuple[int, str]:
        """The token, used once more; or the refusal."""
        token = self.tokens.get(name)
        if token is None:
            return wire.API_KEY_INVALID
        now = time.time()
        new_session = not resuming or resumption_uses
        if now >= token.expire_at or (not resuming and now >= token.new_session_expire_at):
            return wire.API_KEY_EXPIRED  # wording not confirmed
        if new_session and token.uses_left is not None:
            if token.uses_left <= 0:
                return wire.SERVICE_UNAVAILABLE
            token.uses_left -= 1
        return token

    def expire_all(self) -> None:
        for token in self.tokens.values():
            token.expire_at = token.new_session_expire_at = 0.0


def _timestamp(value: Any, default: float) -> float:
    if not value:
        return default
    return datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()


def _rfc3339(t: float) -> str:
    return datetime.datetime.fromtimestamp(t, datetime.UTC).isoformat().replace("+00:00", "Z")


RestHandler = Callable[[str, str, Mapping[str, str], bytes], tuple[int, dict]]


class FrontDoor:
    def __init__(self, ssl_ctx: ssl.SSLContext, backend_port: int, rest: RestHandler) -> None:
        self._ssl = ssl_ctx
        self._backend_port = backend_port
        self._rest = rest
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task] = set()

    async def start(self, host: str) -> int:
        self._server = await asyncio.start_server(self._serve, host, 0, ssl=self._ssl, limit=_HEAD_LIMIT)
        return self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            method, path, headers = _parse_head(head)
            if headers.get("upgrade", "").lower() == "websocket":
                await self._splice(head, reader, writer)
            else:
                body = await reader.readexactly(int(headers.get("content-length") or 0))
                status, answer = self._rest(method, path, headers, body)
                _respond(writer, status, answer)
                await writer.drain()
                writer.close()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, ssl.SSLError, ValueError):
            writer.transport.abort()
        finally:
            self._tasks.discard(task)

    async def _splice(self, head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        back_reader, back_writer = await asyncio.open_connection("127.0.0.1", self._backend_port)
        back_writer.write(head)
        upstream = asyncio.create_task(_pipe(reader, back_writer))
        downstream = asyncio.create_task(_pipe(back_reader, writer))
        try:
            done, _ = await asyncio.wait({upstream, downstream}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            upstream.cancel()
            downstream.cancel()
            await asyncio.gather(upstream, downstream, return_exceptions=True)
        # a backend that vanished without a close (an abort) vanishes for the client too
        aborted = downstream in done and not downstream.cancelled() and downstream.result() is False
        for w in (back_writer, writer):
            if aborted:
                w.transport.abort()
            else:
                with contextlib.suppress(Exception):
                    w.close()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
    """Copy until EOF (True) or a reset (False)."""
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, ssl.SSLError):
        return False
    return True


def _parse_head(head: bytes) -> tuple[str, str, dict[str, str]]:
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    return method, path, headers


def _respond(writer: asyncio.StreamWriter, status: int, answer: dict) -> None:
    body = json.dumps(answer, indent=2).encode()
    phrase = http.HTTPStatus(status).phrase
    writer.write(
        f"HTTP/1.1 {status} {phrase}\r\nContent-Type: application/json; charset=UTF-8\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
        + body
    )
