"""A device stream that reopens itself, so a lost device never ends a conversation.

A PortAudio stream dies in several ways: its callback thread ends on an error
(`finished_callback`), it stops being active, or it silently stops calling
back (a USB device unplugged, a suspended sound server, a Bluetooth headset
out of range). A watch thread per stream notices each within a few seconds,
closes the dead stream and reopens: the device the user chose first, then the
system default, with growing pauses, re-scanning PortAudio's device list when
neither opens. While on the default it keeps trying the chosen device and
moves back once that one delivers audio again.

`status` says what is wrong right now (None when all is well); `pop_notices()`
hands out each change once, for the session to show.
"""

from __future__ import annotations

import collections
import dataclasses
import threading
import time
from collections.abc import Callable
from typing import Any

from livecli.audio import portaudio
from livecli.audio.devices import Device, Direction, default_device, kind_of, resolve
from livecli.audio.opening import StreamFormat, describe_error, discard, open_stream
from livecli.errors import AudioError

WATCH_S = 0.1
STALL_S = 2.0  # no callback for this long: the device has stopped
FIRST_CALLBACK_S = 3.0  # after opening; Bluetooth devices start slowly
STRIKES_FOR_DEFAULT = 2  # the chosen device failed this often in a row: go to the default
STRIKE_WINDOW_S = 10.0  # a failure sooner than this after opening counts as "in a row"
RETRY_S = (0.25, 0.5, 1.0, 2.0, 4.0, 5.0)
RETURN_EVERY_S = 5.0  # on the default: how often to try the chosen device again
PROOF_CALLBACKS = 5  # blocks a reopened device must deliver before we call it back
RESCAN_EVERY_S = 10.0  # doubled after each re-scan that did not help: it interrupts the other stream


@dataclasses.dataclass
class _Opened:
    """One open PortAudio stream and what its callbacks have shown."""

    stream: Any
    device: Device
    format: StreamFormat | None
    opened_at: float
    live: bool = True  # False while proving a device before moving back to it
    callbacks: int = 0
    last_callback: float = 0.0
    ended: bool = False


class DeviceStream:
    """Base of Microphone and Speaker: opening, watching, reopening."""

    direction: Direction
    block_ms: int

    def __init__(self, spec: str | None, *, rate: int):
        self.spec = spec
        self.rate = rate
        self.device = resolve(spec, self.direction)  # an unknown name fails now, with candidates
        self.status: str | None = None
        self.last_format: StreamFormat | None = None  # kept after close, for reports
        self._opened: _Opened | None = None
        self._proving: _Opened | None = None
        self._on_fallback = False
        self._notices: collections.deque[str] = collections.deque()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._retry_at = 0.0
        self._retries = 0
        self._strikes = 0
        self._back_notice: str | None = None  # said once the reopened stream delivers
        self._return_at = 0.0
        self._last_rescan = time.monotonic()  # PortAudio has just scanned on import
        self._rescan_wait = RESCAN_EVERY_S

    @property
    def kind(self) -> str:
        return kind_of(self.direction)

    @property
    def format(self) -> StreamFormat | None:
        opened = self._opened
        return opened.format if opened else None

    # What Microphone and Speaker provide.
    def _callback(self, fmt: StreamFormat) -> Callable[[Any, Any, Any], None]:
        """The work done on PortAudio's thread with (data, status, time_info)."""
        raise NotImplementedError

    def _format_changed(self, fmt: StreamFormat) -> None:
        """A stream in `fmt` is about to deliver: adapt conversions."""

    def _lost(self) -> None:
        """The stream is gone: drop whatever waits for it."""

    # Life cycle.
    def start(self) -> None:
        """Open the chosen device; failing here is the user's to fix (one-line AudioError).
        A stream already started stays as it is."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        with portaudio.lock:
            self._use(self._open(self.device))
            portaudio.register(self)
        self._thread = threading.Thread(target=self._watch, name=f"livecli {self.kind}", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=3.0)
        if portaudio.lock.acquire(timeout=3.0):  # a PortAudio call hung: leave it to process exit
            try:
                portaudio.unregister(self)
                self._close_all()
            finally:
                portaudio.lock.release()

    def pop_notices(self) -> list[str]:
        """Changes since the last call ("speaker lost…", "speaker back…"), oldest first."""
        notices = []
        while self._notices:
            notices.append(self._notices.popleft())
        return notices

    def release_for_rescan(self) -> None:
        """Called by portaudio.rescan() under its lock: let go now, reopen soon."""
        if self._opened is not None:
            self._lost()
        self._close_all()
        self._retry_at = 0.0

    # Opening.
    def _open(self, device: Device, *, live: bool = True) -> _Opened:
        opened = _Opened(stream=None, device=device, format=None, opened_at=time.monotonic(), live=live)
        output = self.direction == "output"

        def make_callback(fmt: StreamFormat):
            work = self._callback(fmt)

            def callback(data, frames, time_info, status):
                opened.callbacks += 1
                opened.last_callback = time.monotonic()
                if opened.live:
                    work(data, status, time_info)
                elif output:
                    data[:] = bytes(len(data))

            return callback

        def finished():
            opened.ended = True

        opened.stream, opened.format = open_stream(
            portaudio.sounddevice(),
            device,
            self.direction,
            self.rate,
            block_ms=self.block_ms,
            make_callback=make_callback,
            finished_callback=finished,
        )
        opened.ended = False  # a format that failed to start may have "finished"; `active` still tells
        return opened

    def _use(self, opened: _Opened) -> None:
        self._format_changed(opened.format)
        opened.live = True
        self._opened = opened
        self.device = opened.device
        self.last_format = opened.format

    def _close_all(self) -> None:
        for opened in (self._opened, self._proving):
            if opened is not None:
                discard(opened.stream)
        self._opened = self._proving = None

    # Watching.
    def _watch(self) -> None:
        while not self._stop.wait(WATCH_S):
            now = time.monotonic()
            with portaudio.lock:
                problem = self._problem(now)
                if problem is not None:
                    self._drop(problem)
                elif self._back_notice and self._opened and self._opened.callbacks >= PROOF_CALLBACKS:
                    self._say(self._back_notice, ongoing=False)
                    self._back_notice = None
            if self._opened is None and now >= self._retry_at:
                self._reopen()
            elif self._on_fallback and self._opened is not None and now >= self._return_at:
                self._try_to_return()

    def _problem(self, now: float) -> str | None:
        opened = self._opened
        if opened is None:
            return None
        if opened.ended:
            return "the stream stopped"
        if opened.callbacks == 0:
            if now - opened.opened_at > FIRST_CALLBACK_S:
                return f"no audio in {FIRST_CALLBACK_S:g} s"
            return None
        if now - opened.last_callback > STALL_S:
            return f"no audio for {STALL_S:g} s"
        try:
            active = opened.stream.active
        except portaudio.sounddevice().PortAudioError as exc:
            return describe_error(exc)
        return None if active else "the stream stopped"

    def _drop(self, problem: str) -> None:
        opened, self._opened = self._opened, None
        name = opened.device.name
        discard(opened.stream)
        if not self._on_fallback:
            in_a_row = time.monotonic() - opened.opened_at < STRIKE_WINDOW_S
            self._strikes = self._strikes + 1 if in_a_row else 1
        self._lost()
        self._retries = 0
        self._retry_at = 0.0
        self._back_notice = None
        self._say(f"{self.kind} '{name}' lost ({problem}): reopening…", ongoing=True)

    def _reopen(self) -> None:
        """Chosen device, else the system default; re-scan when neither opens."""
        with portaudio.lock:
            if self._stop.is_set():
                return
            if self.spec is None and self._strikes >= STRIKES_FOR_DEFAULT:
                self._rescan_if_due()  # the default keeps failing: the system may have a new one
            opened, fallback = self._open_any()
            if opened is None and self._rescan_if_due():
                opened, fallback = self._open_any()
                self._rescan_wait = RESCAN_EVERY_S if opened else min(self._rescan_wait * 2, 60.0)
            if opened is None:
                self._retry_at = time.monotonic() + RETRY_S[min(self._retries, len(RETRY_S) - 1)]
                self._retries += 1
                return
            self._use(opened)
            self._on_fallback = fallback
            self._return_at = time.monotonic() + RETURN_EVERY_S
            if fallback:
                message = f"{self.kind}: using the system default '{opened.device.name}' ('{self.spec}' is unavailable)"
                self._say(message, ongoing=True)
            elif self.status is not None:
                self._back_notice = f"{self.kind} back: '{opened.device.name}' ({opened.format})"

    def _open_any(self) -> tuple[_Opened | None, bool]:
        """(stream, whether it is the fallback); after repeated failures the default goes first."""
        chosen = (lambda: resolve(self.spec, self.direction), False)
        default = (lambda: default_device(self.direction), True)
        if self.spec is None:
            order = [chosen]
        elif self._strikes < STRIKES_FOR_DEFAULT:
            order = [chosen, default]
        else:
            order = [default, chosen]
        for find, fallback in order:
            try:
                return self._open(find()), fallback
            except AudioError:
                continue
        return None, False

    def _rescan_if_due(self) -> bool:
        if time.monotonic() - self._last_rescan < self._rescan_wait:
            return False
        self._last_rescan = time.monotonic()
        portaudio.rescan()
        return True

    def _try_to_return(self) -> None:
        """On the default: open the chosen device silently; move back once it delivers."""
        self._return_at = time.monotonic() + RETURN_EVERY_S
        with portaudio.lock:
            try:
                self._proving = self._open(resolve(self.spec, self.direction), live=False)
            except AudioError:
                return
        deadline = time.monotonic() + 1.0
        while not self._stop.wait(0.05) and time.monotonic() < deadline:
            proving = self._proving
            if proving is None or proving.callbacks >= PROOF_CALLBACKS:
                break
        with portaudio.lock:
            proving, self._proving = self._proving, None
            if proving is None:  # released for a re-scan meanwhile
                return
            if proving.callbacks < PROOF_CALLBACKS or proving.ended or self._stop.is_set():
                discard(proving.stream)
                return
            if self._opened is not None:
                discard(self._opened.stream)
            self._use(proving)
            self._on_fallback = False
            self._strikes = 0
            self._say(f"{self.kind} back: '{proving.device.name}' ({proving.format})", ongoing=False)

    def _say(self, message: str, *, ongoing: bool) -> None:
        """A notice; `ongoing` ones stay in `status` until the next change."""
        self.status = message if ongoing else None
        self._notices.append(message)
