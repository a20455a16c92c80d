"""The Live connection: the only module that drives `google.genai`'s Live session.

It builds the session config from settings, translates the SDK's messages into
livecli events, and turns the SDK's failures into one-line errors. The base URL
and TLS settings are left to the SDK, so `GOOGLE_GEMINI_BASE_URL` and
`SSL_CERT_FILE` keep working.
"""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import AsyncIterator
from typing import Any

from google import genai
from google.genai import errors as genai_errors
from google.genai import types
from websockets.exceptions import InvalidStatus, WebSocketException

from livecli import events
from livecli.errors import AuthError, ConnectionFailed, LivecliError
from livecli.settings import Settings

INPUT_MIME = "audio/pcm;rate=16000"
OUTPUT_RATE = 24000

# Close codes that retrying cannot fix: bad key or argument, policy.
_AUTH_CODES = {1007, 1008}


# The service can be slow to answer websocket pings; the default 20 s ping
# timeout drops healthy sessions. A dead link still shows up within a minute.
WEBSOCKET_OPTIONS = {"ping_interval": 20.0, "ping_timeout": 40.0, "compression": None}


def build_config(
    settings: Settings, *, handle: str | None = None, tools: list[types.Tool] | None = None
) -> types.LiveConnectConfig:
    speech = None
    if settings.voice or settings.language:
        speech = types.SpeechConfig(
            language_code=settings.language,
            voice_config=(
                types.VoiceConfig(prebuilt_voice_config=types.PrebuiltVoiceConfig(voice_name=settings.voice))
                if settings.voice
                else None
            ),
        )
    return types.LiveConnectConfig(
        response_modalities=[types.Modality.TEXT if settings.text else types.Modality.AUDIO],
        speech_config=speech,
        system_instruction=settings.system,
        input_audio_transcription=types.AudioTranscriptionConfig(),
        output_audio_transcription=None if settings.text else types.AudioTranscriptionConfig(),
        # Always ask for handles: a handle is what lets a dropped session resume.
        session_resumption=types.SessionResumptionConfig(handle=handle),
        context_window_compression=(
            types.ContextWindowCompressionConfig(
                sliding_window=types.SlidingWindow(),
                trigger_tokens=settings.compression_trigger_tokens or None,
            )
            if settings.context_compression
            else None
        ),
        tools=tools or None,
    )


class LiveConnection:
    """One Live session: `async with LiveConnection(...) as conn:`."""

    def __init__(
        self,
        settings: Settings,
        *,
        api_key: str | None,
        handle: str | None = None,
        tools: list[types.Tool] | None = None,
    ):
        self._settings = settings
        self._api_key = api_key
        self._config = build_config(settings, handle=handle, tools=tools)
        self._stack = contextlib.AsyncExitStack()
        self._session = None

    async def __aenter__(self) -> LiveConnection:
        http_options = types.HttpOptions(async_client_args=WEBSOCKET_OPTIONS)
        client = genai.Client(api_key=self._api_key, http_options=http_options)
        try:
            self._session = await self._stack.enter_async_context(
                client.aio.live.connect(model=self._settings.model, config=self._config)
            )
        except BaseException as exc:
            await self._stack.aclose()
            raise translate_error(exc) from None
        return self

    async def __aexit__(self, *exc_info) -> None:
        with contextlib.suppress(Exception):
            await self._stack.aclose()

    async def send_audio(self, pcm: bytes) -> None:
        await self._guard(self._session.send_realtime_input(audio=types.Blob(data=pcm, mime_type=INPUT_MIME)))

    async def end_audio_stream(self) -> None:
        """Tells the service the microphone went quiet on purpose (mute)."""
        await self._guard(self._session.send_realtime_input(audio_stream_end=True))

    async def send_text(self, text: str) -> None:
        await self._guard(self._session.send_realtime_input(text=text))

    async def send_history(self, turns: list[tuple[str, str]]) -> None:
        """Prime a fresh session with earlier turns [(role 'user'|'model', text)]."""
        contents = [types.Content(role=role, parts=[types.Part(text=text)]) for role, text in turns]
        await self._guard(self._session.send_client_content(turns=contents, turn_complete=False))

    async def send_tool_results(self, results: list[events.FunctionResult]) -> None:
        responses = [
            types.FunctionResponse(
                id=result.id,
                name=result.name,
                response=result.response,
                scheduling=types.FunctionResponseScheduling(result.scheduling) if result.scheduling else None,
            )
            for result in results
        ]
        await self._guard(self._session.send_tool_response(function_responses=responses))

    async def events(self) -> AsyncIterator[events.LiveEvent]:
        """Every event until the connection closes (then raises a LivecliError)."""
        try:
            while True:
                # receive() stops after each turnComplete; keep listening.
                async for message in self._session.receive():
                    for event in translate_message(message):
                        yield event
        except (genai_errors.APIError, WebSocketException, OSError) as exc:
            raise translate_error(exc) from None

    async def _guard(self, send) -> None:
        try:
            await send
        except Exception as exc:
            raise translate_error(exc) from None


def translate_message(message: types.LiveServerMessage) -> list[events.LiveEvent]:
    found: list[events.LiveEvent] = []
    content = message.server_content
    if content is not None:
        if content.input_transcription and content.input_transcription.text:
            found.append(events.InputTranscript(content.input_transcription.text))
        if content.model_turn and content.model_turn.parts:
            for part in content.model_turn.parts:
                if part.inline_data and part.inline_data.data:
                    found.append(events.ModelAudio(part.inline_data.data, _rate_of(part.inline_data.mime_type)))
                elif part.text and not part.thought:
                    found.append(events.ModelText(part.text))
        if content.output_transcription and content.output_transcription.text:
            found.append(events.OutputTranscript(content.output_transcription.text))
        if content.interrupted:
            found.append(events.Interrupted())
        if content.turn_complete:
            found.append(events.TurnComplete())
    if message.usage_metadata is not None:
        usage = message.usage_metadata
        found.append(
            events.Usage(
                prompt_tokens=usage.prompt_token_count or 0,
                response_tokens=usage.response_token_count or 0,
                total_tokens=usage.total_token_count or 0,
            )
        )
    if message.tool_call is not None and message.tool_call.function_calls:
        found.append(
            events.ToolCall(
                tuple(
                    events.FunctionCall(id=call.id, name=call.name or "", args=dict(call.args or {}))
                    for call in message.tool_call.function_calls
                )
            )
        )
    if message.tool_call_cancellation is not None:
        found.append(events.ToolCallCancellation(tuple(message.tool_call_cancellation.ids or ())))
    if message.go_away is not None:
        found.append(events.GoAway(_seconds(message.go_away.time_left)))
    if message.session_resumption_update is not None:
        update = message.session_resumption_update
        found.append(events.ResumptionHandle(update.new_handle, bool(update.resumable)))
    return found


def translate_error(exc: BaseException) -> BaseException:
    """The SDK's and the network's failures as one line the user can act on."""
    if isinstance(exc, LivecliError):
        return exc
    if isinstance(exc, genai_errors.APIError):
        reason = _reason(exc)
        if exc.code in _AUTH_CODES:
            return AuthError(f"the Live service refused the session ({exc.code}): {reason}")
        if exc.code == 1000:
            return ConnectionFailed("the Live service closed the session")
        return ConnectionFailed(f"the Live connection closed ({exc.code}): {reason}")
    if isinstance(exc, InvalidStatus):
        return ConnectionFailed(f"the Live service answered HTTP {exc.response.status_code}: check the model name and base URL")
    if isinstance(exc, WebSocketException):
        return ConnectionFailed(f"the Live connection failed: {exc}")
    if isinstance(exc, ssl.SSLError):
        return ConnectionFailed(f"TLS failed with the Live service: {exc.reason or exc}")
    if isinstance(exc, OSError):
        detail = exc.strerror or str(exc) or type(exc).__name__
        return ConnectionFailed(f"cannot reach the Live service: {detail}")
    if isinstance(exc, TimeoutError):
        return ConnectionFailed("cannot reach the Live service: timed out")
    return exc


def _reason(exc: genai_errors.APIError) -> str:
    details: Any = exc.details
    if isinstance(details, dict):
        text = details.get("message") or details.get("error", {}).get("message")
        if text:
            return str(text)
    return str(exc.message or details or "no reason given")


def _rate_of(mime_type: str | None) -> int:
    for part in (mime_type or "").split(";"):
        key, _, value = part.strip().partition("=")
        if key == "rate" and value.isdigit():
            return int(value)
    return OUTPUT_RATE


def _seconds(duration: str | None) -> float | None:
    """Protobuf JSON durations look like '12.5s'."""
    if not duration:
        return None
    try:
        return float(duration.rstrip("s"))
    except ValueError:
        return None
