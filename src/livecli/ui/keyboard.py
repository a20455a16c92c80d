"""Keys and typed lines, turned into commands for the session.

In a terminal, keys are read one at a time (cbreak mode, so Ctrl-C still
raises SIGINT): `t`, `/` or Enter open a line to type, Enter sends it, Esc
cancels; `m` mutes or unmutes the microphone; Space stops the assistant talking;
`q` ends the session; `y`/`n` answer
a tool call waiting for approval. When stdin is not a terminal, each line
read from it is sent as text (or answers the approval: y, yes, n, no), and
its end ends the session once everything asked has been answered.
"""

from __future__ import annotations

import asyncio
import os
import sys
import termios
import threading
import tty
from collections.abc import Callable

from livecli.conversation.inputs import Answer, Command, Hush, InputEnded, Quit, SendText, ToggleMute
from livecli.state import TalkState

ESC = "\x1b"
ENTER = ("\r", "\n")
BACKSPACE = ("\x7f", "\x08")




def handle_key(state: TalkState, key: str) -> Command | None:
    """Apply one key to the typing line in `state`; return a command if any."""
    if state.approval is not None and not state.typing and key.lower() in ("y", "n"):
        return Answer(key.lower() == "y")
    if state.typing:
        if key in ENTER:
            text, state.typed, state.typing = state.typed.strip(), "", False
            return SendText(text) if text else None
        if key == ESC:
            state.typed, state.typing = "", False
        elif key in BACKSPACE:
            state.typed = state.typed[:-1]
        elif key.isprintable():
            state.typed += key
        return None
    if key in ("t", "/") or key in ENTER:
        state.typing = True
    elif key == "m":
        return ToggleMute()
    elif key == " ":
        return Hush()
    elif key == "q":
        return Quit()
    return None


class InputReader:
    """Feeds stdin to `on_command` on the event loop, never blocking it.

    A terminal is read key by key with `add_reader`; anything else (a pipe, a
    file, /dev/null, which epoll cannot watch) line by line in a daemon thread.
    """

    def __init__(self, state: TalkState, on_command: Callable[[Command], None], stdin=None):
        self._state = state
        self._on_command = on_command
        self._stdin = stdin or sys.stdin
        self._tty_fd: int | None = None
        self._saved_tty = None

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            fd = self._stdin.fileno()
        except (ValueError, OSError, AttributeError):
            fd = None
        if fd is not None and os.isatty(fd):
            self._saved_tty = termios.tcgetattr(fd)
            tty.setcbreak(fd)
            self._tty_fd = fd
            loop.add_reader(fd, self._read_keys)
        else:
            threading.Thread(target=self._read_lines, args=(loop,), name="stdin-lines", daemon=True).start()

    def _read_keys(self) -> None:
        data = os.read(self._tty_fd, 1024)
        for key in _split_keys(data.decode("utf-8", "replace")):
            command = handle_key(self._state, key)
            if command is not None:
                self._on_command(command)

    def _read_lines(self, loop: asyncio.AbstractEventLoop) -> None:
        """Each non-empty line is sent as text; at the end of input the session ends once answered."""
        try:
            for line in self._stdin:
                text = line.strip()
                if text:
                    loop.call_soon_threadsafe(self._on_command, SendText(text))
            loop.call_soon_threadsafe(self._on_command, InputEnded())
        except (OSError, ValueError, RuntimeError):
            pass  # stdin unreadable, or the loop ended first

    def stop(self) -> None:
        """Give the terminal back as it was; safe to call more than once."""
        if self._tty_fd is None:
            return
        asyncio.get_running_loop().remove_reader(self._tty_fd)
        self.restore_terminal()
        self._tty_fd = None

    def restore_terminal(self) -> None:
        if self._saved_tty is not None and self._tty_fd is not None:
            termios.tcsetattr(self._tty_fd, termios.TCSADRAIN, self._saved_tty)


def _split_keys(text: str) -> list[str]:
    """Single characters, with escape sequences (arrow keys...) dropped."""
    keys = []
    i = 0
    while i < len(text):
        if text[i] == ESC and i + 1 < len(text) and text[i + 1] in "[O":
            i += 2
            while i < len(text) and not text[i].isalpha() and text[i] != "~":
                i += 1
            i += 1
            continue
        keys.append(text[i])
        i += 1
    return keys
