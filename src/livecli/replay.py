"""`livecli replay`: a stored session played back as it happened.

Both audio streams, mixed on the session's clock, go to the speaker while the
talk layout shows the transcript in step with them. The clock is the audio
actually queued: what is heard is what was written minus what still waits in
the jitter buffer, so text and sound stay together even if the terminal stalls.

Turns are stored when they end; for the text to appear while it is spoken, a
model turn's words are spread over the audio it played, and a spoken user turn
shows when the answer to it begins (that is when the user had finished).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import select
import sys
import termios
import time
import tty
from collections.abc import Callable, Iterator

from rich.console import Console
from rich.live import Live
from rich.text import Text

from livecli.errors import ExitCode
from livecli.events import AssistantState, ConnectionState
from livecli.settings import Settings
from livecli.state import SUMMARY_CHARS, TalkState, ToolActivity, describe_arguments, shorten
from livecli.store import Event, SessionInfo, SessionStore, StoreError
from livecli.store.export import clock
from livecli.store.timeline import RATE, Timeline
from livecli.transcript import Speaker, Transcript, Turn
from livecli.ui import rich_view
from livecli.ui.plain import PlainView

LEAD_S = 0.3  # audio written ahead of what is heard
TICK_S = 0.02
REFRESH_S = 0.1
SKIP_S = 5.0
METER_S = 0.05
HINTS = "space pause · ←/→ 5 s · q quit"
KEYS = {" ": "pause", "p": "pause", "q": "quit", "\x1b[C": "forward", "l": "forward", "\x1b[D": "back", "h": "back"}


# -- what the screen shows, and when ---------------------------------------------------------


class Screen:
    """The talk state that cues change, and the view their turns and notices go to."""

    def __init__(self, info: SessionInfo, view):
        self._info = info
        self._view = view
        self.reset()

    def reset(self) -> None:
        """Back to the session's start (to seek backwards, cues are applied again)."""
        self.state = TalkState(model=self._info.model, voice=self._info.voice, transcript=Transcript(self._turn_done))
        self.state.connection = ConnectionState.CONNECTED
        self.quiet = False  # while catching up after a seek: nothing printed twice

    def _turn_done(self, turn: Turn) -> None:
        if not self.quiet:
            self._view.turn_done(turn)

    def notify(self, message: str) -> None:
        self.state.notice = message
        if not self.quiet:
            self._view.notice(message)

    def tool(self, key: str, activity: ToolActivity) -> None:
        self.state.tools[key] = activity
        if activity.finished and not self.quiet:
            self._view.tool_done(activity)


@dataclasses.dataclass(frozen=True, order=True)
class Cue:
    at: float
    seq: int
    apply: Callable[[Screen], None] = dataclasses.field(compare=False)


def build_cues(events: list[Event], model_spans: list[tuple[float, float]]) -> list[Cue]:
    """Transcript and status changes at the moments they should show (see the module docstring)."""
    cues: list[Cue] = []

    def at(when: float, apply: Callable[[Screen], None]) -> None:
        cues.append(Cue(max(0.0, when), len(cues), apply))

    turn_began = 0.0  # when the previous model turn ended: the next turn's audio comes after it
    previous = 0.0
    calls: dict[str, dict] = {}  # tool calls by id, for their results
    for event in events:
        # Stored in the order they happened; equal-looking times must keep that order.
        event = dataclasses.replace(event, offset_s=max(event.offset_s, previous))
        previous, data = event.offset_s, event.data
        match event.kind:
            case "user_turn" if data.get("typed"):
                at(event.offset_s, lambda s, text=_text(data): s.state.transcript.add_user_text(text))
            case "user_turn":
                answer = [start for start, _ in model_spans if turn_began <= start <= event.offset_s]
                at(min([event.offset_s, *answer[:1]]), lambda s, text=_text(data): s.state.transcript.add(Speaker.USER, text))
                at(event.offset_s, lambda s: s.state.transcript.finish_user_turn())
            case "model_turn":
                spoken = [(a, min(b, event.offset_s)) for a, b in model_spans if turn_began <= a < event.offset_s]
                words = re.findall(r"\S+\s*", _text(data)) or [""]
                first, last = (spoken[0][0], spoken[-1][1]) if spoken else (event.offset_s, event.offset_s)
                for i, word in enumerate(words):
                    at(first + (last - first) * i / len(words), lambda s, w=word: s.state.transcript.add(Speaker.MODEL, w))
                done = Transcript.model_interrupted if data.get("interrupted") else Transcript.model_turn_complete
                at(event.offset_s, lambda s, done=done: done(s.state.transcript))
                turn_began = event.offset_s
            case "tool_call":
                key, calls[key] = _tool_key(data), data
                at(event.offset_s, lambda s, k=key, a=_tool_activity(data, None): s.tool(k, a))
            case "tool_result":
                key = _tool_key(data)
                at(event.offset_s, lambda s, k=key, a=_tool_activity(calls.get(key, data), data): s.tool(k, a))
            case "reconnect":
                gap = float(data.get("gap_s") or 0.0)
                how = "resumed" if data.get("resumed") else f"fresh session: {data.get('reason', '')}"
                message = f"reconnected in {gap * 1000:.0f} ms ({how})"
                at(event.offset_s - gap, lambda s: setattr(s.state, "connection", ConnectionState.RECONNECTING))
                at(event.offset_s, lambda s, m=message: (setattr(s.state, "connection", ConnectionState.CONNECTED), s.notify(m)))
            case "usage":
                tokens = int(data.get("total_tokens") or 0)
                at(event.offset_s, lambda s, t=tokens: setattr(s.state, "total_tokens", s.state.total_tokens + t))
            case "error" | "notice":
                at(event.offset_s, lambda s, m=str(data.get("message", "")): s.notify(m))
    return sorted(cues)


def _text(data: dict) -> str:
    return str(data.get("text") or "")


def _tool_key(data: dict) -> str:
    return str(data.get("id") or data.get("name"))


def _tool_activity(call: dict, result: dict | None) -> ToolActivity:
    """A tool call's line as talk showed it, from what was stored."""
    activity = ToolActivity(name=str(call.get("name")), args=describe_arguments(call.get("args") or {}), state="running")
    if result is None:
        return activity
    state = str(result.get("state") or "done")
    outcome = result.get("result", result.get("error"))
    summary = json.dumps(outcome, ensure_ascii=False, default=str) if outcome is not None else ""
    duration = result.get("duration_s")
    return dataclasses.replace(
        activity,
        state=state,
        duration_s=duration if isinstance(duration, (int, float)) else None,
        summary=shorten(summary, SUMMARY_CHARS),
        finished=True,
    )


# -- the player ------------------------------------------------------------------------------


class Player:
    """Moves the session's clock, feeds the speaker and applies cues as the clock passes them."""

    def __init__(self, screen: Screen, cues: list[Cue], timeline: Timeline, *, speed: float, start_s: float, speaker=None):
        self.screen = screen
        self.timeline = timeline
        self.speed = speed
        self.position = min(start_s, timeline.duration_s)
        self.paused = False
        self._cues = cues
        self._next = 0
        self._speaker = speaker
        self._fed = self.position  # session time up to which audio has been written
        self._ticked = time.monotonic()
        self._ending = False
        self._catch_up(quiet=start_s > 0)  # with --from, what came before shows but is not printed again

    @property
    def finished(self) -> bool:
        if self._speaker is not None:
            return self._ending and not self._speaker.active
        return self.position >= self.timeline.duration_s

    def tick(self) -> None:
        now = time.monotonic()
        elapsed, self._ticked = now - self._ticked, now
        if self.paused:
            return
        if self._speaker is None or self._speaker.format is None:  # no audio, or its device is being reopened
            self.position = min(self.timeline.duration_s, self.position + elapsed * self.speed)
        if self._speaker is not None:
            self._feed()
        self._catch_up(quiet=False)

    def _feed(self) -> None:
        """Keep LEAD_S of audio queued; the clock is what has been written minus what still waits."""
        speaker, fmt = self._speaker, self._speaker.format
        if fmt is not None:
            queued_s = speaker.buffer.buffered_bytes / (2 * fmt.channels * fmt.rate) * self.speed
            self.position = max(self.position, self._fed - queued_s)
        start = round(max(self._fed, self.position) * RATE)
        end = min(self.timeline.frames, round((self.position + LEAD_S * self.speed) * RATE))
        if end - start >= RATE // 100:
            speaker.play(self.timeline.mono(start, end - start))
            self._fed = end / RATE
        if end >= self.timeline.frames and not self._ending:
            speaker.end_of_turn()  # play the tail even though it is shorter than the pre-roll
            self._ending = True
        if self._ending and not speaker.active:
            self.position = self.timeline.duration_s

    def _catch_up(self, *, quiet: bool) -> None:
        self.screen.quiet = quiet
        while self._next < len(self._cues) and self._cues[self._next].at <= self.position:
            self._cues[self._next].apply(self.screen)
            self._next += 1
        self.screen.quiet = False

    def toggle_pause(self) -> None:
        self.paused = not self.paused
        self._restart_at(self.position)

    def seek(self, delta_s: float) -> None:
        target = min(max(0.0, self.position + delta_s), self.timeline.duration_s)
        if target < self.position:
            self.screen.reset()
            self._next = 0
        self.position = target
        self._restart_at(target)
        self._catch_up(quiet=True)

    def _restart_at(self, position: float) -> None:
        if self._speaker is not None:
            self._speaker.flush()
        self._fed = position
        self._ending = False

    def finish(self) -> None:
        self.position = self.timeline.duration_s
        self._catch_up(quiet=False)
        self.screen.state.transcript.finish_all()
        self.screen.state.assistant = AssistantState.ENDED

    def update_state(self) -> None:
        """What the status line shows at the current position."""
        state = self.screen.state
        state.started_at = time.monotonic() - self.position  # the header's clock
        if any(not activity.finished for activity in state.tools.values()):
            state.assistant = AssistantState.RUNNING_TOOL
        elif self.timeline.model.sounding(self.position) or (
            not self.timeline.has_audio and state.transcript.open_turn(Speaker.MODEL) is not None
        ):
            state.assistant = AssistantState.SPEAKING
        else:
            state.assistant = AssistantState.LISTENING
        state.mic_level_dbfs = self.timeline.user.level_dbfs(self.position - METER_S, self.position)


def render_progress(player: Player, width: int) -> Text:
    duration = player.timeline.duration_s
    left = f"{'⏸' if player.paused else '▶'} {clock(player.position)[:5]} "
    right = f" {clock(duration)[:5]}  ×{player.speed:g}   {HINTS}"
    room = max(10, width - len(left) - len(right))
    filled = round(room * (player.position / duration if duration else 1.0))
    return rich_view.one_line(Text.assemble(left, ("━" * filled, "magenta"), ("─" * (room - filled), "dim"), (right, "dim")))


class RichReplayView:
    """talk's layout, with the progress bar where talk shows its key hints."""

    def __init__(self, console: Console):
        self._console = console
        self._live: Live | None = None

    def start(self) -> None:
        self._live = Live(console=self._console, auto_refresh=False, screen=True, redirect_stdout=False, redirect_stderr=False)
        self._live.start()

    def refresh(self, player: Player) -> None:
        progress = render_progress(player, self._console.width)
        self._live.update(rich_view.render(player.screen.state, self._console, prompt=progress), refresh=True)

    def turn_done(self, turn: Turn) -> None:
        pass

    def tool_done(self, activity: ToolActivity) -> None:
        pass  # rendered from state.tools

    def notice(self, message: str) -> None:
        pass  # in the status line

    def stop(self, state: TalkState) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None
        for turn in state.transcript.turns:
            self._console.print(rich_view.render_turn(turn))


@contextlib.contextmanager
def keys_from_terminal() -> Iterator[Callable[[], list[str]]]:
    """Single keys from a terminal stdin (cbreak: Ctrl-C still interrupts); nothing otherwise."""
    fd = sys.stdin.fileno() if sys.stdin is not None and sys.stdin.isatty() else None
    if fd is None:
        yield list
        return
    saved = termios.tcgetattr(fd)
    tty.setcbreak(fd)

    def read() -> list[str]:
        if not select.select([fd], [], [], 0)[0]:
            return []
        data = os.read(fd, 64).decode("utf-8", "replace")
        return [KEYS[k] for k in re.findall(r"\x1b\[[A-D]|.", data, re.S) if k in KEYS]

    try:
        yield read
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


# -- the command -------------------------------------------------------------------------------


def run_replay(
    store: SessionStore,
    session_id: str,
    *,
    settings: Settings,
    speed: float,
    start_s: float,
    audio: bool,
    plain: bool,
) -> ExitCode:
    info = store.info(session_id)
    events = store.events(session_id)
    timeline = Timeline(store, session_id, events, info.duration_s)
    if not events and not timeline.has_audio:
        raise StoreError(f"session {session_id} has nothing to replay: no audio and no transcript were recorded")
    rich = not plain and sys.stdout.isatty()
    view = RichReplayView(Console()) if rich else PlainView()
    screen = Screen(info, view)
    cues = build_cues(events, timeline.model.spans(gap_s=0.05))
    speaker = None
    if speed > 0 and audio and timeline.has_audio:
        from livecli.audio.streams import Speaker as AudioOut

        speaker = AudioOut(settings.output_device, rate=round(RATE * speed), preroll_ms=settings.preroll_ms)
        speaker.start()
    elif speed > 0 and audio:
        screen.notify("no audio was recorded in this session: showing the transcript")
    player = Player(screen, cues, timeline, speed=speed or 1.0, start_s=start_s, speaker=speaker)
    try:
        if speed > 0:  # 0: everything at once
            _play(player, view if rich else None)
    finally:
        if speaker is not None:
            speaker.close()
        player.finish()
        if rich:
            view.stop(screen.state)
    return ExitCode.OK


def _play(player: Player, view: RichReplayView | None) -> None:
    """Until the end, `q` or Ctrl-C."""
    refreshed = 0.0
    if view is not None:
        view.start()
    with keys_from_terminal() as read_keys, contextlib.suppress(KeyboardInterrupt):
        while not player.finished:
            for key in read_keys():
                if key == "quit":
                    return
                if key == "pause":
                    player.toggle_pause()
                else:
                    player.seek(SKIP_S if key == "forward" else -SKIP_S)
            player.tick()
            if view is not None and time.monotonic() - refreshed >= REFRESH_S:
                player.update_state()
                view.refresh(player)
                refreshed = time.monotonic()
            time.sleep(TICK_S)
        time.sleep(0.1)  # the device's own buffer still holds the last blocks
