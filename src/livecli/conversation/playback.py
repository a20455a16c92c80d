"""The model's answer as the user hears it, not as it arrives.

Words and audio arrive ahead of the voice: an answer ends for the user only when its audio has
played, and an answer the user stops (the hush key) keeps only the words that were heard, while
the model is told where it was stopped. This part follows the audio received, what the speaker
still holds and whether it is sounding; the core asks it whether the assistant is speaking.
"""

from __future__ import annotations

from livecli import records
from livecli.conversation import effects as fx
from livecli.conversation.outbox import Outbox
from livecli.formats import seconds_of
from livecli.transcript import Speaker, Transcript

HEARD_WORDS = 8  # of a stopped answer, told back to the model


class AnswerPlayback:
    def __init__(self, transcript: Transcript, out: Outbox, *, has_speaker: bool):
        self._transcript = transcript
        self._out = out
        self._has_speaker = has_speaker
        self._received_s = 0.0  # model audio received for the open answer
        self._queued_s = 0.0  # of which the speaker has not played yet
        self._sounding = False  # the speaker is playing, as the devices last said
        self.playing_out = False  # complete, but its audio may still be playing
        self.hushed = False  # the user stopped this answer: drop the rest of it

    @property
    def speaking(self) -> bool:
        return self._has_speaker and self._sounding

    def audio(self, pcm: bytes, rate: int) -> None:
        self._received_s += seconds_of(len(pcm), rate)
        self._sounding = self._has_speaker  # until the devices say otherwise
        self._out.emit(fx.Play(pcm, rate), fx.RecordAudio("model", pcm, rate))

    def speaker(self, *, sounding: bool, queued_s: float) -> None:
        """What the devices say now (every tick)."""
        self._sounding = sounding
        self._queued_s = queued_s

    def complete(self) -> None:
        """The model has sent all of this answer: it ends for the user once it has played."""
        self.hushed = False
        self._out.emit(fx.EndOfTurn())
        self.playing_out = True
        self.close_if_played()

    def close_if_played(self) -> None:
        if self.playing_out and not self.speaking:
            self.playing_out = False
            self._received_s = 0.0
            self._transcript.model_turn_complete()

    def interrupted(self) -> None:
        """The model stopped because the user spoke over it."""
        self.hushed = False
        self._silence()
        self.cut_off()
        self._out.record(records.Interruption())

    def cut_off(self) -> None:
        """This answer will not be completed (interrupted, or lost with the connection)."""
        self.playing_out = False
        self._received_s = 0.0
        self._transcript.model_interrupted()

    def hush(self) -> None:
        """Silence the answer now; in half duplex this also opens the microphone."""
        if not self._has_speaker or not (self._sounding or self.playing_out):
            return
        self.hushed = not self.playing_out  # more of this answer may still come
        self._silence()
        self._out.emit(fx.OpenMic())
        answer = self._transcript.open_turn(Speaker.MODEL)
        if answer is not None and self._received_s > 0:  # its words run ahead of its voice: keep what was heard
            answer.cut((self._received_s - self._queued_s) / self._received_s)
        heard = " ".join(answer.text.split()[-HEARD_WORDS:]) if answer is not None else ""
        self.cut_off()
        self._out.record(records.Interruption(by="key"))
        if self.hushed:  # the model is still talking: stop it, and say how far the user listened
            where = f' after "…{heard}"' if heard else ""
            self._out.emit(fx.SendContext(f"[I stopped your answer{where}. Wait for me to speak.]"))

    def _silence(self) -> None:
        self._sounding = False
        self._out.emit(fx.Flush())
