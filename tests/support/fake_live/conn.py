"""One client connection of the fake server: what comes in (audio, text, tool responses), the
turn-taking (energy VAD, barge-in), and the on-demand actions tests call."""

from __future__ import annotations

import asyncio
import binascii
import contextlib
import json
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from . import wire
from .models import ModelRules
from .turns import TurnPlayer, _key
from .validation import validate_server_message
from .wire import CloseConnection, Received, Session, Turn, g

if TYPE_CHECKING:
    from .server import FakeLiveServer


class Conn(TurnPlayer):
    """State of one client connection (lives on the server loop)."""

    def __init__(
        self,
        server: FakeLiveServer,
        ws: ServerConnection,
        conn_id: int,
        setup: dict,
        session: Session,
        rules: ModelRules,
    ):
        self.srv = server
        self.ws = ws
        self.id = conn_id
        self.setup = setup
        self.session = session
        self.rules = rules
        self.vertex = server.platform != "developer"
        self.out_mime = wire.VERTEX_OUT_MIME if self.vertex else wire.OUT_MIME
        gen = g(setup, "generation_config") or {}
        modalities = [str(m).upper() for m in (g(gen, "response_modalities") or ["AUDIO"])]
        self.text_mode = "TEXT" in modalities and "AUDIO" not in modalities
        self.input_tx = g(setup, "input_audio_transcription") is not None
        self.output_tx = g(setup, "output_audio_transcription") is not None and not self.text_mode
        resumption = g(setup, "session_resumption")
        self.resumption = resumption is not None
        self.transparent = bool(g(resumption, "transparent")) if isinstance(resumption, Mapping) else False
        ric = g(setup, "realtime_input_config") or {}
        aad = g(ric, "automatic_activity_detection") or {}
        self.auto_vad = not bool(g(aad, "disabled"))
        self.no_interruption = str(g(ric, "activity_handling") or "").upper() == "NO_INTERRUPTION"
        silence = g(aad, "silence_duration_ms")
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
        self.pending_tools: dict[str, dict] = {}  # BLOCKING calls the model waits for
        self.tool_answers: dict[str, dict] = {}
        self.background_tools: dict[str, dict] = {}  # NON_BLOCKING calls running while it talks on
        self.tool_event = asyncio.Event()
        self.tasks: list[asyncio.Task] = []
        self.closing = False

    # -------------------------------------------------------------- sending

    async def send(self, message: dict, *, validate: bool = True) -> None:
        if validate:
            validate_server_message(message, vertex=self.vertex)
        await self.ws.send(wire.frame(message))
        self.srv._record(self.srv.sent, Received(time.monotonic(), "+".join(message), message, conn=self.id))

    # -------------------------------------------------------------- main loop

    async def run(self) -> None:
        srv = self.srv
        await self.send({"setupComplete": {"sessionId": self.session.uuid} if srv.setup_session_id else {}})
        self.tasks.append(asyncio.create_task(self._guard(self._runner())))
        if srv.go_away_every:
            self.tasks.append(asyncio.create_task(self._guard(self._periodic_go_away())))
        if srv.quota_exceeded:
            self.tasks.append(
                asyncio.create_task(self._close_later(srv.real(srv.quota_after), wire.QUOTA_EXCEEDED, "quota_close"))
            )
        if srv.connection_deadline is not None:
            self.tasks.append(
                asyncio.create_task(
                    self._close_later(srv.real(srv.connection_deadline), wire.DEADLINE_EXPIRED, "deadline_close")
                )
            )
        try:
            async for raw in self.ws:
                self.client_msgs += 1
                await self._on_frame(raw, time.monotonic())
        except CloseConnection as exc:
            await self.ws.close(exc.code, wire.cut_reason(exc.reason))

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
            raise CloseConnection(1007, "Invalid JSON payload received.") from None
        if not isinstance(frame, dict) or not frame:
            raise CloseConnection(1007, "Invalid JSON payload received.") from None
        for key, body in frame.items():
            kind = wire.TOP_LEVEL.get(key)
            if kind is None:
                raise CloseConnection(1007, f'Invalid JSON payload received. Unknown name "{key}": Cannot find field.')
            self.srv._record(self.srv.client_frames, Received(t, kind, wire.elide(body), conn=self.id))
            if kind == "realtimeInput":
                await self._on_realtime_input(body or {}, t)
            elif kind == "clientContent":
                await self._on_client_content(body or {}, t)
            elif kind == "toolResponse":
                await self._on_tool_response(body or {}, t)
            elif kind == "contextUpdate":
                self._on_context_update(body or {}, t)
            else:
                raise CloseConnection(1007, "Setup message may only be sent once.")

    async def _on_realtime_input(self, ri: dict, t: float) -> None:
        blobs: list[tuple[str, Any]] = []
        if g(ri, "audio") is not None:
            blobs.append(("audio", g(ri, "audio")))
        for blob in g(ri, "media_chunks") or []:
            blobs.append(("media_chunks", blob))
        if g(ri, "video") is not None:
            blobs.append(("video", g(ri, "video")))
        for field_name, blob in blobs:
            mime = g(blob, "mime_type") or ""
            try:
                data = wire.b64decode_any(g(blob, "data") or "")
            except (ValueError, binascii.Error):
                raise CloseConnection(
                    1007, f"Invalid value at 'realtime_input.{field_name}.data' (TYPE_BYTES), Base64 decoding failed"
                ) from None
            if mime.startswith("audio/pcm"):
                self.srv._record(self.srv.audio_in, Received(t, "audio", data, mime_type=mime, conn=self.id))
                await self._feed_audio(data, wire.rate_of(mime), t)
            else:  # video frames and images: kept for the tests to look at
                self.srv._record(self.srv.media_in, Received(t, field_name, data, mime_type=mime, conn=self.id))
        text = g(ri, "text")
        if text is not None:
            self._refuse_text()
            self.srv._record(self.srv.text_in, Received(t, "realtime_text", text, conn=self.id))
            await self._user_text(text, "text", t)
        if g(ri, "activity_start") is not None:
            self.srv._event("activity_start", self.id, t)
            if not self.speaking:
                await self._speech_start(t)
        if g(ri, "activity_end") is not None:
            self.srv._event("activity_end", self.id, t)
            if self.speaking:
                await self._speech_end(t)
        if g(ri, "audio_stream_end"):
            self.srv._event("audio_stream_end", self.id, t)
            if self.speaking:
                await self._speech_end(t)

    def _refuse_text(self) -> None:
        if self.rules.translate:  # the interpreter hears speech only
            raise CloseConnection(*wire.INVALID_ARGUMENT)

    async def _on_client_content(self, cc: dict, t: float) -> None:
        texts = []
        for content in g(cc, "turns") or []:
            if (content.get("role") or "user") != "user":
                continue
            for part in content.get("parts") or []:
                if isinstance(part, Mapping) and isinstance(part.get("text"), str):
                    texts.append(part["text"])
        text = "".join(texts)
        if texts:
            self._refuse_text()
            self.srv._record(self.srv.text_in, Received(t, "client_content", text, conn=self.id))
        if g(cc, "turn_complete"):
            await self._user_text(text, "client_content", t)

    async def _on_tool_response(self, tr: dict, t: float) -> None:
        responses = list(g(tr, "function_responses") or [])
        self.srv._record(self.srv.tool_responses, Received(t, "tool_response", responses, conn=self.id))
        self.srv._event("tool_response", self.id, t, ids=[r.get("id") for r in responses])
        for r in responses:
            if _key(r) in self.pending_tools:
                self.tool_answers[_key(r)] = r
        self.tool_event.set()
        await self._background_tool_answered(responses, t)

    def _on_context_update(self, update: dict, t: float) -> None:
        """send_context_update: the new system instruction or tools apply from now on."""
        self.srv._record(self.srv.context_updates, Received(t, "context_update", update, conn=self.id))
        if g(update, "system_instruction") is not None:
            self.setup["systemInstruction"] = g(update, "system_instruction")
        if g(update, "tools") is not None:  # {"tools": [...]}; an empty list clears them
            self.setup["tools"] = g(g(update, "tools"), "tools") or []

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
        if self.srv.voice_activity:
            await self.send({"voiceActivity": {"type": "ACTIVITY_START"}})
        if self._busy() and not self.no_interruption:
            await self._interrupt(t, "speech")

    async def _speech_end(self, t: float) -> None:
        self.speaking = False
        await self._emit_words(final=True)
        if self.srv.voice_activity:
            await self.send({"voiceActivity": {"type": "ACTIVITY_END"}})
        self.srv._event("speech_end", self.id, t, transcript=self.transcript)
        self._enqueue(self.transcript, "audio", t)

    async def _emit_words(self, *, final: bool) -> None:
        """Input transcription as the words are heard; with ``interim_transcripts``, a running guess
        (interimInputTranscription) while the user speaks and the words once speech ends."""
        words = wire.word_fragments(self.transcript)
        due = len(words) if final else min(len(words), int(self.speech_ms // self.srv.transcript_word_ms))
        if not self.input_tx:
            self.words_sent = due
            return
        if self.srv.interim_transcripts and not final:
            if due > self.words_sent:
                self.words_sent = due
                await self.send({"serverContent": {"interimInputTranscription": {"text": "".join(words[:due])}}})
            return
        start = 0 if self.srv.interim_transcripts else self.words_sent
        for fragment in words[start:due]:
            await self.send({"serverContent": {"inputTranscription": {"text": fragment}}})
        self.words_sent = due

    # -------------------------------------------------------------- turns

    def _busy(self) -> bool:
        active = self.turn_task is not None and not self.turn_task.done()
        return active or not self.queue.empty() or time.monotonic() < self.audible_until

    async def _user_text(self, text: str, source: str, t: float) -> None:
        if self._busy() and not self.no_interruption:
            await self._interrupt(t, source)
        self._enqueue(text, source, t)

    def _enqueue(self, text: str, source: str, t: float) -> Turn:
        turn = Turn(index=0, source=source, user_text=text, t=t, conn=self.id)
        turn.input_audio_seconds = self.audio_seconds_pending
        self.audio_seconds_pending = 0.0
        self.srv._event("user_turn", self.id, t, source=source, text=text)
        self.queue.put_nowait(turn)
        return turn

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
        """Sleep `seconds` of real time; False if the turn was interrupted meanwhile."""
        assert turn.cancel is not None
        if turn.cancel.is_set():
            return False
        if seconds <= 0:
            await asyncio.sleep(0)
            return not turn.cancel.is_set()
        try:
            await asyncio.wait_for(turn.cancel.wait(), seconds)
            return False
        except TimeoutError:
            return True

    async def _interrupt(self, t: float, cause: str) -> None:
        turn, task = self.turn, self.turn_task
        active = task is not None and not task.done()
        # queued (not yet started) turns are superseded by the new input
        while not self.queue.empty():
            self.queue.get_nowait()
        if active and turn is not None and turn.cancel is not None:
            turn.cancel.set()
            await asyncio.wait({task})
        if self.pending_tools:  # a BLOCKING call is cancelled by new input
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
            audio_seconds_sent=(turn.audio_samples_sent / wire.OUT_RATE) if turn else 0.0,
            sent_at=time.monotonic(),
        )
        self.audible_until = 0.0
        if active and turn is not None:
            turn.interrupted = True
            if self.srv.turn_complete_after_interrupt:
                await self._complete_turn(turn)

    # -------------------------------------------------------------- on-demand actions

    async def go_away(self, time_left: float, close_after: bool) -> None:
        """`time_left` on the fake's clock; the client is told (and given) the real time left."""
        real_left = self.srv.real(time_left)
        await self.send({"goAway": {"timeLeft": wire.duration(real_left)}})
        self.srv._event("go_away", self.id, time_left=time_left)
        if close_after:
            self.tasks.append(
                asyncio.create_task(self._close_later(real_left, self.srv.go_away_close, "go_away_close"))
            )

    async def _close_later(self, delay: float, refusal: tuple[int, str], kind: str) -> None:
        await asyncio.sleep(delay)
        self.srv._event(kind, self.id)
        await self.ws.close(refusal[0], wire.cut_reason(refusal[1]))

    async def _periodic_go_away(self) -> None:
        while True:
            await asyncio.sleep(self.srv.real(self.srv.go_away_every or 0))
            await self.go_away(self.srv.go_away_time_left, True)

    async def drop(self) -> None:
        self.srv._event("dropped", self.id)
        self.ws.transport.abort()

    async def close(self, code: int, reason: str) -> None:
        self.srv._event("close_requested", self.id, code=code, reason=reason)
        await self.ws.close(code, wire.cut_reason(reason))

    async def cancel_tool_calls(self, ids: list[str] | None) -> None:
        ids = list(self.pending_tools) + list(self.background_tools) if ids is None else ids
        if not ids:
            return
        for i in ids:
            self.pending_tools.pop(i, None)
            self.background_tools.pop(i, None)
        await self.send({"toolCallCancellation": {"ids": ids}})
        self.srv._event("tool_call_cancellation", self.id, ids=ids)
        self.tool_event.set()
