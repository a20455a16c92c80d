"""A fake Gemini Live (BidiGenerateContent) websocket server for tests.

The unmodified ``google-genai`` SDK connects to it through the environment::

    GOOGLE_GEMINI_BASE_URL=https://127.0.0.1:PORT
    SSL_CERT_FILE=<trustme CA pem>
    GEMINI_API_KEY=<key>            (and GOOGLE_API_KEY unset)

The server speaks TLS on 127.0.0.1 (certificate from a throwaway ``trustme`` CA),
runs in a background thread with its own asyncio loop, and plays a scripted model:

* energy VAD over the incoming 16 kHz int16 audio (RMS > ``vad_threshold`` is speech,
  ``silence_ms`` of quiet ends it; ``audioStreamEnd`` ends it at once);
* input transcription fragments while the user speaks (words of the next entry of
  ``user_transcripts``, cycling);
* at the end of a user turn a model turn: 24 kHz int16 PCM in 40-100 ms pieces sent at
  ``send_speed`` x real time, interleaved with output transcription, then
  ``generationComplete`` and ``turnComplete`` (carrying ``usageMetadata``), then a
  ``sessionResumptionUpdate`` when the setup asked for resumption. As the SDK documents
  for the service ("when model assumes realtime playback there will be delay between
  generation_complete and turn_complete"), ``turnComplete`` waits until the reply would
  have finished playing (first audio + reply duration); ``turn_complete_after_playback=
  False`` sends it right after ``generationComplete`` instead;
* barge-in: user speech (or text) while the model is generating, or while its reply
  would still be audible on the client (first audio + reply duration, in real time),
  sends ``interrupted`` (then ``turnComplete`` if the turn was not complete yet; never
  ``generationComplete`` for a turn cut short while generating) and starts the next
  user turn;
* tool calls, tool call cancellation, session resumption, ``goAway``, abrupt drops and
  error closes on demand.

Every message the server sends is validated first with :func:`validate_server_message`
(the SDK's own ``LiveServerMessage`` in strict mode plus a round trip); a message that
does not validate is a bug in the fake: it is recorded in ``errors``, the connection is
closed with 1011 and :meth:`FakeLiveServer.stop` (or leaving the ``with`` block) raises.

Times recorded in :class:`Received` are ``time.monotonic()`` values.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import enum
import http
import itertools
import json
import math
import os
import random
import re
import shutil
import ssl
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np
import pydantic
import trustme
from google.genai import _live_converters
from google.genai import types
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

__all__ = [
    "AUDIO_TOKENS_PER_SECOND",
    "FakeLiveServer",
    "InvalidServerMessage",
    "Received",
    "Turn",
    "make_tone",
    "validate_server_message",
]

IN_RATE = 16_000
OUT_RATE = 24_000
OUT_MIME = "audio/pcm;rate=24000"
AUDIO_TOKENS_PER_SECOND = 32
API_KEY_INVALID_REASON = "API key not valid. Please pass a valid API key."

_PATH_RE = re.compile(
    r"^/+ws/google\.ai\.generativelanguage\.(v1|v1beta|v1alpha)"
    r"\.GenerativeService\.(BidiGenerateContent|BidiGenerateContentConstrained)/?$"
)


# --------------------------------------------------------------------------- validation


class InvalidServerMessage(AssertionError):
    """A message the fake server was about to send is not a valid LiveServerMessage."""


def validate_server_message(message: Mapping[str, Any]) -> str:
    """Validate one server->client message and return its JSON text.

    Checks, in order:

    1. ``types.LiveServerMessage.model_validate_json(text, strict=True, by_alias=True,
       by_name=False)``: unknown keys are rejected (the SDK models have
       ``extra='forbid'``), snake_case keys are rejected (the service speaks camelCase;
       the SDK models would otherwise accept both), no type coercion (``"yes"`` for a bool).
    2. A round trip: the validated model dumped back (camelCase, no ``None``) must equal
       the message, so explicit ``null``s, unknown enum values (the SDK only warns and
       invents a member), lower-case enum spellings, and bytes that are not strict
       standard base64 are rejected too.
    3. The SDK's real receive path (``_LiveServerMessage_from_mldev`` and
       ``LiveServerMessage._from_response``, which silently drops unknown fields) must
       produce the same object, so nothing the server sends is lost on the client.
    """
    if not isinstance(message, Mapping) or not message:
        raise InvalidServerMessage(f"server message must be a non-empty object: {message!r}")
    try:
        text = json.dumps(message, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidServerMessage(f"server message is not JSON-serialisable: {exc}") from exc
    try:
        model = types.LiveServerMessage.model_validate_json(
            text, strict=True, by_alias=True, by_name=False
        )
    except pydantic.ValidationError as exc:
        raise InvalidServerMessage(
            f"not a valid LiveServerMessage: {exc}\nmessage: {_abbrev(message)}"
        ) from exc
    dumped = model.model_dump(mode="python", by_alias=True, exclude_none=True)
    _compare(message, dumped, "$")
    sdk_view = types.LiveServerMessage._from_response(
        response=_live_converters._LiveServerMessage_from_mldev(json.loads(text)),
        kwargs={},
    )
    if sdk_view != model:
        raise InvalidServerMessage(
            "the SDK's receive path does not reproduce the message "
            f"(a top-level field it does not map?): {_abbrev(message)}"
        )
    return text


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


def _abbrev(obj: Any, limit: int = 600) -> str:
    text = json.dumps(obj, default=repr)
    return text if len(text) <= limit else text[:limit] + "..."


# --------------------------------------------------------------------------- helpers


@dataclass
class Received:
    """One recorded event. ``t`` is ``time.monotonic()`` when it happened/arrived."""

    t: float
    kind: str
    data: Any
    mime_type: str | None = None
    conn: int = 0


@dataclass
class Turn:
    """A user turn as the scripted model sees it (passed to callable ``reply_text``)."""

    index: int  # per session, 0-based
    source: str  # 'audio' | 'text' | 'client_content'
    user_text: str
    t: float  # when the user turn ended
    conn: int = 0
    tool_calls: list[dict] = field(default_factory=list)
    tool_responses: list[dict] = field(default_factory=list)
    # filled in while the model turn runs
    reply_text: str = ""
    audio_samples_sent: int = 0
    first_audio_t: float | None = None
    interrupted: bool = False
    input_audio_seconds: float = 0.0
    cancel: asyncio.Event | None = field(default=None, repr=False)


@dataclass
class _Session:
    id: str
    turns: int = 0
    transcript_index: int = 0
    context_audio_tokens: int = 0
    context_text_tokens: int = 0
    handle_seq: int = 0
    resumed: int = 0


def make_tone(seconds: float, rate: int = OUT_RATE, freq: float = 440.0, amplitude: int = 8000) -> bytes:
    """Mono int16 little-endian sine with 10 ms fades (no clicks)."""
    n = max(0, int(round(seconds * rate)))
    t = np.arange(n, dtype=np.float64) / rate
    wave = np.sin(2 * np.pi * freq * t) * amplitude
    fade = min(n // 2, int(rate * 0.01))
    if fade:
        ramp = np.linspace(0.0, 1.0, fade)
        wave[:fade] *= ramp
        wave[n - fade :] *= ramp[::-1]
    return wave.astype("<i2").tobytes()


def _duration(seconds: float) -> str:
    """protobuf Duration JSON ("5s", "0.5s")."""
    text = f"{max(0.0, seconds):.9f}".rstrip("0").rstrip(".")
    return f"{text or '0'}s"


def _b64decode_any(value: str) -> bytes:
    """Accept standard and URL-safe base64, with or without padding."""
    if not isinstance(value, str):
        raise ValueError("base64 data must be a string")
    s = value.strip().replace("-", "+").replace("_", "/")
    s += "=" * (-len(s) % 4)
    return base64.b64decode(s, validate=True)


def _g(d: Mapping | None, snake: str, default: Any = None) -> Any:
    """Get a field by its snake_case or lowerCamelCase name."""
    if not isinstance(d, Mapping):
        return default
    if snake in d:
        return d[snake]
    parts = snake.split("_")
    camel = parts[0] + "".join(p[:1].upper() + p[1:] for p in parts[1:])
    return d.get(camel, default)


def _rate_of(mime: str | None, default: int = IN_RATE) -> int:
    m = re.search(r"rate=(\d+)", mime or "")
    return int(m.group(1)) if m else default


def _text_tokens(text: str) -> int:
    return max(1, math.ceil(len(text) / 4)) if text else 0


def _words_fragments(text: str) -> list[str]:
    words = text.split()
    return [w if i == 0 else " " + w for i, w in enumerate(words)]


_TOP_LEVEL = {
    "setup": "setup",
    "realtime_input": "realtimeInput",
    "realtimeInput": "realtimeInput",
    "client_content": "clientContent",
    "clientContent": "clientContent",
    "tool_response": "toolResponse",
    "toolResponse": "toolResponse",
    "context_update": "contextUpdate",
    "contextUpdate": "contextUpdate",
}


class _CloseConnection(Exception):
    def __init__(self, code: int, reason: str):
        super().__init__(code, reason)
        self.code = code
        self.reason = reason


# --------------------------------------------------------------------------- the server


class FakeLiveServer:
    """Fake Gemini Live server; see the module docstring.

    Tool calls: ``tool_calls`` maps a regular expression (searched case-insensitively in
    the user turn's transcript or text) to one function call ``{"name": ..., "args":
    {...}}`` or a list of them (``"id"`` optional; generated ids are ``call-<n>``). On a
    match the model sends ``toolCall``, waits (up to ``tool_response_timeout``) for a
    ``toolResponse`` covering every id, then speaks its reply. User speech while it waits
    sends ``toolCallCancellation`` with the pending ids, then ``interrupted``.

    ``reply_text`` may be a string, a sequence (cycled per turn) or a callable taking a
    :class:`Turn` and returning the text.
    """

    def __init__(
        self,
        *,
        api_key: str | None = "test-key",
        user_transcripts: Sequence[str] = ("hello there",),
        reply_text: str | Sequence[str] | Callable[[Turn], str] = "Hi! How can I help?",
        reply_audio: bytes | None = None,
        reply_seconds: float = 2.0,
        send_speed: float = 4.0,
        vad_threshold: float = 500,
        silence_ms: float = 500,
        echo_text: bool = True,
        response_delay: float = 0.05,
        chunk_ms: tuple[int, int] = (40, 100),
        transcript_word_ms: float = 250,
        tool_calls: Mapping[str, Mapping | Sequence[Mapping]] | None = None,
        tool_response_timeout: float = 10.0,
        unknown_handle: str = "error",
        unknown_handle_close: tuple[int, str] = (1008, "Session resumption handle is invalid or expired."),
        go_away_every: float | None = None,
        go_away_time_left: float = 5.0,
        go_away_close: tuple[int, str] = (1011, "The operation was aborted."),
        turn_complete_after_interrupt: bool = True,
        turn_complete_after_playback: bool = True,
        usage_with_turn_complete: bool = True,
        setup_session_id: bool = False,
        setup_timeout: float = 10.0,
        seed: int = 1234,
        host: str = "127.0.0.1",
    ) -> None:
        if unknown_handle not in ("error", "fresh"):
            raise ValueError("unknown_handle must be 'error' or 'fresh'")
        if not user_transcripts:
            raise ValueError("user_transcripts must not be empty")
        if send_speed <= 0:
            raise ValueError("send_speed must be > 0")
        self.api_key = api_key
        self.user_transcripts = tuple(user_transcripts)
        self.reply_text = reply_text
        self.reply_audio = reply_audio
        self.reply_seconds = reply_seconds
        self.send_speed = send_speed
        self.vad_threshold = vad_threshold
        self.silence_ms = silence_ms
        self.echo_text = echo_text
        self.response_delay = response_delay
        self.chunk_ms = chunk_ms
        self.transcript_word_ms = transcript_word_ms
        self.tool_calls = dict(tool_calls or {})
        self.tool_response_timeout = tool_response_timeout
        self.unknown_handle = unknown_handle
        self.unknown_handle_close = unknown_handle_close
        self.go_away_every = go_away_every
        self.go_away_time_left = go_away_time_left
        self.go_away_close = go_away_close
        self.turn_complete_after_interrupt = turn_complete_after_interrupt
        self.turn_complete_after_playback = turn_complete_after_playback
        self.usage_with_turn_complete = usage_with_turn_complete
        self.setup_session_id = setup_session_id
        self.setup_timeout = setup_timeout
        self.host = host
        self._rng = random.Random(seed)

        # What it saw. Lists only grow; appends happen under _cond.
        self.setups: list[dict] = []
        self.handshakes: list[Received] = []  # data: {'path', 'headers'}
        self.client_frames: list[Received] = []  # every parsed client frame (audio elided)
        self.audio_in: list[Received] = []  # data: PCM bytes; mime_type
        self.media_in: list[Received] = []  # non-audio realtime media (video / images)
        self.text_in: list[Received] = []  # data: str
        self.tool_responses: list[Received] = []  # data: list of functionResponses (dicts)
        self.sent: list[Received] = []  # every validated message sent (data: the dict)
        self.log: list[Received] = []
        self.errors: list[BaseException] = []
        self.handles: list[str] = []  # every resumption handle issued

        self._cond = threading.Condition()
        self._sessions_by_handle: dict[str, _Session] = {}
        self._session_ids = itertools.count(1)
        self._conn_ids = itertools.count(1)
        self._call_ids = itertools.count(1)
        self._conns: dict[int, _Conn] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: Any = None
        self._tmpdir: Path | None = None
        self.port: int = 0
        self.base_url: str = ""
        self.ca_path: Path = Path()

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> "FakeLiveServer":
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

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            try:

                async def open_server() -> Any:
                    return await serve(
                        self._handler,
                        self.host,
                        0,
                        ssl=ssl_ctx,
                        process_request=self._process_request,
                        ping_interval=None,
                        max_size=16 * 2**20,
                        close_timeout=2,
                    )

                self._server = loop.run_until_complete(open_server())
                self.port = self._server.sockets[0].getsockname()[1]
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

    def __enter__(self) -> "FakeLiveServer":
        return self.start()

    def __exit__(self, exc_type, exc, tb) -> None:
        # Don't mask a test failure with a server error; do surface server errors otherwise.
        self.stop(raise_errors=exc_type is None)

    # ------------------------------------------------------------------ environment

    def client_env(self) -> dict[str, str]:
        """Variables that point the unmodified SDK at this server.

        Also make sure ``GOOGLE_API_KEY`` is *not* set (see :meth:`subprocess_env`,
        :meth:`patch_env`), or the SDK prefers it and warns.
        """
        return {
            "GOOGLE_GEMINI_BASE_URL": self.base_url,
            "SSL_CERT_FILE": str(self.ca_path),
            "GEMINI_API_KEY": self.api_key if self.api_key is not None else "any-key",
        }

    def subprocess_env(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """A copy of ``base`` (default ``os.environ``) with :meth:`client_env` applied and
        ``GOOGLE_API_KEY`` removed: for ``subprocess.run(..., env=...)``."""
        env = dict(os.environ if base is None else base)
        env.pop("GOOGLE_API_KEY", None)
        env.update(self.client_env())
        return env

    def patch_env(self, monkeypatch: Any) -> None:
        """Apply :meth:`client_env` with a pytest ``monkeypatch`` (and unset GOOGLE_API_KEY)."""
        for key, value in self.client_env().items():
            monkeypatch.setenv(key, value)
        monkeypatch.delenv("GOOGLE_API_KEY", raising=False)

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
        """Send ``goAway`` (``timeLeft`` like "5s"); close after ``time_left`` if asked."""
        tl = self.go_away_time_left if time_left is None else time_left
        return self._each_conn(lambda c: c.go_away(tl, close_after))

    def forget_handles(self) -> None:
        """Make every handle issued so far unknown (as after they expire)."""
        with self._cond:
            self._sessions_by_handle.clear()

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

    def _each_conn(self, make: Callable[["_Conn"], Any], timeout: float = 10.0) -> int:
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

    def _next_reply_text(self, turn: Turn) -> str:
        rt = self.reply_text
        if callable(rt):
            return str(rt(turn))
        if turn.source in ("text", "client_content") and self.echo_text and not turn.tool_calls:
            return f"You said: {turn.user_text}"
        if isinstance(rt, str):
            return rt
        return rt[turn.index % len(rt)]

    def _reply_pcm(self) -> bytes:
        if self.reply_audio is not None:
            return self.reply_audio[: len(self.reply_audio) // 2 * 2]
        return make_tone(self.reply_seconds)

    def _match_tools(self, text: str) -> list[dict]:
        for pattern, spec in self.tool_calls.items():
            if re.search(pattern, text or "", re.IGNORECASE):
                specs = [spec] if isinstance(spec, Mapping) else list(spec)
                calls = []
                for s in specs:
                    call = {"id": s.get("id") or f"call-{next(self._call_ids)}", "name": s["name"]}
                    call["args"] = dict(s.get("args") or {})
                    calls.append(call)
                return calls
        return []

    def _chunk_sizes(self, total_samples: int) -> list[int]:
        lo, hi = self.chunk_ms
        sizes = []
        left = total_samples
        while left > 0:
            ms = self._rng.randint(lo, hi)
            n = min(left, OUT_RATE * ms // 1000)
            sizes.append(n)
            left -= n
        return sizes

    # ------------------------------------------------------------------ websocket plumbing

    def _process_request(self, connection: ServerConnection, request: Any) -> Any:
        path = request.path.split("?", 1)[0]
        self._record(
            self.handshakes,
            Received(time.monotonic(), "handshake", {"path": request.path, "headers": dict(request.headers.raw_items())}),
        )
        if not _PATH_RE.match(path):
            return connection.respond(http.HTTPStatus.NOT_FOUND, "Not Found\n")
        return None

    def _authorised(self, request: Any) -> bool:
        if self.api_key is None:
            return True
        key = request.headers.get("x-goog-api-key")
        if key is None:
            auth = request.headers.get("Authorization", "")
            if auth.startswith("Token "):
                key = auth[len("Token ") :]
        return key == self.api_key

    async def _handler(self, ws: ServerConnection) -> None:
        conn_id = next(self._conn_ids)
        self._event("connected", conn_id, path=ws.request.path)
        conn: _Conn | None = None
        try:
            try:
                first = await asyncio.wait_for(ws.recv(), self.setup_timeout)
            except (asyncio.TimeoutError, ConnectionClosed):
                return
            if not self._authorised(ws.request):
                self._event("auth_failed", conn_id)
                await ws.close(1007, API_KEY_INVALID_REASON)
                return
            try:
                frame = json.loads(first)
            except (ValueError, UnicodeDecodeError):
                await ws.close(1007, "Invalid JSON payload received.")
                return
            if not isinstance(frame, dict) or not isinstance(frame.get("setup"), dict):
                self._event("bad_setup", conn_id, frame=_abbrev(frame))
                await ws.close(1007, "Invalid JSON payload received. First message must be setup.")
                return
            setup = frame["setup"]
            with self._cond:
                self.setups.append(setup)
                self._cond.notify_all()
            self._event("setup", conn_id, model=setup.get("model"))

            session: _Session | None = None
            resumption = _g(setup, "session_resumption")
            handle = _g(resumption, "handle") if isinstance(resumption, Mapping) else None
            if handle:
                session = self._sessions_by_handle.get(handle)
                if session is not None:
                    session.resumed += 1
                    self._event("resumed", conn_id, handle=handle, session=session.id)
                elif self.unknown_handle == "error":
                    self._event("resume_rejected", conn_id, handle=handle)
                    await ws.close(*self.unknown_handle_close)
                    return
                else:
                    self._event("resume_unknown", conn_id, handle=handle)
            if session is None:
                session = _Session(id=f"session-{next(self._session_ids)}")
            conn = _Conn(self, ws, conn_id, setup, session)
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


class _Conn:
    """State of one client connection (lives on the server loop)."""

    def __init__(self, server: FakeLiveServer, ws: ServerConnection, conn_id: int, setup: dict, session: _Session):
        self.srv = server
        self.ws = ws
        self.id = conn_id
        self.setup = setup
        self.session = session
        gen = _g(setup, "generation_config") or {}
        modalities = [str(m).upper() for m in (_g(gen, "response_modalities") or ["AUDIO"])]
        self.text_mode = "TEXT" in modalities and "AUDIO" not in modalities
        self.input_tx = _g(setup, "input_audio_transcription") is not None
        self.output_tx = _g(setup, "output_audio_transcription") is not None and not self.text_mode
        resumption = _g(setup, "session_resumption")
        self.resumption = resumption is not None
        self.transparent = bool(_g(resumption, "transparent")) if isinstance(resumption, Mapping) else False
        ric = _g(setup, "realtime_input_config") or {}
        aad = _g(ric, "automatic_activity_detection") or {}
        self.auto_vad = not bool(_g(aad, "disabled"))
        self.no_interruption = str(_g(ric, "activity_handling") or "").upper() == "NO_INTERRUPTION"
        silence = _g(aad, "silence_duration_ms")
        self.silence_ms = float(silence) if silence is not None else server.silence_ms

        self.client_msgs = 0
        self.speaking = False
        self.quiet_ms = 0.0
        self.speech_ms = 0.0
        self.words_sent = 0
        self.transcript = ""
        self.audio_seconds_pending = 0.0  # input audio since the last model turn
        self.audible_until = 0.0
        self.queue: asyncio.Queue[Turn] = asyncio.Queue()
        self.turn: Turn | None = None
        self.turn_task: asyncio.Task | None = None
        self.pending_tools: dict[str, dict] = {}
        self.tool_answers: dict[str, dict] = {}
        self.tool_event = asyncio.Event()
        self.tasks: list[asyncio.Task] = []
        self.closing = False

    # -------------------------------------------------------------- sending

    async def send(self, message: dict, *, validate: bool = True) -> None:
        text = validate_server_message(message) if validate else json.dumps(message)
        await self.ws.send(text)
        self.srv._record(self.srv.sent, Received(time.monotonic(), "+".join(message), message, conn=self.id))

    # -------------------------------------------------------------- main loop

    async def run(self) -> None:
        setup_complete: dict = {}
        if self.srv.setup_session_id:
            setup_complete["sessionId"] = self.session.id
        await self.send({"setupComplete": setup_complete})
        self.tasks.append(asyncio.create_task(self._guard(self._runner())))
        if self.srv.go_away_every:
            self.tasks.append(asyncio.create_task(self._guard(self._periodic_go_away())))
        try:
            async for raw in self.ws:
                self.client_msgs += 1
                await self._on_frame(raw, time.monotonic())
        except _CloseConnection as exc:
            await self.ws.close(exc.code, exc.reason)

    async def _guard(self, coro: Any) -> None:
        try:
            await coro
        except ConnectionClosed:
            pass
        except Exception as exc:
            self.srv._error(exc, self.id)
            with contextlib.suppress(Exception):
                await self.ws.close(1011, f"fake server error: {exc!r}"[:120])

    async def shutdown(self) -> None:
        self.closing = True
        if self.turn is not None and self.turn.cancel is not None:
            self.turn.cancel.set()
        tasks = [t for t in self.tasks + [self.turn_task] if t is not None and not t.done()]
        for t in tasks:
            t.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    # -------------------------------------------------------------- incoming

    async def _on_frame(self, raw: str | bytes, t: float) -> None:
        try:
            frame = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise _CloseConnection(1007, "Invalid JSON payload received.")
        if not isinstance(frame, dict) or not frame:
            raise _CloseConnection(1007, "Invalid JSON payload received.")
        for key, body in frame.items():
            kind = _TOP_LEVEL.get(key)
            if kind is None:
                raise _CloseConnection(1007, f'Invalid JSON payload received. Unknown name "{key}": Cannot find field.')
            self.srv._record(self.srv.client_frames, Received(t, kind, _elide(body), conn=self.id))
            if kind == "realtimeInput":
                await self._on_realtime_input(body or {}, t)
            elif kind == "clientContent":
                await self._on_client_content(body or {}, t)
            elif kind == "toolResponse":
                self._on_tool_response(body or {}, t)
            elif kind == "setup":
                raise _CloseConnection(1007, "Setup message may only be sent once.")
            # contextUpdate: recorded only

    async def _on_realtime_input(self, ri: dict, t: float) -> None:
        blobs: list[tuple[str, Any]] = []
        if _g(ri, "audio") is not None:
            blobs.append(("audio", _g(ri, "audio")))
        for blob in _g(ri, "media_chunks") or []:
            blobs.append(("media_chunks", blob))
        if _g(ri, "video") is not None:
            blobs.append(("video", _g(ri, "video")))
        for field_name, blob in blobs:
            mime = _g(blob, "mime_type") or ""
            try:
                data = _b64decode_any(_g(blob, "data") or "")
            except (ValueError, binascii.Error):
                raise _CloseConnection(
                    1007,
                    f"Invalid value at 'realtime_input.{field_name}.data' (TYPE_BYTES), Base64 decoding failed",
                )
            if mime.startswith("audio/pcm"):
                self.srv._record(self.srv.audio_in, Received(t, "audio", data, mime_type=mime, conn=self.id))
                await self._feed_audio(data, _rate_of(mime), t)
            else:
                self.srv._record(self.srv.media_in, Received(t, field_name, data, mime_type=mime, conn=self.id))
        text = _g(ri, "text")
        if text is not None:
            self.srv._record(self.srv.text_in, Received(t, "realtime_text", text, conn=self.id))
            await self._user_text(text, "text", t)
        if _g(ri, "activity_start") is not None:
            self.srv._event("activity_start", self.id, t)
            if not self.speaking:
                await self._speech_start(t)
        if _g(ri, "activity_end") is not None:
            self.srv._event("activity_end", self.id, t)
            if self.speaking:
                await self._speech_end(t)
        if _g(ri, "audio_stream_end"):
            self.srv._event("audio_stream_end", self.id, t)
            if self.speaking:
                await self._speech_end(t)

    async def _on_client_content(self, cc: dict, t: float) -> None:
        texts = []
        for content in _g(cc, "turns") or []:
            if (content.get("role") or "user") != "user":
                continue
            for part in content.get("parts") or []:
                if isinstance(part, Mapping) and isinstance(part.get("text"), str):
                    texts.append(part["text"])
        text = "".join(texts)
        complete = bool(_g(cc, "turn_complete"))
        if texts:
            self.srv._record(self.srv.text_in, Received(t, "client_content", text, conn=self.id))
        if complete:
            await self._user_text(text, "client_content", t)

    def _on_tool_response(self, tr: dict, t: float) -> None:
        responses = list(_g(tr, "function_responses") or [])
        self.srv._record(self.srv.tool_responses, Received(t, "tool_response", responses, conn=self.id))
        self.srv._event("tool_response", self.id, t, ids=[r.get("id") for r in responses])
        for r in responses:
            rid = r.get("id")
            if rid in self.pending_tools:
                self.tool_answers[rid] = r
        self.tool_event.set()

    # -------------------------------------------------------------- VAD

    async def _feed_audio(self, pcm: bytes, rate: int, t: float) -> None:
        samples = np.frombuffer(pcm[: len(pcm) // 2 * 2], dtype="<i2").astype(np.float64)
        self.audio_seconds_pending += len(samples) / rate
        if not self.auto_vad:
            return
        frame = max(1, rate // 100)  # 10 ms
        for i in range(0, len(samples), frame):
            seg = samples[i : i + frame]
            ms = len(seg) * 1000.0 / rate
            loud = float(np.sqrt(np.mean(seg * seg))) > self.srv.vad_threshold
            if loud:
                if not self.speaking:
                    await self._speech_start(t)
                self.quiet_ms = 0.0
                self.speech_ms += ms
                await self._emit_words(final=False)
            elif self.speaking:
                self.quiet_ms += ms
                self.speech_ms += ms
                if self.quiet_ms >= self.silence_ms:
                    await self._speech_end(t)

    async def _speech_start(self, t: float) -> None:
        s = self.session
        self.transcript = self.srv.user_transcripts[s.transcript_index % len(self.srv.user_transcripts)]
        s.transcript_index += 1
        self.speaking = True
        self.quiet_ms = 0.0
        self.speech_ms = 0.0
        self.words_sent = 0
        self.srv._event("speech_start", self.id, t, transcript=self.transcript)
        if self._busy() and not self.no_interruption:
            await self._interrupt(t, "speech")

    async def _speech_end(self, t: float) -> None:
        self.speaking = False
        await self._emit_words(final=True)
        self.srv._event("speech_end", self.id, t, transcript=self.transcript)
        self._enqueue(self.transcript, "audio", t)

    async def _emit_words(self, *, final: bool) -> None:
        words = _words_fragments(self.transcript)
        due = len(words) if final else min(len(words), int(self.speech_ms // self.srv.transcript_word_ms))
        while self.words_sent < due:
            fragment = words[self.words_sent]
            self.words_sent += 1
            if self.input_tx:
                await self.send({"serverContent": {"inputTranscription": {"text": fragment}}})

    # -------------------------------------------------------------- turns

    def _busy(self) -> bool:
        active = self.turn_task is not None and not self.turn_task.done()
        return active or not self.queue.empty() or time.monotonic() < self.audible_until

    async def _user_text(self, text: str, source: str, t: float) -> None:
        if self._busy() and not self.no_interruption:
            await self._interrupt(t, source)
        self._enqueue(text, source, t)

    def _enqueue(self, text: str, source: str, t: float) -> None:
        turn = Turn(index=0, source=source, user_text=text, t=t, conn=self.id)
        turn.input_audio_seconds = self.audio_seconds_pending
        self.audio_seconds_pending = 0.0
        self.srv._event("user_turn", self.id, t, source=source, text=text)
        self.queue.put_nowait(turn)

    async def _runner(self) -> None:
        while True:
            turn = await self.queue.get()
            turn.index = self.session.turns
            turn.cancel = asyncio.Event()
            self.turn = turn
            self.turn_task = asyncio.create_task(self._play_turn(turn))
            await asyncio.wait({self.turn_task})
            if not self.turn_task.cancelled() and self.turn_task.exception() is not None:
                raise self.turn_task.exception()  # type: ignore[misc]

    async def _pause(self, turn: Turn, seconds: float) -> bool:
        """Sleep; False if the turn was interrupted meanwhile."""
        assert turn.cancel is not None
        if turn.cancel.is_set():
            return False
        if seconds <= 0:
            await asyncio.sleep(0)
            return not turn.cancel.is_set()
        try:
            await asyncio.wait_for(turn.cancel.wait(), seconds)
            return False
        except asyncio.TimeoutError:
            return True

    async def _play_turn(self, turn: Turn) -> None:
        srv = self.srv
        assert turn.cancel is not None
        if not await self._pause(turn, srv.response_delay):
            return
        calls = srv._match_tools(turn.user_text)
        if calls:
            turn.tool_calls = calls
            self.pending_tools = {c["id"]: c for c in calls}
            self.tool_answers = {}
            self.tool_event.clear()
            await self.send({"toolCall": {"functionCalls": calls}})
            srv._event("tool_call", self.id, calls=calls)
            deadline = time.monotonic() + srv.tool_response_timeout
            while not set(self.pending_tools) <= set(self.tool_answers):
                if turn.cancel.is_set() or not self.pending_tools:
                    return
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    srv._event("tool_response_timeout", self.id, ids=list(self.pending_tools))
                    break
                waiter = asyncio.create_task(self.tool_event.wait())
                canceller = asyncio.create_task(turn.cancel.wait())
                await asyncio.wait({waiter, canceller}, timeout=remaining, return_when=asyncio.FIRST_COMPLETED)
                waiter.cancel()
                canceller.cancel()
                self.tool_event.clear()
            if turn.cancel.is_set():
                return
            turn.tool_responses = [self.tool_answers[i] for i in self.pending_tools if i in self.tool_answers]
            self.pending_tools = {}
            if not await self._pause(turn, srv.response_delay):
                return

        turn.reply_text = srv._next_reply_text(turn)
        if self.text_mode:
            for fragment in _words_fragments(turn.reply_text):
                await self.send({"serverContent": {"modelTurn": {"parts": [{"text": fragment}]}}})
                if not await self._pause(turn, 0.02 / srv.send_speed):
                    return
            srv._event("model_text", self.id, text=turn.reply_text)
        else:
            pcm = srv._reply_pcm()
            total = len(pcm) // 2
            sizes = srv._chunk_sizes(total)
            words = _words_fragments(turn.reply_text) if self.output_tx else []
            words_sent = 0
            start = time.monotonic()
            offset = 0
            for k, n in enumerate(sizes):
                # transcription runs slightly ahead of the audio, like the service's
                due = math.ceil(len(words) * (k + 1) / len(sizes))
                while words_sent < due:
                    await self.send({"serverContent": {"outputTranscription": {"text": words[words_sent]}}})
                    words_sent += 1
                chunk = pcm[offset * 2 : (offset + n) * 2]
                await self.send(
                    {
                        "serverContent": {
                            "modelTurn": {
                                "parts": [
                                    {"inlineData": {"mimeType": OUT_MIME, "data": base64.b64encode(chunk).decode("ascii")}}
                                ],
                            }
                        }
                    }
                )
                now = time.monotonic()
                if turn.first_audio_t is None:
                    turn.first_audio_t = now
                    self.audible_until = now + total / OUT_RATE
                    srv._event("model_audio_first", self.id, now, turn=turn.index)
                offset += n
                turn.audio_samples_sent = offset
                self.audible_until = max(self.audible_until, now)
                if k == len(sizes) - 1:
                    srv._event("model_audio_last", self.id, now, turn=turn.index, samples=offset)
                target = start + (offset / OUT_RATE) / srv.send_speed
                if not await self._pause(turn, target - time.monotonic()):
                    return
            while words_sent < len(words):
                await self.send({"serverContent": {"outputTranscription": {"text": words[words_sent]}}})
                words_sent += 1
        await self.send({"serverContent": {"generationComplete": True}})
        srv._event("generation_complete", self.id, turn=turn.index)
        if srv.turn_complete_after_playback and self.audible_until > time.monotonic():
            if not await self._pause(turn, self.audible_until - time.monotonic()):
                return
        await self._complete_turn(turn)

    async def _complete_turn(self, turn: Turn) -> None:
        srv = self.srv
        s = self.session
        usage = self._usage(turn)
        message: dict = {"serverContent": {"turnComplete": True}}
        if srv.usage_with_turn_complete:
            message["usageMetadata"] = usage
        await self.send(message)
        if not srv.usage_with_turn_complete:
            await self.send({"usageMetadata": usage})
        s.turns += 1
        srv._event(
            "turn_complete", self.id, turn=turn.index, session=s.id, interrupted=turn.interrupted, usage=usage
        )
        if self.resumption:
            s.handle_seq += 1
            handle = f"fake-resume-{s.id}-{s.handle_seq}"
            srv._sessions_by_handle[handle] = s
            with srv._cond:
                srv.handles.append(handle)
            update: dict = {"newHandle": handle, "resumable": True}
            if self.transparent:
                update["lastConsumedClientMessageIndex"] = self.client_msgs
            await self.send({"sessionResumptionUpdate": update})
            srv._event("resumption_update", self.id, handle=handle)

    def _usage(self, turn: Turn) -> dict:
        s = self.session
        in_audio = round(turn.input_audio_seconds * AUDIO_TOKENS_PER_SECOND)
        in_text = _text_tokens(turn.user_text) if turn.source != "audio" else 0
        in_text += sum(_text_tokens(json.dumps(r)) for r in turn.tool_responses)
        system = _text_tokens(json.dumps(self.setup.get("systemInstruction") or self.setup.get("tools") or ""))
        prompt_audio = s.context_audio_tokens + in_audio
        prompt_text = s.context_text_tokens + in_text + system
        if self.text_mode:
            resp_mod, resp = "TEXT", _text_tokens(turn.reply_text)
        else:
            resp_mod, resp = "AUDIO", round(turn.audio_samples_sent / OUT_RATE * AUDIO_TOKENS_PER_SECOND)
        s.context_audio_tokens += in_audio + (resp if resp_mod == "AUDIO" else 0)
        s.context_text_tokens += in_text + (resp if resp_mod == "TEXT" else 0)
        prompt_details = [{"modality": "TEXT", "tokenCount": prompt_text}]
        if prompt_audio:
            prompt_details.append({"modality": "AUDIO", "tokenCount": prompt_audio})
        prompt = prompt_text + prompt_audio
        return {
            "promptTokenCount": prompt,
            "responseTokenCount": resp,
            "totalTokenCount": prompt + resp,
            "promptTokensDetails": prompt_details,
            "responseTokensDetails": [{"modality": resp_mod, "tokenCount": resp}],
        }

    async def _interrupt(self, t: float, cause: str) -> None:
        turn, task = self.turn, self.turn_task
        active = task is not None and not task.done()
        # queued (not yet started) turns are superseded by the new input
        while not self.queue.empty():
            self.queue.get_nowait()
        if active and turn is not None and turn.cancel is not None:
            turn.cancel.set()
            await asyncio.wait({task})
        if self.pending_tools:
            ids = list(self.pending_tools)
            self.pending_tools = {}
            await self.send({"toolCallCancellation": {"ids": ids}})
            self.srv._event("tool_call_cancellation", self.id, ids=ids)
        await self.send({"serverContent": {"interrupted": True}})
        self.srv._event(
            "interrupted",
            self.id,
            t,
            cause=cause,
            turn=turn.index if turn else None,
            audio_seconds_sent=(turn.audio_samples_sent / OUT_RATE) if turn else 0.0,
            sent_at=time.monotonic(),
        )
        self.audible_until = 0.0
        if active and turn is not None:
            turn.interrupted = True
            if self.srv.turn_complete_after_interrupt:
                await self._complete_turn(turn)

    # -------------------------------------------------------------- on-demand actions

    async def go_away(self, time_left: float, close_after: bool) -> None:
        await self.send({"goAway": {"timeLeft": _duration(time_left)}})
        self.srv._event("go_away", self.id, time_left=time_left)
        if close_after:
            self.tasks.append(asyncio.create_task(self._close_later(time_left)))

    async def _close_later(self, delay: float) -> None:
        await asyncio.sleep(delay)
        self.srv._event("go_away_close", self.id)
        await self.ws.close(*self.srv.go_away_close)

    async def _periodic_go_away(self) -> None:
        while True:
            await asyncio.sleep(self.srv.go_away_every or 0)
            await self.go_away(self.srv.go_away_time_left, True)

    async def drop(self) -> None:
        self.srv._event("dropped", self.id)
        self.ws.transport.abort()

    async def close(self, code: int, reason: str) -> None:
        self.srv._event("close_requested", self.id, code=code, reason=reason)
        await self.ws.close(code, reason)

    async def cancel_tool_calls(self, ids: list[str] | None) -> None:
        ids = list(self.pending_tools) if ids is None else ids
        if not ids:
            return
        for i in ids:
            self.pending_tools.pop(i, None)
        await self.send({"toolCallCancellation": {"ids": ids}})
        self.srv._event("tool_call_cancellation", self.id, ids=ids)
        self.tool_event.set()


def _elide(body: Any) -> Any:
    """Copy of a client frame body with base64 payloads replaced by their length."""
    if isinstance(body, dict):
        out = {}
        for k, v in body.items():
            if k == "data" and isinstance(v, str) and len(v) > 64:
                out[k] = f"<{len(v)} base64 chars>"
            else:
                out[k] = _elide(v)
        return out
    if isinstance(body, list):
        return [_elide(v) for v in body]
    return body
