"""`livecli tools ...` as a user and a plugin author meet it, with the example
plugin from examples/ installed the way pip installs any plugin."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

TOOLS_FILE = '''
def shout(text: str) -> str:
    """Say it louder.

    Args:
        text: What to say.
    """
    return text.upper() + "!"
'''


def assert_one_line_error(result, code, text):
    assert result.returncode == code, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("livecli: error: ") and text in lines[0], result.stderr


@pytest.fixture(scope="module")
def plugin_site(tmp_path_factory) -> Path:
    """examples/livecli-dice installed (pip, offline) into a folder for PYTHONPATH."""
    source = tmp_path_factory.mktemp("src") / "livecli-dice"
    shutil.copytree(REPO / "examples" / "livecli-dice", source)  # the build writes next to the sources
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-build-isolation",
            "--no-deps",
            "--no-index",
            "--disable-pip-version-check",
            "--target",
            str(target),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return target


@pytest.fixture
def tools_file(isolated_env) -> Path:
    """A tools file in the isolated config folder's tools/."""
    folder = Path(isolated_env["XDG_CONFIG_HOME"]) / "livecli" / "tools"
    folder.mkdir(parents=True)
    path = folder / "loud.py"
    path.write_text(TOOLS_FILE)
    return path


@pytest.mark.slow
def test_installed_plugin_appears_in_tools_list_and_runs(run_cli, isolated_env, plugin_site, tools_file):
    env = {**isolated_env, "PYTHONPATH": str(plugin_site)}
    listed = run_cli("tools", "list", env=env)
    assert listed.returncode == 0 and listed.stderr == "", listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0].split() == ["NAME", "SOURCE", "APPROVAL", "DESCRIPTION"]
    assert any(line.split()[:4] == ["roll_dice", "plugin", "livecli-dice", "auto"] for line in lines), lines
    assert any(line.startswith("shout ") and f"file {tools_file}" in line for line in lines), lines

    as_json = json.loads(run_cli("tools", "list", "--json", env=env).stdout)
    dice = next(row for row in as_json if row["name"] == "roll_dice")
    assert dice == {
        "name": "roll_dice",
        "source": "plugin livecli-dice",
        "approval": "auto",
        "enabled": True,
        "non_blocking": False,
        "timeout_s": 30.0,
        "description": "Roll dice and return each die's value.",
    }

    rolled = run_cli("tools", "call", "roll_dice", '{"sides": 20, "count": 3}', env=env)
    assert rolled.returncode == 0, rolled.stderr
    values = json.loads(rolled.stdout)
    assert len(values) == 3 and all(1 <= v <= 20 for v in values)
    failed = run_cli("tools", "call", "roll_dice", '{"sides": 1}', env=env)
    assert_one_line_error(failed, 1, "roll_dice: ValueError: need sides >= 2")


def test_show_prints_the_declaration_sent_to_the_model(run_cli, tools_file):
    shown = run_cli("tools", "show", "shout")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout) == {
        "description": "Say it louder.",
        "name": "shout",
        "parametersJsonSchema": {
            "type": "object",
            "properties": {"text": {"description": "What to say.", "type": "string"}},
            "required": ["text"],
        },
        "responseJsonSchema": {"type": "string"},
    }


@pytest.mark.slow
def test_bad_input_is_one_line_error(run_cli, isolated_env, tmp_path, tools_file):
    assert_one_line_error(run_cli("tools", "call", "shout", "{text: 1}"), 2, "arguments are not valid JSON")
    assert_one_line_error(run_cli("tools", "call", "shout", "[1]"), 2, "arguments must be a JSON object")
    assert_one_line_error(
        run_cli("tools", "call", "shout"), 2, "shout: missing text (arguments: text; `livecli tools show shout`)"
    )
    assert_one_line_error(run_cli("tools", "call", "shout", '{"txt": "a"}'), 2, "shout: missing text (arguments: text;")
    assert_one_line_error(
        run_cli("tools", "call", "current_datetime", '{"tz": "UTC"}'), 2, "current_datetime: no argument tz"
    )
    assert_one_line_error(run_cli("tools", "call", "search_memory", '{"query": "a", "limit": "many"}'), 1, "limit")
    assert_one_line_error(
        run_cli("tools", "show", "nope"), 2, "no tool called 'nope' (loaded: current_datetime, search_memory, shout)"
    )
    assert_one_line_error(run_cli("tools", "list", "--tools", str(tmp_path / "gone.py")), 2, "gone.py' does not exist")
    (tools_file.parent.parent / "config.toml").write_text('[tools]\ndisabled = "shout"\n')
    assert_one_line_error(run_cli("tools", "list"), 3, "[tools]: bad value for 'disabled'")


def test_broken_tools_file_warns_and_the_rest_still_loads(run_cli, tools_file, tmp_path):
    broken = tmp_path / "broken.py"
    broken.write_text("import no_such_module_for_livecli\n")
    called = run_cli("tools", "call", "shout", '{"text": "hi"}', "--tools", str(broken))
    assert called.returncode == 0 and json.loads(called.stdout) == "HI!"
    assert called.stderr.strip() == (
        f"livecli: warning: file {broken}: failed to load: "
        "ModuleNotFoundError: No module named 'no_such_module_for_livecli'"
    )


def test_readme_shows_the_example_plugin_as_it_is():
    readme = (REPO / "README.md").read_text()
    shown = readme.split("# examples/livecli-dice/livecli_dice.py\n", 1)[1].split("```", 1)[0]
    assert shown == (REPO / "examples" / "livecli-dice" / "livecli_dice.py").read_text()


@pytest.mark.slow
def test_the_built_in_memory_search_is_listed_shown_and_runs(run_cli, isolated_env):
    from tests.test_store_helpers import conversation

    recorded = conversation(Path(isolated_env["XDG_DATA_HOME"]) / "livecli")
    listed = run_cli("tools", "list").stdout.splitlines()
    assert any(line.split()[:3] == ["search_memory", "builtin", "auto"] for line in listed), listed
    shown = json.loads(run_cli("tools", "show", "search_memory").stdout)
    assert shown["name"] == "search_memory" and shown["description"].startswith("Search what was said")
    called = run_cli("tools", "call", "search_memory", '{"query": "breeze"}')
    assert called.returncode == 0, called.stderr
    [hit] = json.loads(called.stdout)
    assert hit["session"] == recorded.id and "light breeze" in hit["text"]
