"""The CLI as a user meets it: one-line errors, exit codes, config and keys."""

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import livecli


def config_path(env):
    return Path(env["XDG_CONFIG_HOME"]) / "livecli" / "config.toml"


def assert_one_line_error(result, code, text):
    assert result.returncode == code, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("livecli: error: ") and text in lines[0], lines[0]
    assert "Traceback" not in result.stderr


def test_help_and_version_do_not_import_heavy_modules(isolated_env):
    code = (
        "import sys, runpy\n"
        "sys.argv = ['livecli', '--help']\n"
        "try:\n    runpy.run_module('livecli', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "heavy = [m for m in ('google.genai', 'numpy', 'sounddevice') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], env=isolated_env, capture_output=True, text=True).stdout
    assert "talk" in out and "HEAVY []" in out


def test_version(run_cli):
    result = run_cli("--version")
    assert result.returncode == 0 and result.stdout.startswith("livecli ")


def test_talk_without_key(run_cli):
    assert_one_line_error(run_cli("talk"), 4, "no API key: set GEMINI_API_KEY or run `livecli keys set`")


def test_talk_with_broken_config_names_file_and_line(run_cli, isolated_env):
    path = config_path(isolated_env)
    path.parent.mkdir(parents=True)
    path.write_text('model = "x"\nchunk_ms = = 3\n')
    result = run_cli("talk")
    assert_one_line_error(result, 3, str(path))
    assert "line 2" in result.stderr


def test_talk_with_unknown_config_key(run_cli, isolated_env):
    path = config_path(isolated_env)
    path.parent.mkdir(parents=True)
    path.write_text("speed = 2\n")
    assert_one_line_error(run_cli("talk"), 3, "unknown key 'speed'")


def test_bad_option_value(run_cli):
    assert_one_line_error(run_cli("talk", "--chunk-ms", "5"), 3, "bad value for 'chunk_ms'")


def test_config_set_show_and_path(run_cli, isolated_env):
    assert run_cli("config", "path").stdout.strip() == str(config_path(isolated_env))
    assert run_cli("config", "set", "voice", "Kore").returncode == 0
    assert run_cli("config", "set", "chunk_ms", "40").returncode == 0
    assert tomllib.loads(config_path(isolated_env).read_text()) == {"voice": "Kore", "chunk_ms": 40}
    env = dict(isolated_env, LIVECLI_CHUNK_MS="60")
    shown = run_cli("config", "show", env=env).stdout
    assert 'voice = "Kore"  # config' in shown.splitlines()
    assert "chunk_ms = 60  # environment (LIVECLI_CHUNK_MS)" in shown.splitlines()
    assert 'model = "gemini-3.8-live"  # default' in shown.splitlines()
    assert "# language: unset (default)" in shown.splitlines()
    pasted = tomllib.loads(shown)  # each line reads as it would in config.toml
    assert pasted["chunk_ms"] == 60 and pasted["text"] is False and "language" not in pasted
    assert_one_line_error(run_cli("config", "set", "nope", "1"), 3, "unknown key 'nope'")


def test_keys_set_from_stdin_is_private_and_never_printed(run_cli, isolated_env):
    secret = "AIzaSyTESTKEY0123456789"
    result = run_cli("keys", "set", input=secret + "\n")
    assert result.returncode == 0 and secret not in result.stdout + result.stderr
    key_file = Path(isolated_env["XDG_CONFIG_HOME"]) / "livecli" / "api_key"
    assert key_file.read_text().strip() == secret
    assert os.stat(key_file).st_mode & 0o777 == 0o600
    status = run_cli("keys", "status")
    assert status.returncode == 0 and "key file" in status.stdout and secret not in status.stdout


def test_portaudio_missing_says_which_package(isolated_env, tmp_path):
    # Make PortAudio unfindable the way a machine without it is: find_library fails.
    code = (
        "import ctypes.util, sys\n"
        "ctypes.util.find_library = lambda name: None\n"
        "sys.argv = ['livecli', 'talk']\n"
        "from livecli.commands import main\nmain()\n"
    )
    env = dict(isolated_env, GEMINI_API_KEY="k")
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert_one_line_error(result, 6, "PortAudio library not found")
    assert "libportaudio2" in result.stderr


GROUPS = [[], ["config"], ["keys"], ["sessions"], ["tools"], ["devices"], ["token"]]


@pytest.mark.slow
def test_help_is_whole_on_an_80_column_terminal_and_shows_no_python_types(run_cli, isolated_env):
    env = dict(isolated_env, COLUMNS="80")
    commands = []
    for group in GROUPS:
        result = run_cli(*group, "--help", env=env)
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith(" ".join(["Usage: livecli", *group]))
        listed = result.stdout.split("Commands:\n")[1].splitlines()
        assert not [line for line in listed if line.endswith(("...", "…"))], listed  # no description cut
        commands += [
            [*group, line.split()[0]]
            for line in listed
            if line.split()[0] not in ("config", "keys", "sessions", "tools", "devices", "token")
        ]
    assert ["talk"] in commands and ["sessions", "export"] in commands and ["version"] in commands
    assert ["usage"] in commands and ["models"] in commands and ["token", "create"] in commands
    for command in commands:
        result = run_cli(*command, "-h", env=env)  # -h as well as --help, everywhere
        assert result.returncode == 0 and result.stdout.startswith("Usage: livecli " + " ".join(command)), command
        options = result.stdout.split("Options:\n")[1]
        assert not re.search(r"<[a-z]", options), (command, options)  # metavars, not types (<list[Path]>, <int range>)
    talk_help = run_cli("talk", "--help", env=env).stdout
    assert "--tools FILE.py" in talk_help and "--continue" in talk_help


def test_version_is_a_command_too(run_cli):
    assert run_cli("version").stdout == run_cli("--version").stdout == f"livecli {livecli.__version__}\n"


def test_shell_completion(run_cli, isolated_env):
    assert "--install-completion" in run_cli("--help").stdout and "--show-completion" in run_cli("--help").stdout
    env = dict(isolated_env, _LIVECLI_COMPLETE="complete_bash", COMP_WORDS="livecli sessions ex", COMP_CWORD="2")
    assert run_cli(env=env).stdout.split() == ["export"]
    env.update(COMP_WORDS="livecli talk --con", COMP_CWORD="2")
    assert run_cli(env=env).stdout.split() == ["--continue"]


def test_a_negative_value_is_a_value_for_the_settings_to_judge(run_cli, isolated_env):
    assert_one_line_error(
        run_cli("config", "set", "chunk_ms", "-5"),
        3,
        "config set: bad value for 'chunk_ms': expected a number from 20 to 1000",
    )
    assert_one_line_error(run_cli("talk", "--chunk-ms", "-5"), 3, "--chunk-ms: bad value for 'chunk_ms'")
    assert run_cli("config", "set", "system", "-be brief, always").stdout == 'system = "-be brief, always"\n'
    assert tomllib.loads(config_path(isolated_env).read_text()) == {"system": "-be brief, always"}


def test_a_voice_the_model_does_not_have_is_refused(run_cli, isolated_env):
    assert_one_line_error(
        run_cli("config", "set", "voice", "123"), 3, "bad value for 'voice': no voice called '123'; voices: "
    )
    assert_one_line_error(run_cli("talk", "--voice", "123"), 3, "--voice: bad value for 'voice': no voice called '123'")
    assert run_cli("config", "set", "voice", "charon").stdout == 'voice = "Charon"\n'


def test_keys_status_without_a_key_exits_4_as_the_readme_says(run_cli):
    assert_one_line_error(run_cli("keys", "status"), 4, "no API key: set GEMINI_API_KEY or run `livecli keys set`")
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    assert "| 4 | no API key," in readme


def test_command_line_mistakes_are_one_line_that_says_where_to_look(run_cli):
    assert_one_line_error(run_cli("talk", "--bogus"), 2, "No such option: --bogus (`livecli talk -h` shows how)")
    assert_one_line_error(
        run_cli("sessions", "show"), 2, "Missing argument 'ID' (`livecli sessions show -h` shows how)"
    )
    assert_one_line_error(run_cli("sesions"), 2, "No such command 'sesions'. Did you mean 'sessions'")
    group = run_cli("config")  # a group without its command: its help
    assert group.returncode == 2 and group.stderr.startswith("Usage: livecli config [OPTIONS] COMMAND")


def test_a_tools_file_that_is_not_there_stops_talk_before_anything_is_recorded(run_cli, isolated_env, tmp_path):
    env = dict(isolated_env, GEMINI_API_KEY="k")
    result = run_cli("talk", "--tools", str(tmp_path / "gone.py"), env=env)
    assert_one_line_error(result, 2, f"Invalid value for '--tools': file '{tmp_path / 'gone.py'}' does not exist")
    assert run_cli("sessions", "list").stdout == "no sessions recorded yet\n"
