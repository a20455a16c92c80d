"""Where the parts of the conversation core put what they decide, in the order they decide it.

The core is split by job (the answer playing out, sight, tool calls); each part writes here and
`Conversation.handle` takes the effects out after each input. A record made now is stored and
applied to the state at once (`facts`), so what is recorded is what is shown.
"""

from __future__ import annotations

from livecli import records
from livecli.conversation import effects as fx
from livecli.conversation import facts
from livecli.pricing import Overrides
from livecli.state import TalkState


class Outbox:
    def __init__(self, state: TalkState, prices: Overrides | None):
        """`prices`: config.toml's price overrides, for the cost a usage report adds up to."""
        self._state = state
        self._prices = prices
        self._effects: list[fx.Effect] = []

    def emit(self, *effects: fx.Effect) -> None:
        self._effects.extend(effects)

    def record(self, record: records.Record) -> None:
        """A fact made now: stored, and applied to what the user sees."""
        self.emit(fx.Record(record))
        self.apply(record)

    def apply(self, record: records.Record) -> None:
        """What a record changes on screen, made now or read back (replay)."""
        self.emit(*facts.apply(self._state, record, self._prices))

    def notify(self, message: str) -> None:
        self.emit(*facts.notify(self._state, message))

    def take(self) -> list[fx.Effect]:
        """The effects so far, in order; the outbox is empty again."""
        effects, self._effects = self._effects, []
        return effects
