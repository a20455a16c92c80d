"""The one key reader (talk, replay, `devices pick`): keys named as a user presses
them, on a real pseudo-terminal, and the terminal always given back (a second
Ctrl-C in talk: test_signals.py)."""

import io
import os
import termios

import pytest

from livecli.ui import terminal
from livecli.ui.keys import DOWN, LEFT, RIGHT, UP, KeyReader, split_keys


def test_arrows_are_named_other_sequences_dropped_characters_kept():
    assert split_keys("a\x1b[A\x1bOB\x1b[C\x1b[Dé") == ["a", UP, DOWN, RIGHT, LEFT, "é"]
    assert split_keys("\x1b[15~\x1b[1;2A x") == [" ", "x"]  # F5, shift+up
    assert split_keys("\x1b\x7f\r") == ["\x1b", "\x7f", "\r"]  # Esc, Backspace, Enter


@pytest.fixture
def pty_stdin(monkeypatch):
    """A pseudo-terminal as stdin; yields the side a user types into."""
    main, secondary = os.openpty()
    stdin = open(secondary)
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
        os.write(main, b"q\x1b[B1\r")
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


def test_a_terminal_that_hangs_up_ends_the_keys():
    main, secondary = os.openpty()
    with open(secondary) as stdin, KeyReader(stdin) as reader:
        os.close(main)  # the terminal window closed
        assert reader.read(timeout=5) == [] and reader.at_end
        assert reader.next_key() is None  # does not wait for keys that cannot come
