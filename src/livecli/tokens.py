"""Ephemeral tokens: short-lived credentials a backend mints so the long-lived key never reaches
the machine that talks.

`mint_token` asks the service for one (`client.auth_tokens.create`, v1alpha only), locked to the
model and settings livecli would use. `TokenSource` is where `talk` gets its token: a fixed one
(LIVECLI_TOKEN, --token) or a command run again whenever a fresh one is needed (`token_command`,
as git credential helpers and AWS `credential_process` work). A token is never printed, logged
or recorded: nothing here puts one in a message or a repr.

Token lifetimes, from the SDK's `CreateAuthTokenConfig` documentation: `uses` defaults to 1
(0 = no limit; resuming a session is documented not to count as a use), a token opens new
sessions for 60 s unless `new_session_expire_time` says otherwise, and works for 30 min unless
`expire_time` does (at most 20 h).
"""

from __future__ import annotations

import dataclasses
import datetime
import subprocess
import threading
import warnings

from livecli.errors import AuthError, ConnectionFailed
from livecli.settings import Settings

TOKEN_API_VERSION = "v1alpha"  # the SDK's ephemeral-token support, minting and connecting, is v1alpha only
TOKEN_PREFIX = "auth_tokens/"
COMMAND_TIMEOUT_S = 30.0
MAX_LIFETIME = datetime.timedelta(hours=20)


@dataclasses.dataclass(frozen=True)
class MintedToken:
    name: str = dataclasses.field(repr=False)  # the token itself
    expires_at: datetime.datetime
    uses: int  # 0: no limit


def mint_token(
    api_key: str | None,
    settings: Settings,
    *,
    uses: int = 1,
    lifetime: datetime.timedelta = datetime.timedelta(minutes=30),
    tools: list | None = None,
) -> MintedToken:
    """A token for `settings.model` with livecli's setup locked in, usable until `lifetime` ends
    (new sessions included, so `talk` can start with it any time before then)."""
    from google import genai
    from google.genai import errors as genai_errors
    from google.genai import types

    from livecli.live import build_config
    from livecli.live_errors import translate_error

    if uses < 0:
        raise AuthError("a token's uses cannot be negative (0 = no limit)")
    if not datetime.timedelta(0) < lifetime <= MAX_LIFETIME:
        raise AuthError("a token lasts more than 0 s and at most 20 h")
    expires_at = datetime.datetime.now(datetime.UTC) + lifetime
    # resumption stays the client's: a locked empty one would drop the handles of resumed sessions
    locked = build_config(settings, tools=tools).model_copy(update={"session_resumption": None})
    config = types.CreateAuthTokenConfig(
        uses=uses,
        expire_time=expires_at,
        new_session_expire_time=expires_at,
        live_connect_constraints=types.LiveConnectConstraints(model=settings.model, config=locked),
        lock_additional_fields=[],  # lock exactly the fields livecli sets
    )
    client = genai.Client(api_key=api_key, http_options=types.HttpOptions(api_version=TOKEN_API_VERSION))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", genai_errors.ExperimentalWarning)
            token = client.auth_tokens.create(config=config)
    except genai_errors.APIError as exc:
        raise AuthError(f"the service did not mint a token ({exc.code}): {exc.message or exc.status}") from None
    except Exception as exc:
        raise translate_error(exc) from None
    if not token.name:
        raise ConnectionFailed("the service answered without a token")
    return MintedToken(token.name, expires_at, uses)


class TokenSource:
    """The token `talk` connects with: fixed, or fetched from `command` when one is needed."""

    def __init__(self, token: str | None = None, *, command: str | None = None):
        if (token is None) == (command is None):
            raise ValueError("a token or a command, not both")
        self._token = _checked(token, "the token") if token is not None else None
        self._command = command
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"TokenSource({'command' if self._command else 'fixed'})"

    @property
    def renewable(self) -> bool:
        return self._command is not None

    def current(self) -> str:
        """The token to connect with (runs the command the first time)."""
        with self._lock:
            if self._token is None:
                self._token = self._run()
            return self._token

    def refresh(self) -> str:
        """A fresh token from the command (the current one was refused); fixed tokens cannot be."""
        if self._command is None:
            raise AuthError("the token was refused and cannot be renewed: mint a new one (`livecli token create`)")
        with self._lock:
            self._token = self._run()
            return self._token

    def _run(self) -> str:
        assert self._command is not None
        try:
            done = subprocess.run(
                self._command,
                shell=True,
                capture_output=True,
                text=True,
                timeout=COMMAND_TIMEOUT_S,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired:
            raise AuthError(f"token_command did not answer within {COMMAND_TIMEOUT_S:.0f} s") from None
        except OSError as exc:
            raise AuthError(f"token_command could not run: {exc.strerror or exc}") from None
        if done.returncode != 0:
            detail = next((line.strip() for line in done.stderr.splitlines() if line.strip()), "no message")
            raise AuthError(f"token_command failed (exit {done.returncode}): {detail[:200]}")
        first = next((line.strip() for line in done.stdout.splitlines() if line.strip()), "")
        return _checked(first, "token_command's output")


def _checked(token: str, what: str) -> str:
    token = token.strip()
    if not token.startswith(TOKEN_PREFIX) or any(ch.isspace() for ch in token):
        raise AuthError(f"{what} is not an ephemeral token (one looks like {TOKEN_PREFIX}…)")
    return token
