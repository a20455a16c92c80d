"""ALSA's own error lines, silenced for the whole process.

alsa-lib prints from C straight to file descriptor 2 ("ALSA lib pcm.c:8570:
(snd_pcm_recover) underrun occurred"), over the live layout of `talk`, between the
meter and the verdict of `devices test`, before a one-line error. Its error handler
is replaceable (`snd_lib_error_set_handler`): livecli installs one that drops the
lines. What they reported is counted where it means something: PortAudio flags the
same underruns and overruns to the stream callbacks (`Speaker.underflows`,
`Microphone.overflows`). Where there is no libasound (macOS, Windows) nothing is done.
"""

from __future__ import annotations

import ctypes
import threading

LIBRARY = "libasound.so.2"

# void (*)(const char *file, int line, const char *function, int err, const char *fmt, ...):
# a C-variadic callback, declared with its fixed arguments (the variadic ones are never read).
_HANDLER_TYPE = ctypes.CFUNCTYPE(None, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p)

_lock = threading.Lock()
_handler = None  # kept alive for as long as libasound may call it: the whole process


def _drop(file, line, function, err, fmt) -> None:
    """ALSA's message, unread."""


def silence() -> bool:
    """Install the handler once (before PortAudio loads ALSA); True when ALSA is silenced."""
    global _handler
    with _lock:
        if _handler is None:
            try:
                library = ctypes.CDLL(LIBRARY)
            except OSError:  # no ALSA here
                return False
            handler = _HANDLER_TYPE(_drop)
            library.snd_lib_error_set_handler(handler)
            _handler = handler
    return True
