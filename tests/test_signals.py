"""Ctrl-C semantics of a talk session, in a subprocess so a real SIGINT can be sent."""

import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# A session whose connection never finishes closing (a service that stops
# answering during the close handshake): only a second Ctrl-C gets out.
SCRIPT = """
import asyncio, contextlib, io, sys
sys.path.insert(0, {repo!r})
from livecli.session import TalkSession
from livecli.conversation import Conversation
from livecli.ui.plain import PlainView
from tests.support.file_audio import FileMicrophone, silence
from tests.support.stdin import silent_stdin

class HangsOnClose:
    handle = None
    def __init__(self, handle):
        pass
    async def __aenter__(self):
        return self
    async def __aexit__(self, *exc):
        await asyncio.Event().wait()
    async def send_audio(self, pcm):
        pass
    async def events(self):
        print("connected", flush=True)
        await asyncio.Event().wait()
        yield

view = PlainView()
session = TalkSession(
    conversation=Conversation(model="m", voice=None, has_speaker=False, tools_enabled=False),
    connect=HangsOnClose, microphone=FileMicrophone(silence(60)), speaker=None, view=view, stdin=silent_stdin(),
)
sys.exit(asyncio.run(session.run()))
"""


def start():
    process = subprocess.Popen(
        [sys.executable, "-c", SCRIPT.format(repo=str(REPO))], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert process.stdout.readline().strip() == "connected"
    return process


def test_second_ctrl_c_forces_exit_130():
    process = start()
    process.send_signal(signal.SIGINT)
    time.sleep(0.5)
    assert process.poll() is None  # first Ctrl-C: closing cleanly, which hangs here
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=5) == 130
