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
import re
import sys
import time

from livecli import events, records
from livecli.conversation import Conversation
from livecli.conversation.inputs import Ended, Input, Tick
from livecli.errors import ExitCode
from livecli.events import ConnectionState
from livecli.models import model_info
from livecli.ports import show
from livecli.settings import Settings
from livecli.state import TalkState
from livecli.store import Event, SessionInfo, SessionStore, StoreError
from livecli.store.timeline import RATE, Timeline
from livecli.transcript import Speaker
from livecli.ui.keys import LEFT, RIGHT, KeyReader
from livecli.ui.plain import PlainView
from livecli.ui.replay_view import Progress, RichReplayView

LEAD_S = 0.3  # audio written ahead of what is heard
TICK_S = 0.02
REFRESH_S = 0.1
SKIP_S = 5.0
METER_S = 0.05
KEYS = {" ": "pause", "p": "pause", "q": "quit", RIGHT: "forward", "l": "forward", LEFT: "back", "h": "back"}


# -- what the screen shows, and when ---------------------------------------------------------


class Screen:
    """The conversation core that cues feed, and the view its turns and notices go to."""

    def __init__(self, info: SessionInfo, view):
        self._info = info
        self._view = view
        self.reset()

    def reset(self) -> None:
        """Back to the session's start (to seek backwards, cues are applied again)."""
        labels = {Speaker.MODEL: "Translation"} if model_info(self._info.model).translate_only else None
        self.core = Conversation(model=self._info.model, voice=self._info.voice, labels=labels)
        self.core.handle(records.Connected())
        self.core.state.replaying = True
        self.quiet = False  # while catching up after a seek: nothing printed twice

    @property
    def state(self) -> TalkState:
        return self.core.state

    def apply(self, item: Input) -> None:
        """Feed one cue's input; only what the view shows is carried out (nothing is sent, played or stored)."""
        for effect in self.core.handle(item):
            if not self.quiet:
                show(self._view, effect)

    def notify(self, message: str) -> None:
        self.apply(records.Notice(message))


@dataclasses.dataclass(frozen=True, order=True)
class Cue:
    at: float
    seq: int
    item: Input = dataclasses.field(compare=False)


def build_cues(stored: list[Event], model_spans: list[tuple[float, float]]) -> list[Cue]:
    """The core's inputs at the moments they should show (see the module docstring)."""
    cues: list[Cue] = []

    def at(when: float, item: Input) -> None:
        cues.append(Cue(max(0.0, when), len(cues), item))

    turn_began = 0.0  # when the previous model turn ended: the next turn's audio comes after it
    previous = 0.0
    for event in stored:
        # Stored in the order they happened; equal-looking times must keep that order.
        when = previous = max(event.offset_s, previous)
        match event.record:
            case records.UserTurn(typed=False, text=text):
                answer = [start for start, _ in model_spans if turn_began <= start <= when]
                at(min([when, *answer[:1]]), events.InputTranscript(text))
                at(when, event.record)
            case records.ModelTurn(text=text):
                spoken = [(a, min(b, when)) for a, b in model_spans if turn_began <= a < when]
                words = re.findall(r"\S+\s*", text) or [""]
                first, last = (spoken[0][0], spoken[-1][1]) if spoken else (when, when)
                for i, word in enumerate(words):
                    at(first + (last - first) * i / len(words), events.OutputTranscript(word))
                at(when, event.record)
                turn_began = when
            case records.Reconnected(reason=reason, gap_s=gap):
                at(when - (gap or 0.0), events.LinkChange(ConnectionState.RECONNECTING, reason))
                at(when, event.record)
            case records.Interruption() | records.ResumptionHandle() | records.Connected() | None:
                pass  # shown through the turns, or nothing to show
            case record:
                at(when, record)
    return sorted(cues)


# -- the player ------------------------------------------------------------------------------


class Player:
    """Moves the session's clock, feeds the speaker and applies cues as the clock passes them."""

    def __init__(
        self, screen: Screen, cues: list[Cue], timeline: Timeline, *, speed: float, start_s: float, speaker=None
    ):
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
            self.screen.apply(self._cues[self._next].item)
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
        self.screen.apply(Ended())

    @property
    def progress(self) -> Progress:
        return Progress(self.position, self.timeline.duration_s, self.paused, self.speed)

    def update_state(self) -> None:
        """What the status line shows at the current position."""
        state = self.screen.state
        state.started_at = time.monotonic() - self.position  # the header's clock
        self.screen.apply(Tick(speaker_active=self.timeline.model.sounding(self.position)))
        state.mic_level_dbfs = self.timeline.user.level_dbfs(self.position - METER_S, self.position)


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
    stored = store.events(session_id)
    timeline = Timeline(store, session_id, stored, info.duration_s)
    if not timeline.has_audio and not any(isinstance(event.record, records.TURNS) for event in stored):
        ended = f" ({info.ending})" if info.exit_reason else ""
        raise StoreError(f"session {session_id} has nothing to replay: nothing was said in it{ended}")
    rich = not plain and sys.stdout.isatty()
    if rich:
        from rich.console import Console

        view: RichReplayView | PlainView = RichReplayView(Console())
    else:
        view = PlainView()
    screen = Screen(info, view)
    cues = build_cues(stored, timeline.model.spans(gap_s=0.05))
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
            _play(player, view if isinstance(view, RichReplayView) else None)
    finally:
        if speaker is not None:
            speaker.close()
        player.finish()
        if isinstance(view, RichReplayView):
            view.stop(screen.state)
    return ExitCode.OK


def replay_actions(keys: list[str]) -> list[str]:
    """What replay's keys ask for: pause, forward, back, quit (other keys do nothing)."""
    return [KEYS[key] for key in keys if key in KEYS]


def _play(player: Player, view: RichReplayView | None) -> None:
    """Until the end, `q` or Ctrl-C."""
    refreshed = 0.0
    if view is not None:
        view.start()
    with KeyReader() as keys, contextlib.suppress(KeyboardInterrupt):
        while not player.finished:
            for action in replay_actions(keys.read(timeout=TICK_S) if keys.is_terminal else []):
                if action == "quit":
                    return
                if action == "pause":
                    player.toggle_pause()
                else:
                    player.seek(SKIP_S if action == "forward" else -SKIP_S)
            if not keys.is_terminal:
                time.sleep(TICK_S)
            player.tick()
            if view is not None and time.monotonic() - refreshed >= REFRESH_S:
                player.update_state()
                view.refresh(player.screen.state, player.progress)
                refreshed = time.monotonic()
        time.sleep(0.1)  # the device's own buffer still holds the last blocks
