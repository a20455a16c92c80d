"""Keys and typed lines, turned into commands for the session.

In a terminal, keys are read one at a time (cbreak mode, so Ctrl-C still
raises SIGINT): `t`, `/` or Enter open a line to type, Enter sends it, Esc
cancels; `m` mutes or unmutes the microphone; `q` ends the session. When stdin
is not a terminal, each line read from it is sent as text.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import sys
import termios
import tty
from collections.abc import Callable

from livecli.state import TalkState

ESC = "\x1b"
ENTER = ("\r", "\n")
BACKSPACE = ("\x7f", "\x08")


@dataclasses.dataclass(frozen=True)
class SendText:
    text: str


@dataclasses.dataclass(frozen=True)
class ToggleMute:
    pass


@dataclasses.dataclass(frozen=True)
class Quit:
    pass


Command = SendText | ToggleMute | Quit


def handle_key(state: TalkState, key: str) -> Command | None:
    """Apply one key to the typing line in `state`; return a command if any."""
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
    elif key == "q":
        return Quit()
    return None


class InputReader:
    """Feeds stdin to `on_command` from the event loop (never blocks it)."""

    def __init__(self, state: TalkState, on_command: Callable[[Command], None], stdin=None):
        self._state = state
        self._on_command = on_command
        self._stdin = stdin or sys.stdin
        self._fd: int | None = None
        self._saved_tty = None
        self._pending = b""

    def start(self) -> None:
        try:
            fd = self._stdin.fileno()
        except (ValueError, OSError, AttributeError):
            return
        if os.isatty(fd):
            self._saved_tty = termios.tcgetattr(fd)
            tty.setcbreak(fd)
        os.set_blocking(fd, False)
        self._fd = fd
        asyncio.get_running_loop().add_reader(fd, self._readable)

    def _readable(self) -> None:
        try:
            data = os.read(self._fd, 4096)
        except BlockingIOError:
            return
        if not data:  # end of input: keep talking, stop reading
            asyncio.get_running_loop().remove_reader(self._fd)
            return
        if self._saved_tty is not None:
            for key in _split_keys(data.decode("utf-8", "replace")):
                command = handle_key(self._state, key)
                if command is not None:
                    self._on_command(command)
            return
        self._pending += data
        *lines, self._pending = self._pending.split(b"\n")
        for line in lines:
            text = line.decode("utf-8", "replace").strip()
            if text:
                self._on_command(SendText(text))

    def stop(self) -> None:
        """Give the terminal back as it was; safe to call more than once."""
        if self._fd is None:
            return
        try:
            asyncio.get_running_loop().remove_reader(self._fd)
        except RuntimeError:
            pass
        self.restore_terminal()
        os.set_blocking(self._fd, True)
        self._fd = None

    def restore_terminal(self) -> None:
        if self._saved_tty is not None and self._fd is not None:
            termios.tcsetattr(self._fd, termios.TCSADRAIN, self._saved_tty)


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
