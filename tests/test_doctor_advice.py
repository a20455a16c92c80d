"""`doctor`'s fixes for a broken configuration work on the configuration as it is:
each advised command is run as the user would, and the check passes after."""

import re
import shlex
import subprocess
from pathlib import Path

import pytest

from livecli import doctor
from livecli.errors import AuthError, ConnectionFailed, QuotaExceeded


@pytest.fixture
def config(isolated_env, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", isolated_env["XDG_CONFIG_HOME"])
    path = Path(isolated_env["XDG_CONFIG_HOME"]) / "livecli" / "config.toml"
    path.parent.mkdir(parents=True)
    return path


@pytest.mark.parametrize(
    "broken,key",
    [
        ("chunk_ms = 5", "chunk_ms"),  # a bad value
        ("speed = 2", "speed"),  # a key livecli does not know
        ('voice = "123"', "voice"),
        ('system = "@/nonexistent/prompt.txt"', "system"),  # a file that cannot be read
    ],
)
def test_the_fix_for_a_bad_setting_works_on_the_file_as_it_is(config, run_cli, broken, key):
    config.write_text(f'language = "de-DE"\n{broken}\n')
    check = doctor.check_config({})
    assert not check.ok and key in check.detail
    assert check.fix == f"`livecli config unset {key}`, or `livecli config set {key} VALUE`"
    advised = re.match(r"`livecli ([^`]+)`", check.fix).group(1)
    result = run_cli(*advised.split())
    assert result.returncode == 0, result.stderr
    assert doctor.check_config({}).ok
    assert config.read_text() == 'language = "de-DE"\n'  # the rest kept


def test_a_file_that_is_not_toml_gets_a_fix_that_works(config):
    config.write_text('voice = "Kore"\nchunk_ms = = 3\n')
    check = doctor.check_config({})
    assert not check.ok and "invalid TOML" in check.detail and "line 2" in check.detail
    advised = re.search(r"`(mv [^`]+)`", check.fix).group(1)
    assert check.fix == f"edit {config}, or move it aside to start afresh: `{advised}`"
    subprocess.run(shlex.split(advised), check=True)
    assert doctor.check_config({}).ok
    assert config.with_name("config.toml.bak").read_text().startswith('voice = "Kore"')


def test_a_bad_environment_variable_is_named_in_the_fix(config):
    check = doctor.check_config({"LIVECLI_CHUNK_MS": "fast"})
    assert not check.ok and check.fix == "`unset LIVECLI_CHUNK_MS`, or give it a good value"


@pytest.mark.parametrize(
    "error,fix",
    [  # the service's close reasons, as it words them (cut at 123 bytes)
        (
            AuthError("the Live service refused the session (1007): API key expired. Please renew the API key."),
            "the service refuses this key: make one at https://aistudio.google.com/apikey, then `livecli keys set`",
        ),
        (  # as live_errors words them, their own advice after " — "
            AuthError(
                "the Live service does not know the model 'gemini-9-live' or cannot do Live with it (API version "
                "v1beta)"
            ),
            "`livecli models` lists the Live models the key can use; `livecli config set model MODEL` picks one",
        ),
        (
            QuotaExceeded(
                "the Live service refused for quota (1011): You exceeded your current quota, please check your "
                "plan and billing details. For more information on this error, head to: h — wait for the quota to "
                "reset or raise it (https://ai.google.dev/gemini-api/docs/rate-limits); livecli does not retry"
            ),
            "wait for the quota to reset or raise it (https://ai.google.dev/gemini-api/docs/rate-limits); "
            "livecli does not retry",
        ),
        (
            AuthError("the Live service refused the session (1007): Request contains an invalid argument."),
            "the service refuses a setting: `livecli config show`, then unset the likely one (voice, language, system)",
        ),
        (
            ConnectionFailed("the Live service answered HTTP 404: check the model name and base URL"),
            "check the model name (`livecli config show`) and the base URL the SDK is given (GOOGLE_*_BASE_URL)",
        ),
        (
            ConnectionFailed("cannot reach the Live service: Connection refused"),
            "check the network, firewall or proxy, and the Live service line above",
        ),
    ],
)
def test_each_refusal_of_the_service_has_its_fix(error, fix):
    assert doctor.session_failure(error)[1] == fix
