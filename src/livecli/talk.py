"""Wiring for `livecli talk`: key, devices, tools, session record, connection, view.

Imported only when `talk` runs, because it pulls in numpy and sounddevice;
google.genai is loaded after the microphone has started.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gc
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from livecli import keys, paths, pricing
from livecli.audio import streams
from livecli.audio.echo import make_echo
from livecli.conversation import Conversation
from livecli.errors import AudioError, ConfigError, ExitCode, LivecliError
from livecli.link import Link
from livecli.ports import PictureSource
from livecli.session import TalkSession
from livecli.settings import Settings
from livecli.store import SessionRecorder, SessionStore
from livecli.tokens import TokenSource
from livecli.tools import open_registry
from livecli.transcript import Speaker, Turn

LATEST = "latest"


@dataclasses.dataclass(frozen=True)
class TalkOptions:
    """What `talk` takes beyond settings: this run only, never stored."""

    tool_files: Sequence[Path] = ()
    no_tools: bool = False
    yolo: bool = False
    continue_ref: str | None = None  # a session id prefix, or LATEST
    token: str | None = None  # an ephemeral token for this run (--token)
    thinking_level: str | None = None
    translate_to: str | None = None  # `livecli translate`: the language to speak
    labels: tuple[str, str] | None = None  # how the two sides are named, when not You / Gemini


def credentials(
    settings: Settings, options: TalkOptions, environ: Mapping[str, str]
) -> tuple[str | None, TokenSource | None]:
    """(key, token source): a token given (--token, LIVECLI_TOKEN) or minted by token_command
    keeps the long-lived key off this machine; otherwise the key (or Vertex's own credentials)."""
    token = options.token or environ.get("LIVECLI_TOKEN")
    if token:
        return None, TokenSource(token)
    if settings.token_command:
        return None, TokenSource(command=settings.token_command)
    return (None if keys.uses_vertex(environ) else keys.require_key(environ, paths.key_file())), None


def run_talk(settings: Settings, options: TalkOptions, *, environ: Mapping[str, str], config: dict) -> ExitCode:
    api_key, token = credentials(settings, options, environ)
    prices = pricing.parse_overrides(config.get("prices", {}), source=str(paths.config_file()))
    if settings.budget_usd is not None and pricing.prices_for(settings.model, prices) is None:
        raise ConfigError(
            f"no known price for {settings.model}, so a budget cannot be kept: "
            f'set its prices in config.toml ([prices."{settings.model}"]) or drop the budget'
        )
    store = SessionStore(paths.data_dir())
    continued, handle, earlier = resume_point(store, options.continue_ref)
    view = make_view(settings)
    microphone = streams.Microphone(settings.input_device, chunk_ms=settings.chunk_ms)
    echo = make_echo("off" if settings.text else settings.echo)
    speaker = None
    if not settings.text:
        speaker = streams.Speaker(settings.output_device, preroll_ms=settings.preroll_ms, echo=echo.control)
    if echo.notice:
        view.notice(echo.notice)
    recorder = open_recorder(settings, view, continues=continued)
    exclude = recorder.id if recorder is not None else None
    sessions: list[TalkSession] = []

    pictures = picture_source(settings)

    async def talk() -> ExitCode:
        # Capture while the SDK and the tools load, so the first chunk is ready once connected.
        with contextlib.suppress(AudioError):  # the session opens it again and reports why not
            microphone.start()
        async with open_registry(
            config,
            config_source=str(paths.config_file()),
            extra_files=options.tool_files,
            no_tools=options.no_tools,
            memory_search=lambda query, limit: store.search_transcripts(query, limit, exclude_session=exclude),
            log_dir=paths.data_dir() / "logs",
        ) as registry:
            for warning in registry.warnings:
                view.notice(warning)
            declarations = registry.declarations()
            from livecli.live import LiveConnection  # google.genai: loaded while the microphone runs

            conversation = Conversation(
                model=settings.model,
                voice=settings.voice,
                earlier=earlier,
                has_speaker=speaker is not None,
                prices=prices,
                budget_usd=settings.budget_usd,
                idle_s=settings.idle_minutes * 60 if settings.idle_minutes else None,
                keep_pictures=settings.record_pictures and settings.record_audio,
                labels=dict(zip((Speaker.USER, Speaker.MODEL), options.labels)) if options.labels else None,
            )

            def open_connection(latest_handle: str | None) -> LiveConnection:
                # A system instruction changed in the session (/system) holds for its reconnections.
                chosen = settings.replace(system=conversation.state.system or settings.system)
                return LiveConnection(
                    chosen,
                    api_key=api_key,
                    token=token,
                    handle=latest_handle,
                    tools=declarations,
                    thinking_level=options.thinking_level,
                    translate_to=options.translate_to,
                    video=pictures is not None,
                )

            def connect(latest_handle: str | None) -> Link:
                """A fresh session is told the conversation so far (a continued one, or after a standby)."""
                history = conversation.state.transcript.recent
                return Link(open_connection, handle=latest_handle, history=history, prime=True)

            session = TalkSession(
                conversation=conversation,
                connect=connect,
                handle=handle,
                microphone=microphone,
                speaker=speaker,
                view=view,
                registry=registry,
                yolo=options.yolo,
                recorder=recorder,
                echo=echo.control,
                pictures=pictures,
            )
            sessions.append(session)
            # What is loaded by now lives as long as the process. Left to the collector, each
            # full pass walks it all (about 100,000 objects: 53 ms holding the GIL, longer than
            # the speaker's 20 ms of buffer), so it is set aside for good.
            gc.freeze()
            try:
                return await session.run()
            finally:
                if session.connected and api_key is not None:
                    keys.mark_accepted(api_key, paths.key_file())
                if environ.get("LIVECLI_METRICS"):
                    Path(environ["LIVECLI_METRICS"]).write_text(json.dumps(session.final_metrics(), indent=2))

    try:
        code = asyncio.run(talk())
    finally:
        prune(store, settings)
    if recorder is not None and sessions and sessions[0].connected:
        if nothing_said(store, recorder.id):
            store.delete(recorder.id)
            print("livecli: nothing was said, so no session was kept", file=sys.stderr)
        else:
            print(
                f"livecli: session {recorder.id} saved: `livecli replay {recorder.id}` plays it back", file=sys.stderr
            )
    return code


def nothing_said(store: SessionStore, session_id: str) -> bool:
    """A session with no word either way and nothing billed (`talk </dev/null`, a quick `q`)
    is not worth a row in `sessions list`; one that keeps no transcript cannot tell."""
    info = store.info(session_id)
    return info.record_history and info.turns == 0 and info.tokens.total == 0


def picture_source(settings: Settings) -> PictureSource | None:
    """The screen or camera to share (`--screen`, `--camera`); the sight package loads only then."""
    screen, camera = settings.screen, settings.camera
    if screen is None and camera is None:
        return None
    from livecli import sight

    if camera is not None:
        return sight.open_camera(camera)
    return sight.open_screen(None if screen in (None, "primary") else int(screen))


def resume_point(store: SessionStore, ref: str | None) -> tuple[str | None, str | None, list[Turn]]:
    """For `--continue`: (session id, its latest resumption handle, its turns)."""
    if ref is None:
        return None, None, []
    session_id = store.resolve(None if ref == LATEST else ref)
    turns = [
        Turn(Speaker.USER if role == "user" else Speaker.MODEL, text, done=True)
        for role, text in store.recent_turns(session_id)
    ]
    return session_id, store.latest_resumption_handle(session_id), turns


def open_recorder(settings: Settings, view: Any, *, continues: str | None) -> SessionRecorder | None:
    """The session record; a store that cannot be written is a warning, not a reason not to talk."""
    try:
        return SessionRecorder.open(
            paths.data_dir(),
            model=settings.model,
            voice=settings.voice,
            input_device=settings.input_device,
            output_device=settings.output_device,
            settings=dataclasses.asdict(settings),
            record_audio=settings.record_audio,
            record_history=settings.record_history,
            continues=continues,
        )
    except LivecliError as exc:
        view.notice(f"this session is not being recorded: {exc}")
        return None


def prune(store: SessionStore, settings: Settings) -> None:
    if settings.keep_days or settings.max_sessions:
        try:
            store.prune(settings.keep_days, settings.max_sessions)
        except LivecliError as exc:
            print(f"livecli: could not prune old sessions: {exc}", file=sys.stderr)


def make_view(settings: Settings):
    if settings.plain or not sys.stdout.isatty():
        from livecli.ui.plain import PlainView

        return PlainView()
    from rich.console import Console

    from livecli.ui.rich_view import RichView

    return RichView(Console())
