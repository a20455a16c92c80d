"""The Live connection: the only module that drives `google.genai`'s Live session.

It builds the session config from settings and the per-model table (livecli.models), connects
with a key or an ephemeral token, translates the SDK's messages into livecli events and its
failures into one-line errors (livecli.live_errors). The base URL and TLS settings are left to
the SDK, so `GOOGLE_GEMINI_BASE_URL` and `SSL_CERT_FILE` keep working.
"""

from __future__ import annotations

import asyncio
import contextlib
import warnings
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from google import genai
from google.genai import errors as genai_errors
from google.genai import types
from websockets.exceptions import WebSocketException

from livecli import events, formats
from livecli.errors import AuthError, ConfigError, ConnectionFailed
from livecli.live_errors import TokenRefused, translate_error
from livecli.models import LiveModel, model_info
from livecli.settings import Settings
from livecli.tokens import TOKEN_API_VERSION

if TYPE_CHECKING:
    from livecli.tokens import TokenSource

INPUT_MIME = f"audio/pcm;rate={formats.INPUT_RATE}"
# Sharing the screen or camera: a turn takes the user's speech and every frame sent since the
# last one. livecli itself sends a frame only when the picture changed enough (at most one a
# second, none for a still screen), so each frame is worth the tokens it is billed and kept for;
# silence is left out. Said explicitly, not left to a model's default (3.8's includes all video).
VIDEO_TURNS = types.RealtimeInputConfig(turn_coverage=types.TurnCoverage.TURN_INCLUDES_AUDIO_ACTIVITY_AND_ALL_VIDEO)

# The service can be slow to answer websocket pings; the default 20 s ping
# timeout drops healthy sessions. A dead link still shows up within a minute.
WEBSOCKET_OPTIONS = {"ping_interval": 20.0, "ping_timeout": 40.0, "compression": None}


def build_config(
    settings: Settings,
    *,
    handle: str | None = None,
    tools: list[types.Tool] | None = None,
    thinking_level: str | None = None,
    translate_to: str | None = None,
    video: bool = False,
) -> types.LiveConnectConfig:
    """The setup livecli sends, shaped by the model's row in livecli.models.

    `talk --text` on a model that only speaks asks for AUDIO with its transcription (the session
    keeps the speaker silent). Fields the model refuses are never sent."""
    model = model_info(settings.model)
    text = settings.text and model.text_replies
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
    config = types.LiveConnectConfig(
        response_modalities=[types.Modality.TEXT if text else types.Modality.AUDIO],
        speech_config=speech,
        system_instruction=settings.system,
        input_audio_transcription=types.AudioTranscriptionConfig(),
        output_audio_transcription=None if text else types.AudioTranscriptionConfig(),
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
        tools=_tools(settings, model, tools),
        thinking_config=_thinking(settings.model, thinking_level),
        realtime_input_config=VIDEO_TURNS if video else None,
        translation_config=_translation(settings.model, translate_to),
    )
    return config.model_copy(update=dict.fromkeys(model.refused_fields))


def _tools(settings: Settings, model: LiveModel, declared: list[types.Tool] | None) -> list[types.Tool] | None:
    """livecli's tools, and Google Search when the settings and the model allow it."""
    if not model.tools:
        return None
    search = [types.Tool(google_search=types.GoogleSearch())] if settings.search and model.google_search else []
    return [*(declared or []), *search] or None


def _thinking(model_name: str, level: str | None) -> types.ThinkingConfig | None:
    if level is None:
        return None
    levels = model_info(model_name).thinking_levels
    if level.lower() not in levels:
        takes = f"takes {', '.join(levels)}" if levels else "takes no thinking level"
        raise ConfigError(f"{model_name} {takes} (asked for '{level}')")
    return types.ThinkingConfig(thinking_level=types.ThinkingLevel(level.upper()))


def _translation(model_name: str, target: str | None) -> types.TranslationConfig | None:
    if model_info(model_name).translate_only:
        if not target:
            raise ConfigError(f"{model_name} translates speech: give the language to translate into")
        return types.TranslationConfig(target_language_code=target)
    if target:
        raise ConfigError(f"{model_name} does not translate: use gemini-3.5-live-translate-preview")
    return None


class LiveConnection:
    """One Live session: `async with LiveConnection(...) as conn:`.

    Authenticates with `api_key` (None: the SDK's own, e.g. Vertex from the environment) or with
    an ephemeral `token` (livecli.tokens.TokenSource), the way the SDK does: the token as the key,
    on v1alpha's constrained endpoint. A token the service refuses at connect time is renewed
    once when its source can (token_command)."""

    def __init__(
        self,
        settings: Settings,
        *,
        api_key: str | None = None,
        token: TokenSource | None = None,
        handle: str | None = None,
        tools: list[types.Tool] | None = None,
        thinking_level: str | None = None,
        translate_to: str | None = None,
        video: bool = False,
    ):
        self._settings = settings
        self._api_key = api_key
        self._token = token
        self._config = build_config(
            settings, handle=handle, tools=tools, thinking_level=thinking_level, translate_to=translate_to, video=video
        )
        self._stack = contextlib.AsyncExitStack()
        self._session = None
        self._announced = False  # SessionId reported

    @property
    def session_id(self) -> str | None:
        """The service's id for the session (Vertex sends one)."""
        return self._session.session_id if self._session is not None else None

    async def __aenter__(self) -> LiveConnection:
        if self._token is None:
            await self._open(self._api_key, self._settings.api_version)
            return self
        try:
            await self._open(await asyncio.to_thread(self._token.current), TOKEN_API_VERSION)
        except TokenRefused:
            if not self._token.renewable:
                raise
            await self._open(await asyncio.to_thread(self._token.refresh), TOKEN_API_VERSION)
        return self

    async def _open(self, key: str | None, api_version: str | None) -> None:
        http_options = types.HttpOptions(api_version=api_version, async_client_args=WEBSOCKET_OPTIONS)
        client = genai.Client(api_key=key, http_options=http_options)
        try:
            with warnings.catch_warnings():  # "ephemeral tokens are experimental", on every connection
                warnings.simplefilter("ignore", genai_errors.ExperimentalWarning)
                self._session = await self._stack.enter_async_context(
                    client.aio.live.connect(model=self._settings.model, config=self._config)
                )
        except BaseException as exc:
            await self._stack.aclose()
            raise translate_error(exc, settings=self._settings, token=self._token is not None) from None

    async def __aexit__(self, *exc_info) -> None:
        with contextlib.suppress(Exception):
            await self._stack.aclose()

    async def send_audio(self, pcm: bytes) -> None:
        await self._guard(self._session.send_realtime_input(audio=types.Blob(data=pcm, mime_type=INPUT_MIME)))

    async def send_video(self, data: bytes, mime_type: str = "image/jpeg") -> None:
        """One picture of the shared screen or camera (or a single image)."""
        await self._guard(self._session.send_realtime_input(video=types.Blob(data=data, mime_type=mime_type)))

    async def end_audio_stream(self) -> None:
        """Tells the service the microphone went quiet on purpose (mute)."""
        await self._guard(self._session.send_realtime_input(audio_stream_end=True))

    async def send_text(self, text: str) -> None:
        await self._guard(self._session.send_realtime_input(text=text))

    async def send_history(self, turns: list[tuple[str, str]]) -> None:
        """Prime a fresh session with earlier turns [(role 'user'|'model', text)]."""
        contents = [types.Content(role=role, parts=[types.Part(text=text)]) for role, text in turns]
        await self._guard(self._session.send_client_content(turns=contents, turn_complete=False))

    async def update_context(self, *, system: str | None = None, tools: list[types.Tool] | None = None) -> None:
        """A new system instruction or tool list for the rest of the session (no new session);
        `tools=[]` clears the tools."""
        await self._guard(self._session.send_context_update(system_instruction=system, tools=tools))

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
        if self.session_id and not self._announced:
            self._announced = True
            yield events.SessionId(self.session_id)
        try:
            while True:
                # receive() stops after each turnComplete (at IDLE with interactionStatus); keep listening.
                async for message in self._session.receive():
                    for event in translate_message(message):
                        yield event
        except (genai_errors.APIError, WebSocketException, OSError) as exc:
            raise translate_error(exc, settings=self._settings) from None

    async def _guard(self, send) -> None:
        try:
            await send
        except Exception as exc:
            raise translate_error(exc, settings=self._settings) from None


def live_models(api_key: str | None, api_version: str | None = None) -> list[str]:
    """The models this key can hold a Live session with (they support bidiGenerateContent),
    for `livecli models` and the unknown-model error's advice."""
    client = genai.Client(api_key=api_key, http_options=types.HttpOptions(api_version=api_version))
    try:
        found = client.models.list()
        return sorted(
            (model.name or "").removeprefix("models/")
            for model in found
            if "bidiGenerateContent" in (model.supported_actions or [])
        )
    except genai_errors.APIError as exc:
        failure = AuthError if exc.code in (400, 401, 403) else ConnectionFailed
        raise failure(f"the service did not list its models ({exc.code}): {exc.message or exc.status}") from None
    except Exception as exc:
        raise translate_error(exc) from None


def translate_message(message: types.LiveServerMessage) -> list[events.LiveEvent]:
    """Everything one message carries, in order, as livecli events: one message may hold audio
    parts, a transcription, turnComplete and usage at once. Thought parts are dropped (never
    shown, spoken or recorded), and so is the code the model runs for a tool call."""
    found: list[events.LiveEvent] = []
    if message.voice_activity is not None and message.voice_activity.voice_activity_type in _VOICE:
        found.append(events.VoiceActivity(_VOICE[message.voice_activity.voice_activity_type]))
    content = message.server_content
    if content is not None:
        found.extend(_content_events(content))
    if message.usage_metadata is not None:
        found.append(_usage(message.usage_metadata))
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


_VOICE = {types.VoiceActivityType.ACTIVITY_START: True, types.VoiceActivityType.ACTIVITY_END: False}


def _content_events(content: types.LiveServerContent) -> list[events.LiveEvent]:
    found: list[events.LiveEvent] = []
    if content.interim_input_transcription and content.interim_input_transcription.text:
        found.append(events.InterimInputTranscript(content.interim_input_transcription.text))
    if content.input_transcription and content.input_transcription.text:
        found.append(events.InputTranscript(content.input_transcription.text))
    for part in (content.model_turn.parts or []) if content.model_turn else []:
        if part.thought:
            continue
        if part.inline_data and part.inline_data.data:
            found.append(events.ModelAudio(part.inline_data.data, _rate_of(part.inline_data.mime_type)))
        elif part.text:
            found.append(events.ModelText(part.text))
    if content.output_transcription and content.output_transcription.text:
        found.append(events.OutputTranscript(content.output_transcription.text))
    if content.grounding_metadata is not None:
        grounding = _grounding(content.grounding_metadata)
        if grounding.sources or grounding.queries:
            found.append(grounding)
    if content.generation_complete:
        found.append(events.GenerationComplete())
    if content.interrupted:
        found.append(events.Interrupted())
    reason = content.turn_complete_reason
    if reason is not None and reason != types.TurnCompleteReason.TURN_COMPLETE_REASON_UNSPECIFIED:
        found.append(events.TurnEndReason(reason.value, _explain(reason.value)))
    if content.waiting_for_input:
        found.append(events.WaitingForInput())
    status = content.interaction_status
    if status is not None and status != types.InteractionStatus.INTERACTION_STATUS_UNSPECIFIED:
        found.append(events.InteractionStatus(status.value))
    if content.turn_complete:
        found.append(events.TurnComplete())
    return found


def _usage(usage: types.UsageMetadata) -> events.Usage:
    return events.Usage(
        prompt_tokens=usage.prompt_token_count or 0,
        response_tokens=usage.response_token_count or 0,
        total_tokens=usage.total_token_count or 0,
        thoughts_tokens=usage.thoughts_token_count or 0,
        tool_use_tokens=usage.tool_use_prompt_token_count or 0,
        cached_tokens=usage.cached_content_token_count or 0,
        prompt_by_modality=_by_modality(usage.prompt_tokens_details),
        response_by_modality=_by_modality(usage.response_tokens_details),
        tool_use_by_modality=_by_modality(usage.tool_use_prompt_tokens_details),
    )


def _by_modality(details: list[types.ModalityTokenCount] | None) -> dict[str, int]:
    counts: dict[str, int] = {}
    for detail in details or []:
        name = detail.modality.value if detail.modality is not None else "MODALITY_UNSPECIFIED"
        counts[name] = counts.get(name, 0) + (detail.token_count or 0)
    return counts


def _grounding(metadata: types.GroundingMetadata) -> events.Grounding:
    sources = []
    for chunk in metadata.grounding_chunks or []:
        page: Any = chunk.web or chunk.retrieved_context
        if page is not None and page.uri:
            sources.append(events.GroundingSource(title=page.title or page.uri, uri=page.uri))
    return events.Grounding(tuple(sources), tuple(metadata.web_search_queries or ()))


_EXPLAINED = {
    "PROHIBITED_INPUT_CONTENT": "the service refused what was said (prohibited content)",
    "RESPONSE_REJECTED": "the service withheld the answer",
    "MALFORMED_FUNCTION_CALL": "the model made a malformed tool call",
    "NEED_MORE_INPUT": "the model needs more from you to answer",
    "BLOCKLIST": "the service blocked a term on its blocklist",
    "MAX_REGENERATION_REACHED": "the service gave up generating an answer",
}


def _explain(reason: str) -> str:
    if reason in _EXPLAINED:
        return _EXPLAINED[reason]
    words = reason.lower().replace("_", " ")
    if reason.startswith(("INPUT_", "IMAGE_")) or ("PROHIBITED" in reason and not reason.startswith("GENERATED")):
        return f"the service refused the input ({words})"
    return f"the service withheld the answer ({words})"


def _rate_of(mime_type: str | None) -> int:
    """'audio/pcm;rate=24000' -> 24000; Vertex's bare 'audio/pcm' is 24 kHz."""
    for part in (mime_type or "").split(";"):
        key, _, value = part.strip().partition("=")
        if key == "rate" and value.isdigit():
            return int(value)
    return formats.OUTPUT_RATE


def _seconds(duration: str | None) -> float | None:
    """Protobuf JSON durations look like '12.5s'."""
    if not duration:
        return None
    try:
        return float(duration.rstrip("s"))
    except ValueError:
        return None
