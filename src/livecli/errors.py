"""Errors the user can fix, and the exit codes they map to.

Anything raised as a `LivecliError` is printed as one line on stderr by the CLI
layer, never as a traceback.
"""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    OK = 0
    ERROR = 1
    USAGE = 2
    CONFIG = 3
    AUTH = 4
    NETWORK = 5
    AUDIO = 6
    INTERRUPTED = 130


class LivecliError(Exception):
    """A problem with a one-line explanation for the user."""

    exit_code: ExitCode = ExitCode.ERROR

    def __init__(self, message: str, exit_code: ExitCode | None = None):
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class ConfigError(LivecliError):
    exit_code = ExitCode.CONFIG


class AuthError(LivecliError):
    exit_code = ExitCode.AUTH


class ConnectionFailed(LivecliError):
    exit_code = ExitCode.NETWORK


class QuotaExceeded(LivecliError):
    """The service refuses for quota: every new connection would be refused too, so no retry."""

    exit_code = ExitCode.AUTH


class AudioError(LivecliError):
    exit_code = ExitCode.AUDIO
