"""Replay's screen: talk's layout, with a progress bar where talk shows its key hints.

It renders the replayed talk state and plain figures (position, length, paused,
speed); the player that moves them lives in `livecli.replay`.
"""

from __future__ import annotations

import dataclasses

from rich.console import Console
from rich.live import Live
from rich.text import Text

from livecli.formats import clock
from livecli.state import TalkState, ToolActivity
from livecli.transcript import Turn
from livecli.ui import rich_view

HINTS = "space pause · ←/→ 5 s · q quit"


@dataclasses.dataclass(frozen=True)
class Progress:
    position_s: float
    duration_s: float
    paused: bool
    speed: float


def render_progress(progress: Progress, width: int) -> Text:
    left = f"{'⏸' if progress.paused else '▶'} {clock(progress.position_s)[:5]} "
    right = f" {clock(progress.duration_s)[:5]}  ×{progress.speed:g}   {HINTS}"
    room = max(10, width - len(left) - len(right))
    filled = round(room * (progress.position_s / progress.duration_s if progress.duration_s else 1.0))
    bar = Text.assemble(left, ("━" * filled, "magenta"), ("─" * (room - filled), "dim"), (right, "dim"))
    return rich_view.one_line(bar)


class RichReplayView:
    def __init__(self, console: Console):
        self._console = console
        self._live: Live | None = None

    def start(self) -> None:
        self._live = Live(
            console=self._console, auto_refresh=False, screen=True, redirect_stdout=False, redirect_stderr=False
        )
        self._live.start()

    def refresh(self, state: TalkState, progress: Progress) -> None:
        if self._live is None:
            return
        bar = render_progress(progress, self._console.width)
        self._live.update(rich_view.render(state, self._console, prompt=bar), refresh=True)

    def turn_done(self, turn: Turn) -> None:
        pass  # rendered from the transcript

    def tool_done(self, activity: ToolActivity) -> None:
        pass  # rendered from state.tools

    def notice(self, message: str) -> None:
        pass  # in the status line

    def stop(self, state: TalkState) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None
        for line in rich_view.render_transcript(state):
            self._console.print(line)
