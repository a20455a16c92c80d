"""Ctrl-C semantics of a talk session, in a subprocess so a real SIGINT can be sent."""

import os
import signal
import subprocess
import sys
import termios
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# A session whose connection never finishes closing (a service that stops
# answering during the close handshake): only a second Ctrl-C gets out.
SCRIPT = """
import asyncio, contextlib, io, sys
sys.path.insert(0, {repo!r})
from rich.console import Console
from livecli.session import TalkSession
from livecli.conversation import Conversation
from livecli.ui.plain import PlainView
from livecli.ui.rich_view import RichView
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
        print("connected", file=sys.stderr, flush=True)
        await asyncio.Event().wait()
        yield

view = {view}
session = TalkSession(
    conversation=Conversation(model="m", voice=None, has_speaker=False, tools_enabled=False),
    connect=HangsOnClose, microphone=FileMicrophone(silence(60)), speaker=None, view=view, stdin={stdin},
)
sys.exit(asyncio.run(session.run()))
"""


def start(view="PlainView()", stdin="silent_stdin()", terminal=subprocess.PIPE):
    process = subprocess.Popen(
        [sys.executable, "-c", SCRIPT.format(repo=str(REPO), view=view, stdin=stdin)],
        stdin=terminal if terminal != subprocess.PIPE else None,
        stdout=terminal,
        stderr=subprocess.PIPE,
        env=dict(os.environ, TERM="xterm"),
    )
    assert process.stderr.readline().strip() == b"connected"
    return process


def ctrl_c_twice(process):
    process.send_signal(signal.SIGINT)
    time.sleep(0.5)
    assert process.poll() is None  # first Ctrl-C: closing cleanly, which hangs here
    process.send_signal(signal.SIGINT)
    return process.wait(timeout=10)


def test_second_ctrl_c_forces_exit_130():
    assert ctrl_c_twice(start()) == 130


def test_a_second_ctrl_c_gives_the_terminal_back():
    """On a terminal, with the live layout and keys read one by one."""
    main, secondary = os.openpty()
    before = termios.tcgetattr(secondary)
    shown = b""
    try:
        process = start(view="RichView(Console())", stdin="None", terminal=secondary)
        assert ctrl_c_twice(process) == 130
        os.set_blocking(main, False)
        while True:
            try:
                data = os.read(main, 65536)
            except (BlockingIOError, OSError):
                break
            if not data:
                break
            shown += data
        after = termios.tcgetattr(secondary)
    finally:
        os.close(main)
        os.close(secondary)
    assert b"\x1b[?1049h" in shown  # the live layout took the alternate screen...
    assert shown.rindex(b"\x1b[?1049l") > shown.rindex(b"\x1b[?1049h")  # ...and gave it back
    assert shown.rindex(b"\x1b[?25h") > shown.rindex(b"\x1b[?25l")  # the cursor shows again
    assert after[3] == before[3]  # echo and line editing back
