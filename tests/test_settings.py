import time
import tomllib
from pathlib import Path

import pytest

from livecli import config_file, keys, settings
from livecli.errors import AuthError, ConfigError

REPO = Path(__file__).resolve().parent.parent


def resolve(file_values=None, environ=None, flags=None):
    return settings.resolve(
        file_values=file_values or {}, file_source="config.toml", environ=environ or {}, flags=flags or {}
    )


def test_defaults():
    s = resolve()
    assert s.model == settings.DEFAULT_MODEL and s.chunk_ms == 100 and s.voice is None and not s.text


def test_precedence_flag_over_env_over_file_over_default():
    file_values = {"voice": "Kore", "chunk_ms": 40, "language": "de-DE"}
    environ = {"LIVECLI_VOICE": "Charon", "LIVECLI_CHUNK_MS": "60"}
    s = resolve(file_values, environ, {"voice": "Puck", "chunk_ms": None})
    assert s.voice == "Puck"  # flag
    assert s.chunk_ms == 60  # environment
    assert s.language == "de-DE"  # file
    assert s.model == settings.DEFAULT_MODEL  # default


def test_unknown_key_is_named():
    with pytest.raises(ConfigError, match="config.toml: unknown key 'voise'"):
        resolve({"voise": "Puck"})


@pytest.mark.parametrize(
    "key,value,message",
    [
        ("chunk_ms", 5, "expected a number from 20 to 1000"),
        ("chunk_ms", "abc", "expected a whole number"),
        ("text", "maybe", "expected true or false"),
        ("model", ["a"], "expected text"),
    ],
)
def test_bad_values_are_named(key, value, message):
    with pytest.raises(ConfigError, match=f"bad value for '{key}': {message}"):
        resolve({key: value})


def test_bad_environment_value_names_the_variable():
    with pytest.raises(ConfigError, match="environment variable LIVECLI_CHUNK_MS"):
        resolve(environ={"LIVECLI_CHUNK_MS": "fast"})


def test_system_instruction_from_file(tmp_path):
    prompt = tmp_path / "prompt.txt"
    prompt.write_text("Be brief.\n")
    assert resolve(flags={"system": f"@{prompt}"}).system == "Be brief."
    with pytest.raises(ConfigError, match="cannot read system instruction file"):
        resolve(flags={"system": f"@{tmp_path / 'missing.txt'}"})


def test_toml_error_names_file_and_line(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('model = "x"\nvoice = \n')
    with pytest.raises(ConfigError, match=r"config.toml: invalid TOML: .*line 2"):
        config_file.read(path)


def test_set_keeps_other_keys_and_types(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('voice = "Kore"\n[mcp_servers.files]\ncommand = "files-mcp"\n')
    settings.save_setting(path, "chunk_ms", config_file.parse_literal("40"))
    settings.save_setting(path, "text", config_file.parse_literal("true"))
    table = tomllib.loads(path.read_text())
    assert table == {"voice": "Kore", "chunk_ms": 40, "text": True, "mcp_servers": {"files": {"command": "files-mcp"}}}
    settings.remove_setting(path, "voice")
    assert "voice" not in tomllib.loads(path.read_text())


def test_set_rejects_unknown_key_and_bad_value(tmp_path):
    path = tmp_path / "config.toml"
    with pytest.raises(ConfigError, match="unknown key 'colour'"):
        settings.save_setting(path, "colour", "red")
    with pytest.raises(ConfigError, match="bad value for 'chunk_ms'"):
        settings.save_setting(path, "chunk_ms", 2)
    assert not path.exists()


def test_example_config_documents_every_key_with_valid_values():
    text = (REPO / "config.example.toml").read_text()
    active = {key: value for key, value in tomllib.loads(text).items() if key not in settings.TABLES}
    commented = {
        key: tomllib.loads(line.removeprefix("# "))[key]
        for line in text.splitlines()
        if (key := line.removeprefix("# ").split(" = ")[0]) in settings.FIELDS and line.startswith(f"# {key} = ")
    }
    assert set(active) | set(commented) == set(settings.FIELDS) and not set(active) & set(commented)
    defaults = settings.Settings()
    assert active == {key: getattr(defaults, key) for key in active}  # set: the defaults
    assert all(getattr(defaults, key) is None for key in commented)  # commented: keys with no default
    settings.from_mapping(commented, source="config.example.toml")  # every example value is valid
    assert active | commented == {key: field.example for key, field in settings.FIELDS.items()}  # the same examples


def test_example_config_copied_as_it_says_changes_nothing(tmp_path):
    """Copied as is, it selects no device (a "USB" microphone broke talk everywhere else)."""
    path = tmp_path / "livecli" / "config.toml"
    path.parent.mkdir()
    path.write_bytes((REPO / "config.example.toml").read_bytes())
    copied = settings.resolve(file_values=config_file.read(path), file_source=str(path), environ={}, flags={})
    assert copied == settings.Settings()


def test_key_file_is_private_and_env_wins(tmp_path):
    key_file = tmp_path / "livecli" / "api_key"
    keys.store_key(key_file, "  stored-key-123  \n")
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert keys.require_key({}, key_file) == "stored-key-123"
    assert keys.require_key({"GEMINI_API_KEY": "env-key"}, key_file) == "env-key"
    assert keys.delete_key(key_file)
    with pytest.raises(AuthError, match="set GEMINI_API_KEY or run `livecli keys set`"):
        keys.require_key({}, key_file)


@pytest.mark.parametrize("given,stored", [("Kore", "Kore"), ("kore", "Kore"), (" ZEPHYR ", "Zephyr"), ("", None)])
def test_a_voice_is_one_of_the_models_spelled_as_the_service_knows_it(given, stored):
    assert resolve(flags={"voice": given}).voice == stored
    assert resolve(environ={"LIVECLI_VOICE": given}).voice == stored


def test_an_unknown_voice_lists_the_voices():
    with pytest.raises(ConfigError) as failure:
        resolve({"voice": 123})
    assert str(failure.value).startswith(
        "config.toml: bad value for 'voice': no voice called '123'; voices: Achernar, "
    )
    assert ", Puck, " in str(failure.value) and str(failure.value).endswith(", Zubenelgenubi")
    with pytest.raises(ConfigError, match="no voice called 'Pukc'; did you mean Puck\\? voices: "):
        resolve(flags={"voice": "Pukc"})


def test_when_the_service_last_accepted_this_very_key(tmp_path):
    key_file = tmp_path / "livecli" / "api_key"
    assert keys.last_accepted("key-one", key_file) is None
    keys.mark_accepted("key-one", key_file)
    stamp = key_file.with_name("api_key.accepted")
    assert stamp.stat().st_mode & 0o777 == 0o600 and "key-one" not in stamp.read_text()  # never the key
    accepted = keys.last_accepted("key-one", key_file)
    assert accepted is not None and abs(accepted.timestamp() - time.time()) < 60
    assert keys.last_accepted("key-two", key_file) is None  # another key: not known to work
    keys.store_key(key_file, "key-one")
    keys.delete_key(key_file)
    assert not stamp.exists()
