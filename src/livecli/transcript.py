"""Stitching transcription fragments into turns ("You" / "Gemini").

The service sends transcripts of both sides in small pieces that carry their
own spacing, and the user's last words often arrive after the model has begun
to answer. So each side has at most one open turn: user fragments extend the
open user turn wherever the model is. The user's turn closes when the model's
turn is complete; the model's turn closes when its audio has been played, or
when it is interrupted (then it is marked as such).
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable

from livecli.formats import source_lines


class Speaker(enum.Enum):
    USER = "You"
    MODEL = "Gemini"


@dataclasses.dataclass
class Turn:
    speaker: Speaker
    text: str = ""
    done: bool = False
    interrupted: bool = False
    typed: bool = False
    sources: tuple[tuple[str, str], ...] = ()  # (title, uri) of the pages a grounded answer used
    queries: tuple[str, ...] = ()  # the searches it ran
    label: str = ""  # how the side is named on screen, when not "You"/"Gemini" (translate)

    def cut(self, heard: float) -> None:
        """Keep the share of the words that was heard (0..1), the rest never reached the user."""
        words = self.text.split()
        kept = max(0, min(len(words), round(len(words) * heard)))
        if kept < len(words):
            self.text = " ".join(words[:kept]) + "…"

    @property
    def who(self) -> str:
        return self.label or self.speaker.value

    def line(self) -> str:
        suffix = " [interrupted]" if self.interrupted else ""
        return f"{self.who}: {self.text.strip()}{suffix}"

    def source_lines(self) -> list[str]:
        return source_lines(self.sources, self.queries)


class Transcript:
    """All turns so far, in the order they began.

    `on_turn_done` is called once per finished turn that has words in it,
    in order: a user turn is always reported before the answer to it.
    """

    def __init__(self, on_turn_done: Callable[[Turn], None] | None = None, labels: dict[Speaker, str] | None = None):
        self.turns: list[Turn] = []
        self.on_turn_done = on_turn_done
        self.labels = labels or {}

    def open_turn(self, speaker: Speaker) -> Turn | None:
        for turn in reversed(self.turns):
            if turn.speaker is speaker and not turn.done:
                return turn
        return None

    def recent(self, limit: int = 20) -> list[tuple[str, str]]:
        """Finished turns as (role, text), to prime a fresh session with."""
        done = [turn for turn in self.turns if turn.done][-limit:]
        return [("user" if turn.speaker is Speaker.USER else "model", turn.text.strip()) for turn in done]

    def add(self, speaker: Speaker, fragment: str) -> None:
        if not fragment:
            return
        turn = self.open_turn(speaker)
        if turn is None:
            turn = Turn(speaker, label=self.labels.get(speaker, ""))
            self.turns.append(turn)
        turn.text += fragment

    def add_user_text(self, text: str) -> None:
        """A line the user typed is a whole turn on its own."""
        self._finish(self.open_turn(Speaker.USER))
        turn = Turn(Speaker.USER, text, typed=True, label=self.labels.get(Speaker.USER, ""))
        self.turns.append(turn)
        self._finish(turn)

    def ground(self, sources: tuple[tuple[str, str], ...], queries: tuple[str, ...]) -> None:
        """Sources for the model's answer: the open one, or the last one when it has already ended."""
        turn = self.open_turn(Speaker.MODEL) or next(
            (t for t in reversed(self.turns) if t.speaker is Speaker.MODEL), None
        )
        if turn is None:
            turn = Turn(Speaker.MODEL, label=self.labels.get(Speaker.MODEL, ""))
            self.turns.append(turn)
        turn.sources = tuple(dict.fromkeys(turn.sources + sources))
        turn.queries = tuple(dict.fromkeys(turn.queries + queries))

    def finish_user_turn(self) -> None:
        """The model has answered: the user's words so far are a whole turn."""
        self._finish(self.open_turn(Speaker.USER))

    def model_turn_complete(self) -> None:
        self._finish_model_turn(interrupted=False)

    def model_interrupted(self) -> None:
        self._finish_model_turn(interrupted=True)

    def finish_all(self) -> None:
        for turn in [t for t in self.turns if not t.done]:
            self._finish(turn)

    def _finish_model_turn(self, *, interrupted: bool) -> None:
        """Close the model's turn and every turn begun before it.

        A user turn begun after it (barge-in) stays open for its next words.
        """
        model = self.open_turn(Speaker.MODEL)
        if model is None:
            if not interrupted:
                self.finish_all()
            return
        model.interrupted = interrupted
        position = self.turns.index(model)
        for turn in [t for t in self.turns[: position + 1] if not t.done]:
            self._finish(turn)

    def _finish(self, turn: Turn | None) -> None:
        if turn is None or turn.done:
            return
        turn.done = True
        if not turn.text.strip():
            self.turns.remove(turn)
            return
        if self.on_turn_done is not None:
            self.on_turn_done(turn)
