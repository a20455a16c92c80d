"""The one key reader (talk, replay, `devices pick`): keys named as a user presses
them, on a real pseudo-terminal, and the terminal always given back."""

import io
import os
import signal
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from livecli.ui import terminal
from livecli.ui.keys import DOWN, LEFT, RIGHT, UP, KeyReader, split_keys

REPO = Path(__file__).resolve().parent.parent


def test_arrows_are_named_other_sequences_dropped_characters_kept():
    assert split_keys("a\x1b[A\x1bOB\x1b[C\x1b[Dé") == ["a", UP, DOWN, RIGHT, LEFT, "é"]
    assert split_keys("\x1b[15~\x1b[1;2A x") == [" ", "x"]  # F5, shift+up
    assert split_keys("\x1b\x7f\r") == ["\x1b", "\x7f", "\r"]  # Esc, Backspace, Enter


@pytest.fixture
def pty_stdin(monkeypatch):
    """A pseudo-terminal as stdin; yields the side a user types into."""
    main, secondary = os.openpty()
    stdin = open(secondary, "r")
    yield main, stdin
    stdin.close()
    os.close(main)


def lflags(fd):
    return termios.tcgetattr(fd)[3]


def test_keys_from_a_terminal_one_by_one_and_the_terminal_given_back(pty_stdin):
    main, stdin = pty_stdin
    before = lflags(stdin.fileno())
    assert before & termios.ICANON and before & termios.ECHO
    with KeyReader(stdin) as reader:
        assert reader.is_terminal
        assert not lflags(stdin.fileno()) & (termios.ICANON | termios.ECHO)  # cbreak
        assert reader.read() == []
        os.write(main, "q\x1b[B1\r".encode())
        assert reader.next_key(timeout=5) == "q"
        assert reader.read() == [DOWN, "1", "\n"]  # what was typed ahead waited (Enter as the terminal maps it)
        os.write(main, b"\x1b[")  # an arrow written in two pieces
        os.write(main, b"A")
        assert reader.read(timeout=5) == [UP]
    assert lflags(stdin.fileno()) == before


def test_a_lone_escape_is_the_escape_key(pty_stdin):
    main, stdin = pty_stdin
    with KeyReader(stdin) as reader:
        os.write(main, b"\x1b")
        assert reader.read(timeout=5) == ["\x1b"]


def test_a_stdin_that_is_not_a_terminal_is_read_line_by_line():
    reader = KeyReader(io.StringIO("first\r\nsecond\n\nlast"))
    with reader:
        assert not reader.is_terminal and reader.read() == []
        assert list(reader.lines()) == ["first", "second", "", "last"]
        assert reader.read_line() is None


def test_restore_all_undoes_what_is_still_changed_newest_first():
    undone = []
    first, second = terminal.Change(lambda: undone.append(1)), terminal.Change(lambda: undone.append(2))
    gone = terminal.Change(lambda: undone.append(3))
    gone.undo()
    terminal.restore_all()
    terminal.restore_all()
    assert undone == [3, 2, 1]
    first.undo(), second.forget()
    assert undone == [3, 2, 1]


# A talk session on a terminal, with the live layout, whose connection never finishes
# closing: the second Ctrl-C ends the process at once (os._exit).
SCRIPT = """
import asyncio, sys
sys.path.insert(0, {repo!r})
from rich.console import Console
from livecli.session import TalkSession
from livecli.state import TalkState
from livecli.transcript import Transcript
from livecli.ui.rich_view import RichView
from tests.support.file_audio import FileMicrophone, silence

class HangsOnClose:
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

session = TalkSession(
    state=TalkState(model="m", voice=None, transcript=Transcript()),
    connect=HangsOnClose, microphone=FileMicrophone(silence(60)), speaker=None, view=RichView(Console()),
)
sys.exit(asyncio.run(session.run()))
"""


def test_a_second_ctrl_c_gives_the_terminal_back():
    main, secondary = os.openpty()
    before = termios.tcgetattr(secondary)
    process = subprocess.Popen(
        [sys.executable, "-c", SCRIPT.format(repo=str(REPO))],
        stdin=secondary, stdout=secondary, stderr=subprocess.PIPE, env=dict(os.environ, TERM="xterm"),
    )
    shown = b""
    try:
        assert process.stderr.readline().strip() == b"connected"
        process.send_signal(signal.SIGINT)
        time.sleep(0.5)
        assert process.poll() is None  # first Ctrl-C: closing cleanly, which hangs here
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 130
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
        process.kill()
        os.close(main)
        os.close(secondary)
    assert b"\x1b[?1049h" in shown  # the live layout took the alternate screen...
    assert shown.rindex(b"\x1b[?1049l") > shown.rindex(b"\x1b[?1049h")  # ...and gave it back
    assert shown.rindex(b"\x1b[?25h") > shown.rindex(b"\x1b[?25l")  # the cursor shows again
    assert after[3] == before[3]  # echo and line editing back
