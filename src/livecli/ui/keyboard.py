"""Keys and typed lines, turned into commands for the talk session.

In a terminal (keys read by ui.keys): `t`, `/` or Enter open a line to type,
Enter sends it, Esc cancels; `m` mutes or unmutes the microphone; Space stops
the assistant talking; `v` pauses or resumes sharing the screen or camera, `l` sends a
fresh picture of it now; `q` ends the session; `y`/`n` answer a tool call waiting
for approval. When stdin is not a terminal, each line read from it is sent as
text (or answers the approval: y, yes, n, no), and its end ends the session
once everything asked has been answered.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

from livecli.conversation.inputs import (
    Answer,
    Command,
    Hush,
    InputEnded,
    LookNow,
    Quit,
    SendText,
    ToggleMute,
    ToggleSharing,
)
from livecli.state import TalkState
from livecli.ui import terminal
from livecli.ui.keys import BACKSPACE, ENTER, ESC, KeyReader


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
        elif len(key) == 1 and key.isprintable():  # not a named key ("up")
            state.typed += key
        return None
    if key in ("t", "/") or key in ENTER:
        state.typing = True
    elif key == "m":
        return ToggleMute()
    elif key == "v":
        return ToggleSharing()
    elif key == "l":
        return LookNow()
    elif key == " ":
        return Hush()
    elif key == "q":
        return Quit()
    return None


class InputReader:
    """Feeds stdin to `on_command` on the event loop, never blocking it.

    A terminal is read key by key as the loop sees them arrive (`add_reader`);
    anything else (a pipe, a file, /dev/null, which epoll cannot watch) line by
    line in a daemon thread.
    """

    def __init__(self, state: TalkState, on_command: Callable[[Command], None], stdin=None):
        self._state = state
        self._on_command = on_command
        self._keys = KeyReader(stdin)
        self._watched = False

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        if self._keys.is_terminal:
            self._keys.__enter__()
            loop.add_reader(self._keys.fileno(), self._read_keys)
            self._watched = True
        else:
            threading.Thread(target=self._read_lines, args=(loop,), name="stdin-lines", daemon=True).start()

    def _read_keys(self) -> None:
        for key in self._keys.read():
            command = handle_key(self._state, key)
            if command is not None:
                self._on_command(command)
        if self._keys.at_end:  # the terminal is gone: stop watching it
            self.stop()

    def _read_lines(self, loop: asyncio.AbstractEventLoop) -> None:
        """Each non-empty line is sent as text; at the end of input the session ends once answered."""
        try:
            for line in self._keys.lines():
                text = line.strip()
                if text:
                    loop.call_soon_threadsafe(self._on_command, SendText(text))
            loop.call_soon_threadsafe(self._on_command, InputEnded())
        except (OSError, ValueError, RuntimeError):
            pass  # stdin unreadable, or the loop ended first

    def stop(self) -> None:
        """Give the terminal back as it was; safe to call more than once."""
        if self._watched:
            asyncio.get_running_loop().remove_reader(self._keys.fileno())
            self._watched = False
        self._keys.restore()

    def restore_terminal(self) -> None:
        """Everything livecli changed in the terminal, for an exit that skips the rest."""
        terminal.restore_all()
