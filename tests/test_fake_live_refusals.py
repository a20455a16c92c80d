"""The fake server refuses as the real service does, and serves ephemeral tokens.

The client is the unmodified google-genai SDK; close reasons arrive cut at 123 bytes.
"""

from __future__ import annotations

import asyncio
import datetime
import warnings

import pytest
from google import genai
from google.genai import errors, types

from tests.support.fake_live import FakeLiveServer
from tests.test_fake_live import collect, has, live_config
from tests.test_fake_live_service import LIVE, session_with


def token_version() -> types.HttpOptions:
    """Fresh each time: genai.Client writes the base URL into the options it is given."""
    return types.HttpOptions(api_version="v1alpha")


def refusal(model=LIVE, config=None) -> errors.APIError:
    async def main():
        async with session_with(model, config):
            pass

    with pytest.raises(errors.APIError) as info:
        asyncio.run(main())
    return info.value


def with_(**fields) -> types.LiveConnectConfig:
    return live_config().model_copy(update=fields)


def test_a_bad_key_is_refused_before_setup_complete(fake, monkeypatch):
    srv = fake(api_key="right")
    monkeypatch.setenv("GEMINI_API_KEY", "wrong")
    err = refusal()
    assert (err.code, err.details) == (1007, "API key not valid. Please pass a valid API key.")
    assert srv.sent == []


def test_an_unknown_model_is_refused_in_the_service_s_words(fake):
    fake()
    err = refusal("gemini-9-live-imaginary")
    assert err.code == 1008
    assert err.details.startswith(
        "models/gemini-9-live-imaginary is not found for API version v1, or is not supported for bidiGenerateContent. Call"
    )
    assert len(err.details.encode()) == 123  # cut, as a close frame cuts it


@pytest.mark.parametrize(
    "config,reason",
    [
        (
            with_(response_modalities=[types.Modality.TEXT]),
            "The requested combination of response modalities (TEXT) is not supported",
        ),
        (with_(proactivity=types.ProactivityConfig(proactive_audio=True)), "Request contains an invalid argument."),
        (with_(enable_affective_dialog=True), "Request contains an invalid argument."),
        (with_(thinking_config=types.ThinkingConfig(thinking_level="LOW")), "Request contains an invalid argument."),
        (with_(tools=[types.Tool(code_execution=types.ToolCodeExecution())]), "Request contains an invalid argument."),
    ],
)
def test_gemini_3_8_refuses_what_it_does_not_take(fake, config, reason):
    srv = fake()
    err = refusal(LIVE, config)
    assert err.code == 1007 and err.details.startswith(reason)
    assert srv.events("refused")


def test_the_translate_model_needs_its_language_and_takes_no_tools(fake):
    fake()
    translate = "gemini-3.5-live-translate-preview"
    target = types.TranslationConfig(target_language_code="de")
    assert refusal(translate).code == 1007  # no target language
    assert refusal(translate, with_(translation_config=target, system_instruction="Be nice.")).code == 1007
    assert (
        refusal(
            "gemini-3.8-live-extended-thinking", with_(thinking_config=types.ThinkingConfig(thinking_level="MINIMAL"))
        ).code
        == 1007
    )


def test_quota_refusal_comes_after_setup_complete_on_every_connection(fake):
    srv = fake(quota_exceeded=True)

    async def main():
        for _ in range(2):
            async with session_with() as session:
                assert session.setup_complete is not None  # the connection opened...
                with pytest.raises(errors.APIError) as info:
                    await collect(session, lambda m: False)  # ...and is refused a moment later
                yield info.value

    async def both():
        return [err async for err in main()]

    errs = asyncio.run(both())
    assert [e.code for e in errs] == [1011, 1011]
    assert errs[0].details.startswith("You exceeded your current quota, please check your plan and billing details")
    assert len(srv.events("quota_close")) == 2
    assert all(s.kind == "setupComplete" for s in srv.sent)


def test_an_old_style_deadline_cut(fake):
    fake(connection_deadline=0.3)

    async def main():
        async with session_with() as session:
            with pytest.raises(errors.APIError) as info:
                await collect(session, lambda m: False)
            return info.value

    err = asyncio.run(main())
    assert (err.code, err.details) == (1011, "Deadline expired before operation could complete.")


# -------------------------------------------------------------------------- ephemeral tokens


def mint(srv: FakeLiveServer, key: str | None = None, **config) -> types.AuthToken:
    client = genai.Client(api_key=key or srv.api_key, http_options=token_version())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the SDK calls tokens experimental
        return client.auth_tokens.create(config=types.CreateAuthTokenConfig(**config))


def talk_with_token(token: str, config=None, turns: int = 1) -> list:
    async def main():
        client = genai.Client(api_key=token, http_options=token_version())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            async with client.aio.live.connect(model=LIVE, config=config or live_config()) as session:
                msgs = []
                for _ in range(turns):
                    await session.send_realtime_input(text="hello")
                    msgs += await collect(session, has("session_resumption_update"))
                return msgs

    return asyncio.run(main())


def test_minted_token_opens_the_constrained_endpoint_with_its_locked_setup(fake):
    srv = fake(reply_seconds=0.1, send_speed=20)
    token = mint(
        srv,
        uses=1,
        live_connect_constraints=types.LiveConnectConstraints(
            model=LIVE, config=types.LiveConnectConfig(system_instruction="Locked instruction.")
        ),
        lock_additional_fields=[],
    )
    assert token.name.startswith("auth_tokens/")
    (call,) = srv.rest_calls
    assert call.data["path"] == "/v1alpha/auth_tokens" and call.data["body"]["uses"] == 1

    talk_with_token(token.name, with_(system_instruction="Something else."))
    handshake = {k.lower(): v for k, v in srv.handshakes[-1].data["headers"].items()}
    assert srv.handshakes[-1].data["path"].endswith("v1alpha.GenerativeService.BidiGenerateContentConstrained")
    assert handshake["authorization"] == f"Token {token.name}"
    assert srv.setups[-1]["systemInstruction"]["parts"][0]["text"] == "Locked instruction."

    with pytest.raises(errors.APIError) as used_up:
        talk_with_token(token.name)
    assert (used_up.value.code, used_up.value.details) == (1011, "The service is currently unavailable.")


def test_a_resumed_session_does_not_use_the_token_again(fake):
    srv = fake(reply_seconds=0.1, send_speed=20)
    token = mint(srv, uses=1).name
    handle = talk_with_token(token)[-1].session_resumption_update.new_handle
    talk_with_token(token, with_(session_resumption=types.SessionResumptionConfig(handle=handle)))
    assert srv.events("resumed")


def test_expired_and_unknown_tokens_are_refused(fake):
    srv = fake()
    past = datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=1)
    expired = mint(srv, new_session_expire_time=past).name
    fresh = mint(srv).name
    for token in (expired, "auth_tokens/never-minted"):
        with pytest.raises(errors.APIError) as info:
            talk_with_token(token)
        assert info.value.code == 1007
    srv.expire_tokens()
    with pytest.raises(errors.APIError) as info:
        talk_with_token(fresh)
    assert info.value.details.startswith("API key expired.")


def test_minting_needs_the_key(fake):
    srv = fake(api_key="right")
    with pytest.raises(errors.ClientError) as info:
        mint(srv, key="wrong")
    assert info.value.code == 400 and "API key not valid" in info.value.message
