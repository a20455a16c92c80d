"""`livecli models` and `livecli token create` as a user runs them against the fake service:
what they print, one-line errors, and the key never shown."""

import asyncio
import datetime
import json

import pytest

from livecli import events
from livecli.live import LiveConnection
from livecli.settings import Settings
from livecli.tokens import TokenSource
from tests.test_cli import assert_one_line_error

KEY = "AIza-models-and-tokens-key"


@pytest.fixture
def service(fake, isolated_env):
    """The fake service, and the environment a subprocess reaches it with (the key in GEMINI_API_KEY)."""
    server = fake(api_key=KEY)
    return server, server.subprocess_env(isolated_env)


def never_shows_the_key(result):
    assert KEY not in result.stdout + result.stderr
    return result


def test_models_lists_the_live_models_one_per_line_marking_talk_s(run_cli, service):
    server, env = service
    result = never_shows_the_key(run_cli("models", env=env))
    assert result.returncode == 0 and result.stderr == ""
    listed = result.stdout.splitlines()
    assert listed == sorted(listed) and "gemini-3.8-live  (default)" in listed
    assert (
        "gemini-3.8-live-extended-thinking" in listed and "text-embedding-004" not in result.stdout
    )  # it cannot do Live
    chosen = run_cli("models", env=dict(env, LIVECLI_MODEL="gemini-3.8-live-extended-thinking")).stdout.splitlines()
    assert "gemini-3.8-live-extended-thinking  (default)" in chosen and "gemini-3.8-live" in chosen
    assert "accepted by the service" in run_cli("keys", "status", env=env).stdout  # the key worked: noted


def test_models_says_when_talk_s_model_is_not_among_them(run_cli, service):
    _, env = service
    result = run_cli("models", env=dict(env, LIVECLI_MODEL="gemini-4-live-nope"))
    assert result.returncode == 0 and "(default)" not in result.stdout
    assert (
        result.stderr
        == "livecli: the model talk uses, gemini-4-live-nope, is not among them: `livecli config set model MODEL`\n"
    )


def test_models_with_a_refused_key_no_key_or_no_service_is_one_line(run_cli, service, isolated_env):
    _, env = service
    refused = never_shows_the_key(run_cli("models", env=dict(env, GEMINI_API_KEY="AIza-wrong")))
    assert_one_line_error(refused, 4, "the service did not list its models (400): API key not valid")
    assert_one_line_error(run_cli("models"), 4, "no API key: set GEMINI_API_KEY or run `livecli keys set`")
    unreachable = dict(env, GOOGLE_GEMINI_BASE_URL="https://127.0.0.1:9")
    assert_one_line_error(run_cli("models", env=unreachable), 5, "cannot reach the Live service: Connection refused")


def test_token_create_prints_a_token_locked_to_talk_s_settings_that_opens_a_session(run_cli, service):
    server, env = service
    result = never_shows_the_key(run_cli("token", "create", env=dict(env, LIVECLI_VOICE="Kore")))
    assert result.returncode == 0, result.stderr
    [token] = result.stdout.splitlines()  # the token alone on stdout
    assert token.startswith("auth_tokens/")
    assert result.stderr.startswith("livecli: token for gemini-3.8-live, 1 use, until ") and token not in result.stderr
    minted = server.tokens.tokens[token]
    assert minted.uses_left == 1 and minted.expire_at == pytest.approx(
        datetime.datetime.now().timestamp() + 30 * 60, abs=60
    )
    assert minted.setup["model"] == "models/gemini-3.8-live"
    assert '"Kore"' in json.dumps(minted.setup["generationConfig"]["speechConfig"])  # the SDK sends it in snake_case

    async def open_with_it():
        async with LiveConnection(Settings(), token=TokenSource(token)) as connection:
            await connection.send_text("hello")
            async for event in connection.events():
                if isinstance(event, events.TurnComplete):
                    return True

    assert asyncio.run(open_with_it())


def test_token_create_json_with_uses_and_lifetime(run_cli, service):
    server, env = service
    result = never_shows_the_key(run_cli("token", "create", "--uses", "3", "--expire", "1h30m", "--json", env=env))
    assert result.returncode == 0 and result.stderr == ""
    found = json.loads(result.stdout)
    assert set(found) == {"name", "expires", "uses", "model"} and (found["uses"], found["model"]) == (
        3,
        "gemini-3.8-live",
    )
    expires = datetime.datetime.fromisoformat(found["expires"])
    assert expires.tzinfo is not None
    assert (expires - datetime.datetime.now(datetime.UTC)).total_seconds() == pytest.approx(90 * 60, abs=60)
    assert server.tokens.tokens[found["name"]].uses_left == 3
    unlimited = json.loads(run_cli("token", "create", "--uses", "0", "--expire", "90s", "--json", env=env).stdout)
    assert unlimited["uses"] == 0 and server.tokens.tokens[unlimited["name"]].uses_left is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--expire", "soon"], "Invalid value for '--expire': 'soon' is not a duration such as 30m, 2h or 90s"),
        (["--expire", "30"], "Invalid value for '--expire': '30' is not a duration such as 30m, 2h or 90s"),
        (["--expire", "0m"], "Invalid value for '--expire': '0m': a token lasts from 1 s to 20 h"),
        (["--expire", "21h"], "Invalid value for '--expire': '21h': a token lasts from 1 s to 20 h"),
        (["--uses", "-1"], "Invalid value for '--uses': Input should be greater than or equal to 0"),
    ],
)
def test_token_create_bad_options_are_one_line_usage_errors(run_cli, service, args, message):
    server, env = service
    assert_one_line_error(run_cli("token", "create", *args, env=env), 2, message)
    assert server.rest_calls == []


def test_token_create_refusals_are_one_line(run_cli, service, isolated_env):
    server, env = service
    refused = never_shows_the_key(run_cli("token", "create", env=dict(env, GEMINI_API_KEY="AIza-wrong")))
    assert_one_line_error(refused, 4, "the service did not mint a token (400): API key not valid")
    assert_one_line_error(run_cli("token", "create"), 4, "no API key")
    vertex = dict(env, GOOGLE_GENAI_USE_VERTEXAI="true")
    assert_one_line_error(
        run_cli("token", "create", env=vertex), 3, "ephemeral tokens come from the Gemini Developer API, not Vertex AI"
    )
    unreachable = dict(env, GOOGLE_GEMINI_BASE_URL="https://127.0.0.1:9")
    assert_one_line_error(
        run_cli("token", "create", env=unreachable), 5, "cannot reach the Live service: Connection refused"
    )
