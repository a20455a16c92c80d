"""Choosing one entry of a list: arrow keys or its number in a terminal, a typed line otherwise."""

from __future__ import annotations

import sys
from typing import TextIO

from livecli.errors import ConfigError
from livecli.ui.keys import BACKSPACE, DOWN, ENTER, ESC, UP, KeyReader


class Chooser:
    """The choice under the cursor; keys move it, digits jump to a device index."""

    def __init__(self, entries: list[tuple[str, str]], position: int = 0):
        self.entries = entries  # (key shown, label); key "d" is the system default
        self.position = position
        self.typed = ""

    def press(self, key: str) -> str | None:
        """Apply a key; "done" or "cancel" ends the choice."""
        if key in ENTER:
            return "done"
        if key in (ESC, "q"):
            return "cancel"
        if key == UP:
            self.position, self.typed = max(0, self.position - 1), ""
        elif key == DOWN:
            self.position, self.typed = min(len(self.entries) - 1, self.position + 1), ""
        elif key.isdigit() or key == "d":
            keys = [entry_key for entry_key, _ in self.entries]
            longer = self.typed + key if key.isdigit() and self.typed.isdigit() else key
            self.typed = longer if longer in keys else key
            if self.typed in keys:
                self.position = keys.index(self.typed)
        elif key in BACKSPACE:
            self.typed = self.typed[:-1]
        return None

    def lines(self) -> list[str]:
        return [
            f"{'>' if i == self.position else ' '} {key:>3}  {label}" for i, (key, label) in enumerate(self.entries)
        ]


def choose(title: str, chooser: Chooser, keys: KeyReader, out: TextIO | None = None) -> int | None:
    """The chosen entry's position, or None when cancelled (or at the end of the input).

    `keys` is entered (`with KeyReader() as keys:`) by the caller, so keys typed
    ahead for the next question are kept for it.
    """
    out = out or sys.stdout
    if keys.is_terminal and out.isatty():
        return _choose_with_keys(title, chooser, keys, out)
    out.write(f"{title}: type its number, 'd' for the system default, Enter to keep the current one\n")
    out.write("".join(line + "\n" for line in chooser.lines()))
    out.flush()
    answer = keys.read_line()
    if answer is None:
        return None
    answer = answer.strip()
    if answer:
        entry_keys = [key for key, _ in chooser.entries]
        if answer not in entry_keys:
            raise ConfigError(f"'{answer}' is not one of the choices ({', '.join(entry_keys)})")
        chooser.position = entry_keys.index(answer)
    return chooser.position


def _choose_with_keys(title: str, chooser: Chooser, keys: KeyReader, out: TextIO) -> int | None:
    out.write(f"{title} (↑/↓ or its number, Enter to choose, Esc to cancel):\n")
    drawn = 0
    while True:
        if drawn:
            out.write(f"\x1b[{drawn}F")
        lines = chooser.lines()
        out.write("".join(f"\x1b[2K{line}\n" for line in lines))
        out.flush()
        drawn = len(lines)
        key = keys.next_key()
        if key is None and keys.at_end:
            return None
        outcome = chooser.press(key) if key is not None else None
        if outcome == "done":
            return chooser.position
        if outcome == "cancel":
            return None
