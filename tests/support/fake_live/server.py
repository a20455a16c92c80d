"""The fake server itself: its options, its thread and loop, what it records, and how a connection
is admitted (key or token, model and setup, resumption handle)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import random
import re
import shutil
import ssl
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import trustme
from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed

from . import wire
from .admission import Admission
from .conn import Conn
from .front import FrontDoor, TokenBook
from .models import MODELS, ModelRules
from .wire import Received, Session, Turn

PLATFORMS = ("developer", "vertex", "vertex-old")


class FakeLiveServer(Admission):
    """Fake Gemini Live server; see the package docstring for what it plays and how to script it."""

    def __init__(
        self,
        *,
        api_key: str | None = "test-key",
        user_transcripts: Sequence[str] = ("hello there",),
        reply_text: str | Sequence[str] | Callable[[Turn], str] = "Hi! How can I help?",
        reply_audio: bytes | None = None,
        reply_seconds: float = 2.0,
        send_speed: float = 4.0,
        speed: float = 1.0,
        vad_threshold: float = 500,
        silence_ms: float = 500,
        echo_text: bool = True,
        response_delay: float = 0.05,
        chunk_ms: tuple[int, int] = (200, 240),
        transcript_word_ms: float = 250,
        tool_calls: Mapping[str, Mapping | Sequence[Mapping]] | None = None,
        tool_response_timeout: float = 10.0,
        tool_code: bool = False,
        interim_reply: str | None = None,
        unknown_handle: str = "error",
        unknown_handle_close: tuple[int, str] = wire.HANDLE_INVALID,
        go_away_every: float | None = None,
        go_away_time_left: float = 5.0,
        go_away_close: tuple[int, str] = wire.GOAWAY_IGNORED,
        turn_complete_after_interrupt: bool = True,
        turn_complete_after_playback: bool = True,
        usage_with_turn_complete: bool = True,
        pack_turn_end: bool = False,
        thoughts: str | None = None,
        turn_complete_reason: str | Callable[[Turn], str | None] | None = None,
        waiting_for_input: bool = False,
        voice_activity: bool = False,
        interim_transcripts: bool = False,
        grounding: Mapping[str, Any] | None = None,
        filler_text: str = "Let me think about that.",
        background_s: float = 0.3,
        platform: str = "developer",
        setup_session_id: bool = False,
        models: Mapping[str, ModelRules] | None = None,
        quota_exceeded: bool = False,
        quota_after: float = 0.8,
        connection_deadline: float | None = None,
        resumption_uses_token: bool = False,
        setup_timeout: float = 10.0,
        seed: int = 1234,
        host: str = "127.0.0.1",
    ) -> None:
        if unknown_handle not in ("error", "fresh"):
            raise ValueError("unknown_handle must be 'error' or 'fresh'")
        if platform not in PLATFORMS:
            raise ValueError(f"platform must be one of {PLATFORMS}")
        if not user_transcripts:
            raise ValueError("user_transcripts must not be empty")
        if send_speed <= 0:
            raise ValueError("send_speed must be > 0")
        if speed <= 0:
            raise ValueError("speed must be > 0")
        self.api_key = api_key
        self.user_transcripts = tuple(user_transcripts)
        self.reply_text = reply_text
        self.reply_audio = reply_audio
        self.reply_seconds = reply_seconds
        self.send_speed = send_speed
        self.speed = speed
        self.vad_threshold = vad_threshold
        self.silence_ms = silence_ms
        self.echo_text = echo_text
        self.response_delay = response_delay
        self.chunk_ms = chunk_ms
        self.transcript_word_ms = transcript_word_ms
        self.tool_calls = dict(tool_calls or {})
        self.tool_response_timeout = tool_response_timeout
        self.tool_code = tool_code
        self.interim_reply = interim_reply
        self.unknown_handle = unknown_handle
        self.unknown_handle_close = unknown_handle_close
        self.go_away_every = go_away_every
        self.go_away_time_left = go_away_time_left
        self.go_away_close = go_away_close
        self.turn_complete_after_interrupt = turn_complete_after_interrupt
        self.turn_complete_after_playback = turn_complete_after_playback
        self.usage_with_turn_complete = usage_with_turn_complete
        self.pack_turn_end = pack_turn_end
        self.thoughts = thoughts
        self.turn_complete_reason = turn_complete_reason
        self.waiting_for_input = waiting_for_input
        self.voice_activity = voice_activity
        self.interim_transcripts = interim_transcripts
        self.grounding = grounding
        self.filler_text = filler_text
        self.background_s = background_s
        self.platform = platform
        self.setup_session_id = setup_session_id or platform != "developer"
        self.models = dict(MODELS if models is None else models)
        self.quota_exceeded = quota_exceeded
        self.quota_after = quota_after
        self.connection_deadline = connection_deadline
        self.resumption_uses_token = resumption_uses_token
        self.setup_timeout = setup_timeout
        self.host = host
        self._rng = random.Random(seed)

        # What it saw. Lists only grow; appends happen under _cond.
        self.setups: list[dict] = []  # the setup each connection ran with (a token's locked fields applied)
        self.handshakes: list[Received] = []  # data: {'path', 'headers'}
        self.client_frames: list[Received] = []  # every parsed client frame (audio elided)
        self.audio_in: list[Received] = []  # data: PCM bytes; mime_type
        self.media_in: list[Received] = []  # non-audio realtime media (video frames / images)
        self.text_in: list[Received] = []  # data: str
        self.tool_responses: list[Received] = []  # data: list of functionResponses (dicts)
        self.context_updates: list[Received] = []  # data: the contextUpdate body
        self.rest_calls: list[Received] = []  # data: {'method', 'path', 'body'}
        self.sent: list[Received] = []  # every validated message sent (data: the dict)
        self.log: list[Received] = []
        self.errors: list[BaseException] = []
        self.handles: list[str] = []  # every resumption handle issued
        self.tokens = TokenBook()

        self._cond = threading.Condition()
        self._sessions_by_handle: dict[str, Session] = {}
        self._session_ids = itertools.count(1)
        self._conn_ids = itertools.count(1)
        self._conns: dict[int, Conn] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: Any = None
        self._front: FrontDoor | None = None
        self._tmpdir: Path | None = None
        self.port: int = 0
        self.base_url: str = ""
        self.ca_path: Path = Path()

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> FakeLiveServer:
        if self._thread is not None:
            raise RuntimeError("already started")
        self._tmpdir = Path(tempfile.mkdtemp(prefix="fake-live-"))
        ca = trustme.CA()
        cert = ca.issue_cert("127.0.0.1", "localhost")
        self.ca_path = self._tmpdir / "ca.pem"
        ca.cert_pem.write_to_path(str(self.ca_path))
        ssl_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(ssl_ctx)

        ready = threading.Event()
        failure: list[BaseException] = []

        async def open_server() -> int:
            self._server = await serve(
                self._handler,
                "127.0.0.1",
                0,
                process_request=self._process_request,
                ping_interval=None,
                max_size=16 * 2**20,
                close_timeout=2,
            )
            self._front = FrontDoor(ssl_ctx, self._server.sockets[0].getsockname()[1], self._rest)
            return await self._front.start(self.host)

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            try:
                self.port = loop.run_until_complete(open_server())
            except BaseException as exc:  # pragma: no cover - start-up failure
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                with contextlib.suppress(Exception):
                    pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
                    for task in pending:
                        task.cancel()
                    if pending:
                        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
                    loop.run_until_complete(loop.shutdown_asyncgens())
                loop.close()

        self._thread = threading.Thread(target=run, name="fake-live-server", daemon=True)
        self._thread.start()
        ready.wait(10)
        if failure:
            self._thread = None
            raise failure[0]
        self.base_url = f"https://127.0.0.1:{self.port}"
        return self

    def stop(self, *, raise_errors: bool = True) -> None:
        """Close every connection (1001), stop the thread; re-raise the first server error."""
        loop, thread = self._loop, self._thread
        if thread is not None and loop is not None and loop.is_running():

            async def shutdown() -> None:
                self._server.close(close_connections=True)
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(self._server.wait_closed(), 5)
                if self._front is not None:
                    await self._front.close()

            fut = asyncio.run_coroutine_threadsafe(shutdown(), loop)
            with contextlib.suppress(Exception):
                fut.result(10)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(10)
        self._thread = None
        self._loop = None
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None
        if raise_errors:
            self.check()

    def check(self) -> None:
        """Raise the first error the server ran into (e.g. an invalid outgoing message)."""
        with self._cond:
            errors = list(self.errors)
        if errors:
            raise errors[0]

    def __enter__(self) -> FakeLiveServer:
        return self.start()

    def __exit__(self, exc_type, exc, tb) -> None:
        # Don't mask a test failure with a server error; do surface server errors otherwise.
        self.stop(raise_errors=exc_type is None)

    # ------------------------------------------------------------------ environment

    def client_env(self) -> dict[str, str]:
        """Variables that point the unmodified SDK at this server (as the Developer API, or Vertex
        in express mode when the server plays Vertex).

        Also make sure ``GOOGLE_API_KEY`` / ``GEMINI_API_KEY`` is *not* set beside these (see
        :meth:`subprocess_env`, :meth:`patch_env`), or the SDK prefers it and warns.
        """
        key = self.api_key if self.api_key is not None else "any-key"
        if self.platform != "developer":
            # Vertex in express mode; the SDK 3.6 picks the base URL before it reads
            # GOOGLE_GENAI_USE_VERTEXAI, so from GOOGLE_GEMINI_BASE_URL: both are set.
            return {
                "GOOGLE_GENAI_USE_VERTEXAI": "true",
                "GOOGLE_VERTEX_BASE_URL": self.base_url,
                "GOOGLE_GEMINI_BASE_URL": self.base_url,
                "SSL_CERT_FILE": str(self.ca_path),
                "GOOGLE_API_KEY": key,
            }
        return {"GOOGLE_GEMINI_BASE_URL": self.base_url, "SSL_CERT_FILE": str(self.ca_path), "GEMINI_API_KEY": key}

    def _unset(self) -> tuple[str, ...]:
        if self.platform != "developer":
            return ("GEMINI_API_KEY", "GOOGLE_CLOUD_PROJECT", "GOOGLE_CLOUD_LOCATION")
        return ("GOOGLE_API_KEY", "GOOGLE_GENAI_USE_VERTEXAI")

    def subprocess_env(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """A copy of ``base`` (default ``os.environ``) with :meth:`client_env` applied and the other
        platform's variables removed: for ``subprocess.run(..., env=...)``."""
        env = dict(os.environ if base is None else base)
        for name in self._unset():
            env.pop(name, None)
        env.update(self.client_env())
        return env

    def patch_env(self, monkeypatch: Any) -> None:
        """Apply :meth:`client_env` with a pytest ``monkeypatch`` (and unset the other platform's)."""
        for key, value in self.client_env().items():
            monkeypatch.setenv(key, value)
        for name in self._unset():
            monkeypatch.delenv(name, raising=False)

    # ------------------------------------------------------------------ inspection

    def wait_for(self, predicate: Callable[[], Any], timeout: float = 5.0) -> bool:
        """Wait until ``predicate()`` is true (re-checked on every recorded event)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                if predicate():
                    return True
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(min(remaining, 0.05))

    def events(self, kind: str | None = None) -> list[Received]:
        """A snapshot of ``log`` (optionally only one kind)."""
        with self._cond:
            return [e for e in self.log if kind is None or e.kind == kind]

    def wait_event(self, kind: str, count: int = 1, timeout: float = 5.0) -> bool:
        return self.wait_for(lambda: len(self.events(kind)) >= count, timeout)

    def input_audio(self, conn: int | None = None) -> bytes:
        """All received PCM concatenated (optionally from one connection)."""
        with self._cond:
            return b"".join(r.data for r in self.audio_in if conn is None or r.conn == conn)

    @property
    def active_connections(self) -> int:
        return len(self._conns)

    # ------------------------------------------------------------------ on-demand actions
    # Called from the test thread; each acts on every open connection and returns how
    # many connections it affected.

    def go_away(self, time_left: float | None = None, *, close_after: bool = True) -> int:
        """Send ``goAway`` (``timeLeft`` like "5s"); close after ``time_left`` if asked (seconds of
        the fake's clock: the wire says the real time left)."""
        tl = self.go_away_time_left if time_left is None else time_left
        return self._each_conn(lambda c: c.go_away(tl, close_after))

    def forget_handles(self) -> None:
        """Make every handle issued so far unknown (as after they expire)."""
        with self._cond:
            self._sessions_by_handle.clear()

    def expire_tokens(self) -> None:
        """Make every token minted so far expired."""
        with self._cond:
            self.tokens.expire_all()

    def drop(self) -> int:
        """Abort the TCP connection(s) without a close frame (client sees 1006)."""
        return self._each_conn(lambda c: c.drop())

    def close_connections(self, code: int = 1011, reason: str = "Internal error encountered.") -> int:
        return self._each_conn(lambda c: c.close(code, reason))

    def cancel_tool_calls(self, ids: Iterable[str] | None = None) -> int:
        """Send ``toolCallCancellation`` for ``ids`` (default: all pending calls)."""
        id_list = None if ids is None else list(ids)
        return self._each_conn(lambda c: c.cancel_tool_calls(id_list))

    def send(self, message: Mapping[str, Any], *, validate: bool = True) -> int:
        """Send an arbitrary server message to every open connection."""
        return self._each_conn(lambda c: c.send(dict(message), validate=validate))

    def _each_conn(self, make: Callable[[Conn], Any], timeout: float = 10.0) -> int:
        loop = self._loop
        if loop is None or not loop.is_running():
            raise RuntimeError("server not running")
        if threading.current_thread() is self._thread:
            raise RuntimeError("call on-demand actions from another thread")

        async def run_all() -> int:
            conns = list(self._conns.values())
            results = await asyncio.gather(*(make(c) for c in conns), return_exceptions=True)
            for r in results:
                if isinstance(r, BaseException) and not isinstance(r, ConnectionClosed):
                    raise r
            return len(conns)

        return asyncio.run_coroutine_threadsafe(run_all(), loop).result(timeout)

    # ------------------------------------------------------------------ recording

    def _record(self, target: list, item: Received) -> None:
        with self._cond:
            target.append(item)
            self._cond.notify_all()

    def _event(self, kind: str, conn: int, t: float | None = None, **data: Any) -> None:
        data["conn"] = conn
        self._record(self.log, Received(time.monotonic() if t is None else t, kind, data, conn=conn))

    def _error(self, exc: BaseException, conn: int) -> None:
        with self._cond:
            self.errors.append(exc)
            self._cond.notify_all()
        self._event("server_error", conn, error=repr(exc))

    # ------------------------------------------------------------------ scripting helpers

    def real(self, seconds: float) -> float:
        """How long `seconds` of the fake's clock (which runs `speed` times faster) last in real time."""
        return seconds / self.speed

    def _next_reply_text(self, turn: Turn) -> str:
        rt = self.reply_text
        if callable(rt):
            return str(rt(turn))
        if turn.source in ("text", "client_content") and self.echo_text and not turn.tool_calls:
            return f"You said: {turn.user_text}"
        if isinstance(rt, str):
            return rt
        return rt[turn.index % len(rt)]

    def _turn_complete_reason(self, turn: Turn) -> str | None:
        reason = self.turn_complete_reason
        return reason(turn) if callable(reason) else reason

    def _reply_pcm(self) -> bytes:
        if self.reply_audio is not None:
            return self.reply_audio[: len(self.reply_audio) // 2 * 2]
        return wire.make_tone(self.reply_seconds)

    def _match_tools(self, text: str) -> list[dict]:
        for pattern, spec in self.tool_calls.items():
            if re.search(pattern, text or "", re.IGNORECASE):
                specs = [spec] if isinstance(spec, Mapping) else list(spec)
                return [self._call(s) for s in specs]
        return []

    def _call(self, spec: Mapping) -> dict:
        """A function call with an id as the platform makes them (older Vertex: none)."""
        call: dict = {"name": spec["name"], "args": dict(spec.get("args") or {})}
        if spec.get("id"):
            call["id"] = spec["id"]
        elif self.platform == "developer":
            call["id"] = f"function-call-{self._rng.randrange(10**18, 10**19)}"
        elif self.platform == "vertex":
            call["id"] = str(uuid.UUID(int=self._rng.getrandbits(128), version=4))
        return call

    def _chunk_sizes(self, total_samples: int) -> list[int]:
        lo, hi = self.chunk_ms
        sizes = []
        left = total_samples
        while left > 0:
            n = min(left, wire.OUT_RATE * self._rng.randint(lo, hi) // 1000)
            sizes.append(n)
            left -= n
        return sizes
