"""Plain output: one line per finished turn, for pipes and scripts."""

from __future__ import annotations

import sys
from typing import TextIO

from livecli.state import TalkState, ToolActivity
from livecli.transcript import Turn


class PlainView:
    def __init__(self, out: TextIO | None = None, err: TextIO | None = None):
        self._out = out or sys.stdout
        self._err = err or sys.stderr

    def start(self, state: TalkState) -> None:
        pass

    def refresh(self, state: TalkState) -> None:
        pass

    def turn_done(self, turn: Turn) -> None:
        print("\n".join([turn.line(), *turn.source_lines()]), file=self._out, flush=True)

    def tool_done(self, activity: ToolActivity) -> None:
        print(activity.line(), file=self._out, flush=True)

    def notice(self, message: str) -> None:
        print(f"livecli: {message}", file=self._err, flush=True)

    def stop(self, state: TalkState) -> None:
        pass
