"""Ephemeral tokens: minted locked to livecli's setup, used the way the SDK uses them (v1alpha's
constrained endpoint), renewed from token_command, resumed across connections, never shown."""

from __future__ import annotations

import asyncio
import datetime
import io
import shlex
import sys

import pytest

from livecli import events
from livecli.errors import AuthError
from livecli.link import Link
from livecli.live import LiveConnection
from livecli.live_errors import TokenRefused
from livecli.settings import Settings
from livecli.tokens import TokenSource, mint_token
from tests.test_live_service import events_until, turns_done


def talk(settings: Settings, source: TokenSource, *, turns: int = 1, during=None) -> list:
    """A conversation over a Link (reconnections included) with `turns` typed turns."""

    async def main():
        link = Link(lambda handle: LiveConnection(settings, token=source, handle=handle), max_backoff_s=0.1)
        async with link:
            found = []
            for n in range(turns):
                await link.send_text(f"question {n}")
                found += await events_until(link, turns_done(1))
                if during is not None and n == 0:
                    await asyncio.to_thread(during)
            return found

    return asyncio.run(main())


def test_minted_token_is_locked_to_livecli_s_setup_and_lasts_its_lifetime(fake):
    server = fake(api_key="the-key")
    settings = Settings(system="Be brief.", voice="Kore")
    token = mint_token("the-key", settings, uses=3, lifetime=datetime.timedelta(minutes=10))
    assert token.name.startswith("auth_tokens/") and token.name not in repr(token)
    (call,) = server.rest_calls
    body = call.data["body"]
    assert call.data["path"] == "/v1alpha/auth_tokens" and body["uses"] == 3
    assert body["expireTime"] == body["newSessionExpireTime"]  # it can start sessions until it expires
    setup = body["bidiGenerateContentSetup"]
    assert setup["model"] == "models/gemini-3.8-live"
    assert setup["generationConfig"]["responseModalities"] == ["AUDIO"]
    assert setup["systemInstruction"]["parts"][0]["text"] == "Be brief."
    assert "sessionResumption" not in setup  # the client's own, or resumed sessions lose their handle
    assert "fieldMask" in body


def test_minting_with_a_bad_key_is_one_line(fake):
    fake(api_key="the-key")
    with pytest.raises(AuthError, match=r"^the service did not mint a token \(400\): API key not valid"):
        mint_token("wrong", Settings())


def test_talk_with_a_token_connects_as_the_sdk_does_and_resumes_with_it(fake):
    server = fake(api_key="the-key", reply_seconds=0.2, send_speed=20)
    token = mint_token("the-key", Settings(), uses=1).name

    def go_away():
        server.go_away(time_left=2.0)
        assert server.wait_for(lambda: len(server.setups) == 2)  # handed over

    found = talk(Settings(api_version="v1"), TokenSource(token), turns=2, during=go_away)
    paths = [h.data["path"] for h in server.handshakes]
    assert paths and all(p.endswith(".v1alpha.GenerativeService.BidiGenerateContentConstrained") for p in paths)
    assert len(server.setups) == 2 and server.events("resumed")  # a one-use token, resumed after goAway
    assert sum(isinstance(e, events.TurnComplete) for e in found) == 2


def test_an_expired_token_is_a_clear_error_that_never_shows_it(fake):
    server = fake(api_key="the-key")
    token = mint_token("the-key", Settings()).name
    server.expire_tokens()

    async def main():
        async with LiveConnection(Settings(), token=TokenSource(token)):
            pass

    with pytest.raises(TokenRefused) as info:
        asyncio.run(main())
    message = str(info.value)
    assert message.startswith("the Live service refused the token (1007): API key expired")
    assert "may have expired or been used up" in message and token not in message


def test_token_command_gives_a_fresh_token_when_the_one_in_use_is_refused(fake, tmp_path):
    server = fake(api_key="the-key", reply_seconds=0.2, send_speed=20)
    current = tmp_path / "token"
    current.write_text(mint_token("the-key", Settings()).name + "\n")
    command = (
        f"{shlex.quote(sys.executable)} -c 'import sys; print(open(sys.argv[1]).read())' {shlex.quote(str(current))}"
    )
    source = TokenSource(command=command)
    notices = io.StringIO()

    def expire_and_drop():
        server.expire_tokens()  # the token in use can no longer open a session
        current.write_text(mint_token("the-key", Settings()).name)
        server.drop()
        assert server.wait_event("resumed")

    found = talk(Settings(), source, turns=2, during=expire_and_drop)
    changes = [e for e in found if isinstance(e, events.LinkChange)]
    assert any(c.state is events.ConnectionState.CONNECTED and c.resumed for c in changes)
    assert server.events("auth_failed")  # the old token was refused once, then the new one taken
    tokens_seen = {
        h.data["headers"].get("Authorization") or h.data["headers"].get("authorization") for h in server.handshakes
    }
    assert len(tokens_seen) == 2
    for change in changes:
        notices.write(change.reason)
    assert "auth_tokens/" not in notices.getvalue()


def test_token_sources_check_what_they_are_given(tmp_path):
    with pytest.raises(AuthError, match="not an ephemeral token"):
        TokenSource("AIzaSy-a-real-key")
    with pytest.raises(AuthError, match=r"token_command failed \(exit 3\): no token for you"):
        TokenSource(command="echo 'no token for you' >&2; exit 3").current()
    with pytest.raises(AuthError, match="token_command's output is not an ephemeral token"):
        TokenSource(command="echo hello").current()
    fixed = TokenSource("auth_tokens/abc")
    assert repr(fixed) == "TokenSource(fixed)" and not fixed.renewable
    with pytest.raises(AuthError, match="cannot be renewed"):
        fixed.refresh()
