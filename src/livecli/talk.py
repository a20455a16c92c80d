"""Wiring for `livecli talk`: picks the key, devices, connection and view.

Imported only when `talk` runs, because it pulls in numpy, sounddevice and
google.genai.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Mapping

from livecli import keys, paths
from livecli.audio import streams
from livecli.errors import ExitCode
from livecli.link import Link
from livecli.live import LiveConnection
from livecli.session import TalkSession
from livecli.settings import Settings
from livecli.state import TalkState
from livecli.transcript import Transcript


def run_talk(settings: Settings, *, environ: Mapping[str, str]) -> ExitCode:
    api_key = None if keys.uses_vertex(environ) else keys.require_key(environ, paths.key_file())
    view = make_view(settings, environ)
    state = TalkState(model=settings.model, voice=settings.voice, transcript=Transcript(on_turn_done=view.turn_done))
    microphone = streams.Microphone(settings.input_device, chunk_ms=settings.chunk_ms)
    speaker = None if settings.text else streams.Speaker(settings.output_device, preroll_ms=settings.preroll_ms)
    def connect():
        return Link(
            lambda handle: LiveConnection(settings, api_key=api_key, handle=handle),
            history=state.transcript.recent,
        )

    session = TalkSession(
        state=state,
        connect=connect,
        microphone=microphone,
        speaker=speaker,
        view=view,
    )
    return asyncio.run(session.run())


def make_view(settings: Settings, environ: Mapping[str, str]):
    if settings.plain or not sys.stdout.isatty():
        from livecli.ui.plain import PlainView

        return PlainView()
    from rich.console import Console

    from livecli.ui.rich_view import RichView

    return RichView(Console())
