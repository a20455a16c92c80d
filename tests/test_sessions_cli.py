"""`livecli sessions …` as a user runs it: output, exports, and one-line errors."""

import json
import wave
from pathlib import Path

import pytest

from livecli import records
from livecli.store import DB_NAME, SessionStore
from livecli.store.schema import SCHEMA_VERSION
from tests.test_store_helpers import Scripted, conversation, raw_db


@pytest.fixture
def db_dir(isolated_env):
    return Path(isolated_env["XDG_DATA_HOME"]) / "livecli"


def one_line_error(result, text):
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stderr.startswith("livecli: error: ") and text in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_list_when_nothing_was_recorded(run_cli, db_dir):
    result = run_cli("sessions", "list")
    assert (result.returncode, result.stdout) == (0, "no sessions recorded yet\n")
    assert json.loads(run_cli("sessions", "list", "--json").stdout) == []
    assert not db_dir.exists()


def test_list_shows_id_start_length_turns_and_first_words(run_cli, db_dir):
    recorded = conversation(db_dir)
    typed = Scripted(db_dir)
    typed.record(1.0, records.UserTurn("a typed question", typed=True))
    second = typed.close(61.0)
    lines = run_cli("sessions", "list").stdout.splitlines()
    assert lines[0].split() == ["ID", "STARTED", "LENGTH", "TURNS", "TOKENS", "COST", "FIRST", "WORDS"]
    assert lines[1].startswith(second) and lines[1].split()[3:] == ["1:01", "1", "–", "–", "a", "typed", "question"]
    assert lines[2].startswith(recorded.id) and lines[2].split()[3:] == [
        "0:08",
        "4",
        "150",
        "unknown",
        "price",
        "what",
        "is",
        "the",
        "weather",
        "like",
    ]
    listed = json.loads(run_cli("sessions", "list", "--json").stdout)
    assert [(s["id"], s["turns"], s["status"]) for s in listed] == [(second, 1, "ended"), (recorded.id, 4, "ended")]
    assert listed[1]["duration_s"] == pytest.approx(8.0, abs=0.01) and listed[1]["exit_reason"] == "user"


def test_show_prints_the_transcript_with_tool_calls_and_timings(run_cli, db_dir):
    recorded = conversation(db_dir)
    result = run_cli("sessions", "show", recorded.id[:6])
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"session {recorded.id}"
    assert "0:08, 4 turns, ended: user" in lines[1]
    assert "150 tokens" in result.stdout
    assert lines[-6:] == [
        "[00:04.0] You: what is the weather like",
        "[00:04.0] Gemini: It is sunny and warm today with a light breeze. [interrupted]",
        "[00:06.8] You: stop please",
        "[00:06.9] Gemini: Okay, stopping.",
        '[00:07.0] tool call get_weather({"city": "Paris"})',
        '[00:07.2] tool result get_weather: {"temp_c": 21} (auto, 0.20 s)',
    ]


def test_list_show_and_export_give_tokens_and_cost_with_config_toml_s_prices(run_cli, db_dir, isolated_env):
    recorded = conversation(
        db_dir
    )  # 150 tokens (in: 80 audio, 20 text; out: 50 audio) of gemini-test, no published price
    show = run_cli("sessions", "show", recorded.id).stdout.splitlines()
    assert show[3] == "150 tokens (in: 80 audio, 20 text; out: 50 audio), unknown price"
    [listed] = json.loads(run_cli("sessions", "list", "--json").stdout)
    assert (listed["tokens"]["total"], listed["cost"]["usd"], listed["cost"]["complete"]) == (150, None, False)

    config = Path(isolated_env["XDG_CONFIG_HOME"]) / "livecli" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text('[prices."gemini-test"]\ninput_audio = 100\ninput_text = 100\n')  # no output price: a lower bound
    assert run_cli("sessions", "list").stdout.splitlines()[1].split()[3:7] == ["0:08", "4", "150", "≥"]
    assert run_cli("sessions", "show", recorded.id).stdout.splitlines()[3].endswith("out: 50 audio), ≥ $0.01")
    config.write_text('[prices."gemini-test"]\ninput_audio = 100\ninput_text = 100\noutput_audio = 1000\n')
    line = run_cli("sessions", "list").stdout.splitlines()[1]
    assert line.split()[3:7] == ["0:08", "4", "150", "$0.06"]
    [listed] = json.loads(run_cli("sessions", "list", "--json").stdout)
    assert listed["cost"] == {"usd": pytest.approx(0.06), "complete": True, "unpriced_tokens": 0, "reasons": []}
    assert (
        "- 150 tokens (in: 80 audio, 20 text; out: 50 audio), $0.06"
        in run_cli("sessions", "export", recorded.id).stdout
    )
    exported = json.loads(run_cli("sessions", "export", recorded.id, "-f", "json").stdout)["session"]
    assert (exported["tokens"]["total"], exported["cost"]["usd"]) == (150, pytest.approx(0.06))

    config.write_text('[prices."gemini-test"]\ninput_audio = -1\n')
    for command in (["sessions", "list"], ["sessions", "show", recorded.id], ["sessions", "export", recorded.id]):
        result = run_cli(*command)
        assert result.returncode == 3 and "[prices.\"gemini-test\"]: bad value for 'input_audio'" in result.stderr
        assert len(result.stderr.splitlines()) == 1


def test_search_finds_a_phrase(run_cli, db_dir):
    recorded = conversation(db_dir)
    result = run_cli("sessions", "search", '"light breeze"')
    assert result.returncode == 0, result.stderr
    [line] = result.stdout.splitlines()
    assert line.startswith(recorded.id) and line.endswith("Gemini: It is sunny and warm today with a light breeze.")
    assert run_cli("sessions", "search", "submarine").stdout == "nothing found\n"
    [hit] = json.loads(run_cli("sessions", "search", "please", "--json").stdout)
    assert (hit["session"], hit["speaker"], hit["at_s"]) == (recorded.id, "user", 6.8)


def test_delete(run_cli, db_dir):
    gone, kept = conversation(db_dir).id, conversation(db_dir).id
    result = run_cli("sessions", "delete", gone)
    assert (result.returncode, result.stdout) == (0, f"deleted {gone}\n")
    assert [s.id for s in SessionStore(db_dir).list_sessions()] == [kept]
    one_line_error(run_cli("sessions", "delete", gone), f"no session matches '{gone}'")


@pytest.mark.slow
def test_export_markdown_json_and_wav(run_cli, db_dir, tmp_path):
    recorded = conversation(db_dir)
    md = run_cli("sessions", "export", recorded.id).stdout
    assert md.startswith(f"# livecli session {recorded.id}\n")
    assert "`00:04.0` **Gemini:** It is sunny and warm today with a light breeze. [interrupted]" in md
    exported = json.loads(run_cli("sessions", "export", recorded.id, "--format", "json").stdout)
    assert exported["session"]["id"] == recorded.id
    assert [e["kind"] for e in exported["events"]][:4] == ["connected", "interrupted", "user_turn", "model_turn"]
    assert exported["events"][8]["data"]["duration_s"] == 0.2

    path = tmp_path / "out.wav"
    result = run_cli("sessions", "export", recorded.id, "-f", "wav", "-o", str(path))
    assert result.returncode == 0, result.stderr
    with wave.open(str(path)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (2, 2, 24000)
        assert wav.getnframes() == 8 * 24000

    out_md = tmp_path / "s.md"
    assert run_cli("sessions", "export", recorded.id, "-o", str(out_md)).returncode == 0
    assert out_md.read_text() == md
    one_line_error(
        run_cli("sessions", "export", recorded.id, "-o", str(tmp_path / "no" / "such" / "dir.md")), "cannot write"
    )
    for command in (["sessions", "export", recorded.id, "-f", "wav", "-o"], ["replay", recorded.id, "--export"]):
        result = run_cli(*command, str(tmp_path / "no" / "such" / "dir.wav"))
        one_line_error(result, f"cannot write {tmp_path / 'no' / 'such' / 'dir.wav'}: No such file or directory")


def test_prune_uses_the_config_and_its_options(run_cli, db_dir, isolated_env):
    old, new = conversation(db_dir).id, conversation(db_dir).id
    raw_db(db_dir, "UPDATE sessions SET started_at = started_at - 100 * 86400 WHERE id = ?", old)
    assert run_cli("sessions", "prune", "--keep-days", "0").stdout == "deleted 0 sessions\n"
    assert run_cli("sessions", "prune").stdout == f"deleted 1 session: {old}\n"  # keep_days = 90 by default
    conversation(db_dir)
    env = dict(isolated_env, LIVECLI_MAX_SESSIONS="1")
    assert run_cli("sessions", "prune", env=env).stdout == f"deleted 1 session: {new}\n"


def test_unknown_and_ambiguous_ids_are_one_line(run_cli, db_dir):
    one_line_error(run_cli("sessions", "show", "abc"), "no sessions recorded yet")
    a, b = Scripted(db_dir).close(1.0), Scripted(db_dir).close(1.0)
    one_line_error(
        run_cli("sessions", "show", "zzzz"), "no session matches 'zzzz' (`livecli sessions list` shows them)"
    )
    common = 0
    while common < 8 and a[common] == b[common]:
        common += 1
    if common:
        one_line_error(run_cli("sessions", "show", a[:common]), f"'{a[:common]}' matches 2 sessions")
    one_line_error(run_cli("replay", "zzzz", "--no-audio"), "no session matches 'zzzz'")


def test_a_damaged_database_is_one_line(run_cli, db_dir):
    conversation(db_dir)
    SessionStore(db_dir).list_sessions()
    for extra in db_dir.glob(DB_NAME + "-*"):
        extra.unlink()
    (db_dir / DB_NAME).write_bytes(b"not a database at all" * 500)
    for command in (
        ["sessions", "list"],
        ["sessions", "search", "x"],
        ["replay", "--no-audio"],
        ["sessions", "show", "a"],
    ):
        one_line_error(run_cli(*command), "is damaged (file is not a database); move it away to start a new one")


def test_a_database_from_a_newer_livecli_is_one_line(run_cli, db_dir):
    conversation(db_dir)
    raw_db(db_dir, f"PRAGMA user_version = {SCHEMA_VERSION + 3}")
    one_line_error(run_cli("sessions", "list"), f"written by a newer livecli (schema {SCHEMA_VERSION + 3}")


def test_a_failed_start_is_listed_as_such_and_replay_skips_it(run_cli, db_dir):
    recorded = conversation(db_dir)
    refused = Scripted(db_dir, connected=False)
    refused.record(0.3, records.Failure("the API key was refused"))
    refused_id = refused.close(0.4, reason="error: the API key was refused")
    lines = run_cli("sessions", "list").stdout.splitlines()
    assert lines[1].startswith(refused_id) and lines[1].split()[3:] == [
        "0:00",
        "0",
        "–",
        "–",
        "[failed",
        "to",
        "start]",
    ]
    assert "failed to start: the API key was refused" in run_cli("sessions", "show", refused_id).stdout
    replayed = run_cli("replay", "--no-audio", "--speed", "0")  # the latest that connected
    assert (replayed.returncode, replayed.stdout.splitlines()[0]) == (0, "You: what is the weather like"), (
        replayed.stderr
    )
    assert [s["failed_start"] for s in json.loads(run_cli("sessions", "list", "--json").stdout)] == [True, False]
    assert recorded.id in lines[2]
