"""`livecli usage` as a user runs it: tokens and cost over stored sessions, per day or per
model, with config.toml's prices, and one-line errors; a command that loads nothing heavy."""

import datetime
import json
import subprocess
import sys
from pathlib import Path

import pytest

from livecli import records
from tests.test_cli import assert_one_line_error, config_path
from tests.test_store_usage import session, turn


@pytest.fixture
def db_dir(isolated_env):
    return Path(isolated_env["XDG_DATA_HOME"]) / "livecli"


@pytest.fixture
def recorded(db_dir):
    """Today a priced session; yesterday a priced one, one of a model with no known price and a failed start."""
    thinking = records.UsageReport(0, 5000, 5500, {}, {"AUDIO": 5000}, thoughts_tokens=500)
    session(db_dir, "gemini-3.8-live", [turn(32_000, 1000, 20_000), thinking])
    session(db_dir, "gemini-3.8-live", [turn(10_000, 0, 5_000)], days_ago=1)
    session(db_dir, "gemini-9-live", [turn(1000, 0, 1000)], days_ago=1)
    session(db_dir, "gemini-3.8-live", [], days_ago=1, connected=False)
    today = datetime.date.today()
    return today.isoformat(), (today - datetime.timedelta(days=1)).isoformat()


def write_config(env, text):
    path = config_path(env)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_usage_per_day_is_a_table_with_a_total_and_says_what_it_could_not_price(run_cli, recorded):
    today, yesterday = recorded
    result = run_cli("usage")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "DAY         SESSIONS   INPUT  OUTPUT  TOKENS     COST",
        f"{yesterday}         2  11,000   6,000  17,000  ≥ $0.09",
        f"{today}         1  33,000  25,500  58,500    $0.40",
        "total              3  44,000  31,500  75,500  ≥ $0.49",
        "2,000 tokens not priced:",
        '  no prices known for gemini-9-live: set [prices."gemini-9-live"] in config.toml',
    ]


def test_usage_per_model_since_a_day_and_as_json(run_cli, recorded):
    today, _ = recorded
    by_model = run_cli("usage", "--by", "model").stdout.splitlines()
    assert by_model[:4] == [
        "MODEL            SESSIONS   INPUT  OUTPUT  TOKENS           COST",
        "gemini-3.8-live         2  43,000  30,500  73,500          $0.49",
        "gemini-9-live           1   1,000   1,000   2,000  unknown price",
        "total                   3  44,000  31,500  75,500        ≥ $0.49",
    ]
    assert run_cli("usage", "--since", today).stdout.splitlines()[1:] == [
        f"{today}         1  33,000  25,500  58,500  $0.40",
        "total              1  33,000  25,500  58,500  $0.40",
    ]
    found = json.loads(run_cli("usage", "--since", "7d", "--by", "model", "--json").stdout)
    assert (found["by"], [row["key"] for row in found["rows"]]) == ("model", ["gemini-3.8-live", "gemini-9-live"])
    assert found["since"].startswith((datetime.date.today() - datetime.timedelta(days=7)).isoformat())
    assert found["rows"][1]["cost"] == {
        "usd": None,
        "complete": False,
        "unpriced_tokens": 2000,
        "reasons": ['no prices known for gemini-9-live: set [prices."gemini-9-live"] in config.toml'],
    }
    assert found["total"]["tokens"]["prompt_by_modality"] == {"AUDIO": 43_000, "TEXT": 1000}
    assert found["total"]["cost"]["usd"] == pytest.approx((42_000 * 3 + 1000 * 0.75 + 30_000 * 12 + 500 * 4.5) / 1e6)


def test_prices_from_config_toml_price_what_was_unknown_and_change_the_published(run_cli, recorded, isolated_env):
    write_config(
        isolated_env,
        '[prices."gemini-9-live"]\ninput_audio = 10.0\noutput_audio = 20.0\n'
        '[prices."gemini-3.8-live"]\noutput_audio = 0\n',
    )
    lines = run_cli("usage", "--by", "model").stdout.splitlines()
    assert lines[1:] == [
        "gemini-3.8-live         2  43,000  30,500  73,500  $0.13",
        "gemini-9-live           1   1,000   1,000   2,000  $0.03",
        "total                   3  44,000  31,500  75,500  $0.16",
    ]


def test_nothing_recorded_and_nothing_in_the_time_asked(run_cli, recorded):
    assert run_cli("usage", "--since", "2999-01-01").stdout == "no sessions since 2999-01-01 00:00\n"
    assert json.loads(run_cli("usage", "--since", "2999-01-01", "--json").stdout)["rows"] == []


def test_an_empty_store(run_cli):
    assert run_cli("usage").stdout == "no sessions recorded yet\n"
    assert json.loads(run_cli("usage", "--json").stdout)["total"]["sessions"] == 0


def test_bad_since_by_and_prices_are_one_line(run_cli, recorded, isolated_env):
    assert_one_line_error(
        run_cli("usage", "--since", "last week"),
        2,
        "Invalid value for '--since': 'last week' is neither a number of days (7d) nor a date (2026-11-01) (`livecli usage -h` shows how)",
    )
    assert_one_line_error(run_cli("usage", "--by", "week"), 2, "Invalid value for '--by'")
    write_config(isolated_env, '[prices."gemini-3.8-live"]\ninput_audio = "cheap"\n')
    assert_one_line_error(run_cli("usage"), 3, "[prices.\"gemini-3.8-live\"]: bad value for 'input_audio'")


@pytest.mark.parametrize("command", [["usage", "--by", "model"], ["sessions", "list", "--json"]])
def test_usage_and_sessions_load_no_sdk_and_no_audio_libraries(isolated_env, recorded, command):
    code = (
        "import sys\nfrom livecli.commands import app\n"
        f"app({command!r}, standalone_mode=False)\n"
        "print('LOADED', ' '.join(sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=isolated_env, capture_output=True, text=True, check=True
    ).stdout
    loaded = out.split("LOADED ")[1].split()
    heavy = [
        m for m in loaded if m.split(".")[0] in ("numpy", "soxr", "sounddevice", "rich") or m.startswith("google.genai")
    ]
    assert "gemini-3.8-live" in out and heavy == []
