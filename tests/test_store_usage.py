"""Tokens and cost over stored sessions: every usage report kept, summed per session, per day, per model."""

import datetime
import json
import subprocess
import sys
import time

import pytest

from livecli import records
from livecli.errors import LivecliError
from livecli.pricing import Cost, UsageTotals
from livecli.store import SessionStore
from livecli.store.export import show_text
from livecli.store.usage import UsageRow, since_time, total, usage
from tests.test_store_helpers import Scripted, conversation, raw_db


@pytest.fixture
def db_dir(tmp_path):
    return tmp_path / "data"


def turn(prompt_audio: int, prompt_text: int, response_audio: int, thoughts: int = 0) -> records.UsageReport:
    """A usage report shaped like the service's: per modality, thinking apart."""
    prompt, response = prompt_audio + prompt_text, response_audio
    return records.UsageReport(
        prompt,
        response,
        prompt + response,
        {"AUDIO": prompt_audio, "TEXT": prompt_text},
        {"AUDIO": response_audio},
        thoughts,
    )


def session(db_dir, model: str, reports: list, *, days_ago: float = 0.0, connected: bool = True) -> str:
    s = Scripted(db_dir, model=model, connected=connected)
    for n, report in enumerate(reports):
        s.record(1.0 + n, report)
    session_id = s.close(len(reports) + 2.0)
    raw_db(db_dir, "UPDATE sessions SET started_at = started_at - ? WHERE id = ?", days_ago * 86400, session_id)
    return session_id


def test_each_report_is_kept_with_its_details_and_a_session_sums_them(db_dir):
    session_id = session(db_dir, "gemini-3.8-live", [turn(1000, 300, 400, thoughts=50), turn(2400, 300, 600)])
    info = SessionStore(db_dir).info(session_id)
    assert info.tokens == UsageTotals(
        prompt=4000,
        response=1000,
        total=5000,
        thoughts=50,
        prompt_by_modality={"AUDIO": 3400, "TEXT": 600},
        response_by_modality={"AUDIO": 1000},
    )
    stored = [
        json.loads(p) for (p,) in raw_db(db_dir, "SELECT payload FROM events WHERE kind = ?", records.UsageReport.KIND)
    ]
    assert stored[0]["prompt_details"] == {"AUDIO": 1000, "TEXT": 300} and stored[0]["thoughts_tokens"] == 50
    listed = info.as_json()["tokens"]
    assert (listed["total"], listed["prompt_by_modality"], listed["response_by_modality"]) == (
        5000,
        {"AUDIO": 3400, "TEXT": 600},
        {"AUDIO": 1000},
    )
    json.dumps(info.as_json())


def test_show_gives_tokens_by_modality_and_the_cost_it_is_handed(db_dir):
    recorded = conversation(db_dir)
    store = SessionStore(db_dir)
    text = show_text(store.info(recorded.id), store.events(recorded.id), Cost(0.0123))
    assert "150 tokens (in: 80 audio, 20 text; out: 50 audio), $0.01" in text.splitlines()


def test_usage_per_day_and_per_model_with_a_model_of_unknown_price(db_dir):
    session(db_dir, "gemini-3.8-live", [turn(32_000, 1000, 25_000)])
    session(db_dir, "gemini-3.8-live", [turn(10_000, 0, 5_000)], days_ago=1)
    session(db_dir, "gemini-9-live", [turn(1000, 0, 1000)], days_ago=1)
    session(db_dir, "gemini-3.8-live", [], days_ago=1, connected=False)  # a failed start: not a session of use
    session(db_dir, "gemini-3.8-live", [turn(5000, 0, 5000)], days_ago=40)
    store = SessionStore(db_dir)
    day = datetime.date.today()
    by_day = usage(store, since=since_time("7d"), by="day")
    assert [(r.key, r.sessions, r.tokens.total) for r in by_day] == [
        ((day - datetime.timedelta(days=1)).isoformat(), 2, 17_000),
        (day.isoformat(), 1, 58_000),
    ]
    yesterday, now = by_day
    assert yesterday.cost.usd == pytest.approx((10_000 * 3.00 + 5_000 * 12.00) / 1e6)
    assert (yesterday.cost.unpriced_tokens, str(yesterday.cost)) == (2000, "≥ $0.09")  # gemini-9-live has no price
    assert now.cost == Cost(pytest.approx((32_000 * 3.00 + 1000 * 0.75 + 25_000 * 12.00) / 1e6))
    by_model = usage(store, by="model")
    assert [(r.key, r.sessions, str(r.cost)) for r in by_model] == [
        ("gemini-3.8-live", 3, "$0.56"),
        ("gemini-9-live", 1, "unknown price"),
    ]
    assert (total(by_model).sessions, total(by_model).tokens.total) == (4, 85_000)
    assert (
        str(usage(store, by="model", overrides={"gemini-9-live": {"input_audio": 1.0, "output_audio": 1.0}})[1].cost)
        == "$0.0020"
    )
    assert total([]) == UsageRow("total", 0, UsageTotals(), Cost(0.0))
    assert usage(SessionStore(db_dir / "nothing-yet")) == []


def test_since_takes_days_or_a_date():
    now = time.time()
    assert since_time("7d", now=now) == now - 7 * 86400
    assert since_time("2026-11-01") == datetime.datetime(2026, 11, 1).timestamp()
    for bad in ("7", "last week", "2026-13-01", "-3d"):
        with pytest.raises(LivecliError, match=r"is neither a number of days \(7d\) nor a date \(2026-11-01\)$"):
            since_time(bad)


def test_the_usage_query_loads_no_sdk_and_no_audio_libraries():
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, livecli.store.usage, livecli.store.export; print(' '.join(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    heavy = [
        m for m in loaded if m.split(".")[0] in ("numpy", "soxr", "sounddevice", "rich") or m.startswith("google.genai")
    ]
    assert heavy == []
