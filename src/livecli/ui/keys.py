"""Keys from the terminal: the one reader talk, replay and `devices pick` use.

A terminal stdin is put in cbreak mode (keys arrive one by one without echo;
Ctrl-C still raises SIGINT) and given back as it was, however livecli exits
(ui.terminal). Arrow keys arrive as their names ("up", "down", "left",
"right"); other escape sequences (function keys...) are dropped; Esc, Enter and
Backspace arrive as their characters. A stdin that is not a terminal (a pipe, a
file, /dev/null) has no keys: it is read line by line.
"""

from __future__ import annotations

import codecs
import contextlib
import os
import re
import select
import sys
import termios
import tty
from collections.abc import Iterator
from typing import TextIO

from livecli.ui import terminal

ESC = "\x1b"
ENTER = ("\r", "\n")
BACKSPACE = ("\x7f", "\x08")
UP, DOWN, RIGHT, LEFT = "up", "down", "right", "left"

# CSI ("ESC [", parameters, a final letter or ~) and SS3 ("ESC O" and a letter), as terminals send them.
_SEQUENCE = re.compile(r"\x1b(?:\[[0-9;?]*[A-Za-z~]|O[A-Za-z])")
_ARROWS = {
    prefix + letter: name for prefix in ("\x1b[", "\x1bO") for letter, name in zip("ABCD", (UP, DOWN, RIGHT, LEFT))
}
_UNFINISHED = re.compile(r"\x1b(?:\[[0-9;?]*|O)?\Z")
SEQUENCE_WAIT_S = 0.03  # the rest of an escape sequence split across reads


def split_keys(text: str) -> list[str]:
    """Characters as keys, arrow sequences as their names, other sequences dropped."""
    keys: list[str] = []
    position = 0
    for found in _SEQUENCE.finditer(text):
        keys += text[position : found.start()]
        if found.group() in _ARROWS:
            keys.append(_ARROWS[found.group()])
        position = found.end()
    keys += text[position:]
    return keys


class KeyReader:
    """`with KeyReader() as reader:` keys from stdin while the block runs.

    `is_terminal` says whether there are keys at all; `read()` returns the keys
    typed so far, `next_key()` one at a time (keys typed ahead wait their turn);
    `fileno()` is what an event loop watches (`add_reader`); `lines()` and
    `read_line()` read a stdin that is not a terminal.
    """

    def __init__(self, stdin: TextIO | None = None):
        self._stdin = stdin if stdin is not None else sys.stdin
        self._fd = _terminal_fd(self._stdin)
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._change: terminal.Change | None = None
        self._queue: list[str] = []  # read, not yet taken by next_key()
        self.at_end = False  # the terminal went away (hung up)

    @property
    def is_terminal(self) -> bool:
        return self._fd is not None

    def fileno(self) -> int:
        if self._fd is None:
            raise ValueError("stdin is not a terminal")
        return self._fd

    def __enter__(self) -> KeyReader:
        if self._fd is not None and self._change is None:
            fd, saved = self._fd, termios.tcgetattr(self._fd)
            tty.setcbreak(fd, termios.TCSANOW)  # TCSANOW: keys typed ahead are kept
            self._change = terminal.Change(lambda: _set_mode(fd, saved))
        return self

    def __exit__(self, *exc_info) -> None:
        self.restore()

    def restore(self) -> None:
        """The terminal as it was; safe to call more than once."""
        if self._change is not None:
            self._change.undo()
            self._change = None

    def read(self, timeout: float | None = 0.0) -> list[str]:
        """The keys typed so far, waiting up to `timeout` seconds for one (None: until one comes).

        Always [] when stdin is not a terminal.
        """
        if self._queue:
            keys, self._queue = self._queue, []
            return keys
        if self._fd is None or self.at_end or not _readable(self._fd, timeout):
            return []
        text = self._decoder.decode(self._read_bytes())
        while not self.at_end and _UNFINISHED.search(text) and _readable(self._fd, SEQUENCE_WAIT_S):
            text += self._decoder.decode(self._read_bytes())
        return split_keys(text)

    def _read_bytes(self) -> bytes:
        try:
            data = os.read(self._fd, 1024)
        except OSError:  # EIO: the terminal hung up
            data = b""
        self.at_end = self.at_end or not data
        return data

    def next_key(self, timeout: float | None = None) -> str | None:
        """One key, waiting up to `timeout` seconds (None: until one comes); None if none came."""
        if not self._queue:
            self._queue = self.read(timeout)
        return self._queue.pop(0) if self._queue else None

    def lines(self) -> Iterator[str]:
        """Each line of a stdin that is not a terminal, without its line end, until its end."""
        while (line := self.read_line()) is not None:
            yield line

    def read_line(self) -> str | None:
        """The next line of stdin without its line end; None at the end of the input."""
        line = self._stdin.readline()
        return line.rstrip("\r\n") if line else None


def _terminal_fd(stream: TextIO | None) -> int | None:
    try:
        fd = stream.fileno() if stream is not None else None
    except (ValueError, OSError, AttributeError):
        return None
    return fd if fd is not None and os.isatty(fd) else None


def _set_mode(fd: int, mode: list) -> None:
    with contextlib.suppress(termios.error):  # a terminal that hung up has no mode to give back
        termios.tcsetattr(fd, termios.TCSADRAIN, mode)


def _readable(fd: int, timeout: float | None) -> bool:
    return bool(select.select([fd], [], [], timeout)[0])
