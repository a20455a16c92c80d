"""A standard input that stays open and says nothing: a terminal left alone.

`talk` ends at the end of piped input, so a session that should run until the
test stops it reads from here instead of an empty StringIO or /dev/null.
"""

import os

_writers: list[int] = []  # kept open for the life of the test process


def silent_stdin():
    read, write = os.pipe()
    _writers.append(write)
    return os.fdopen(read)
