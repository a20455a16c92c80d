"""What the model is shown: a shared screen or camera, and pictures (`/image PATH`).

The sharing itself lives in `TalkState` (the view shows it); this part decides what the
sharing keys do, when a fresh look is asked for and what a picture sent leaves in the record.
Whether a picture may wake a standby is the core's call.
"""

from __future__ import annotations

from livecli import records
from livecli.conversation import effects as fx
from livecli.conversation import inputs
from livecli.conversation.outbox import Outbox
from livecli.state import TalkState

NOTHING_SHARED = "nothing is shared: talk --screen or --camera shares, /image PATH shows a picture"


class Sharing:
    def __init__(self, state: TalkState, out: Outbox, *, keep_pictures: bool):
        """`keep_pictures`: store each picture with the record, not only that it was sent."""
        self._state = state
        self._out = out
        self._keep_pictures = keep_pictures

    def started(self, description: str) -> None:
        self._state.sharing, self._state.sharing_paused = description, False
        self._out.record(records.Notice(f"sharing {description} with the model"))

    def stopped(self, reason: str) -> None:
        self._state.sharing = None
        self._out.record(records.Notice(reason))

    def toggle(self) -> None:
        """Pause or resume sharing."""
        if self._state.sharing is None:
            self._out.notify(NOTHING_SHARED)
            return
        self._state.sharing_paused = not self._state.sharing_paused
        self._out.notify(
            f"{'paused sharing' if self._state.sharing_paused else 'sharing again'}: {self._state.sharing}"
        )
        self._out.emit(fx.PauseSharing(self._state.sharing_paused))

    def look_now(self) -> None:
        if self._state.sharing is None:
            self._out.notify(NOTHING_SHARED)
        else:
            self.look_again()

    def look_again(self) -> None:
        """A fresh frame of what is shared (a paused share shows nothing)."""
        if self._state.sharing is not None and not self._state.sharing_paused:
            self._out.emit(fx.RequestLook())

    def show(self, picture: inputs.Picture) -> None:
        """Show the model a picture; the record says so, and keeps it when pictures are kept."""
        self._out.emit(fx.SendPicture(picture.jpeg, picture.mime_type))
        kept = self._keep_pictures
        if kept:
            self._out.emit(fx.RecordPicture(picture.jpeg, picture.mime_type))
        self._out.record(records.PictureSent(picture.source, picture.width, picture.height, len(picture.jpeg), kept))
