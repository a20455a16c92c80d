"""The session store: recording, listing, search, pruning, secrets, damage."""

import json
import sqlite3
import threading
import time

import pytest

from livecli import records
from livecli.store import SessionRecorder, SessionStore, StoreError
from livecli.store import recorder as recorder_module
from livecli.store.export import describe
from livecli.store.recorder import new_id
from livecli.store.schema import DB_NAME, SCHEMA_VERSION
from tests.test_store_helpers import Scripted, conversation, noise, raw_db

API_KEY = "AIzaSyD-not-a-real-key-0123456789abcdef"


@pytest.fixture
def db_dir(tmp_path):
    return tmp_path / "data"


def test_a_session_lists_with_its_turns_length_and_first_words(db_dir):
    recorded = conversation(db_dir)
    [info] = SessionStore(db_dir).list_sessions()
    assert info.id == recorded.id
    assert info.turns == 4
    assert info.first_words == "what is the weather like"
    assert info.duration_s == pytest.approx(8.0, abs=0.01)
    assert (info.status, info.exit_reason, info.model, info.voice) == ("ended", "user", "gemini-test", "Puck")


def test_events_come_back_in_order_with_offsets_and_payloads(db_dir):
    recorded = conversation(db_dir)
    events = SessionStore(db_dir).events(recorded.id)
    assert [type(e.record) for e in events] == [
        records.Connected,
        records.Interruption,
        records.UserTurn,
        records.ModelTurn,
        records.UsageReport,
        records.UserTurn,
        records.ModelTurn,
        records.ToolCalled,
        records.ToolFinished,
        records.ResumptionHandle,
    ]
    tool_result = events[8]
    assert tool_result.offset_s == pytest.approx(7.2, abs=0.01)
    assert tool_result.data == {
        "id": "call-1",
        "name": "get_weather",
        "result": {"temp_c": 21},
        "state": "done",
        "approval": "auto",
        "duration_s": 0.2,
    }
    assert tool_result.record == records.ToolFinished(
        "call-1", "get_weather", {"result": {"temp_c": 21}}, "done", "auto", 0.2
    )


def test_both_audio_streams_are_stored_whole(db_dir):
    recorded = conversation(db_dir)
    store = SessionStore(db_dir)
    user = store.audio_index(recorded.id, "user")
    model = store.audio_index(recorded.id, "model")
    assert sum(n for *_, n in user) == 2 * (len(recorded.user[0][1]) + len(recorded.user[1][1]))
    assert {rate for _, _, rate, _ in user} == {16000} and {rate for _, _, rate, _ in model} == {24000}
    assert sum(n for *_, n in model) == 2 * (3.0 + 1.5) * 24000


def test_writes_are_committed_while_the_session_runs(db_dir):
    """What was said is on disk within half a second, without close()."""
    recorder = SessionRecorder.open(db_dir, model="m", voice=None, input_device=None, output_device=None, settings={})
    recorder.record(records.UserTurn("hello"))
    recorder.audio("user", b"\1\0" * 1600, 16000)
    time.sleep(0.6)
    assert raw_db(db_dir, "SELECT kind FROM events") == [(records.UserTurn.KIND,)]
    assert raw_db(db_dir, "SELECT count(*) FROM audio") == [(1,)]
    assert SessionStore(db_dir).info(recorder.id).status == "recording"
    recorder.close("user")


@pytest.mark.slow
def test_calls_never_wait_for_a_busy_database(db_dir):
    """Another process holding the write lock must not slow the loop: items queue up, then land."""
    recorder = SessionRecorder.open(db_dir, model="m", voice=None, input_device=None, output_device=None, settings={})
    blocker = sqlite3.connect(db_dir / DB_NAME, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    chunk = noise(0.1, 16000, 1).tobytes()
    took = []
    for i in range(300):  # 30 s of microphone audio, ten times faster than real time
        begun = time.perf_counter()
        recorder.audio("user", chunk, 16000)
        recorder.record(records.Notice(f"n{i}"))
        took.append(time.perf_counter() - begun)
        time.sleep(0.01)
    blocker.execute("COMMIT")
    blocker.close()
    recorder.close("user")
    took.sort()
    print(f"\nFIGURES recorder_call_us median={took[150] * 1e6:.0f} p99={took[297] * 1e6:.0f} max={took[-1] * 1e6:.0f}")
    assert took[297] < 0.001, f"99th percentile {took[297] * 1000:.2f} ms"
    assert raw_db(db_dir, "SELECT count(*) FROM audio") == [(300,)]
    assert raw_db(db_dir, "SELECT count(*) FROM events WHERE kind = ?", records.Notice.KIND) == [(300,)]


def test_a_full_queue_drops_and_says_so_instead_of_blocking(db_dir, monkeypatch):
    monkeypatch.setattr(recorder_module, "QUEUE_LIMIT", 20)
    recorder = SessionRecorder.open(db_dir, model="m", voice=None, input_device=None, output_device=None, settings={})
    blocker = sqlite3.connect(db_dir / DB_NAME, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    for _ in range(100):
        recorder.audio("user", b"\0\0" * 1600, 16000)
    blocker.execute("COMMIT")
    blocker.close()
    recorder.close("user")
    assert recorder.dropped >= 70
    [(message,)] = raw_db(
        db_dir, "SELECT json_extract(payload, '$.message') FROM events WHERE kind = ?", records.Notice.KIND
    )
    assert message == f"{recorder.dropped} recordings lost: the disk was too slow"


def test_a_database_that_stops_taking_writes_is_reported_not_raised(db_dir, monkeypatch):
    recorder = SessionRecorder.open(db_dir, model="m", voice=None, input_device=None, output_device=None, settings={})

    def disk_full(item):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(recorder, "_insert", disk_full)
    recorder.record(records.Notice("x"))
    time.sleep(0.4)
    recorder.record(records.Notice("ignored now"))
    recorder.close("user")
    assert "database or disk is full" in recorder.failure


def test_secrets_never_reach_the_store(db_dir):
    settings = {
        "model": "m",
        "api_key": API_KEY,
        "access_token": "tok",
        "client_secret": "s",
        "compression_trigger_tokens": 0,
    }
    s = Scripted(db_dir, settings=settings)
    s.record(
        1.0,
        records.ToolCalled("1", "fetch", {"url": "https://x.example/?key=" + API_KEY, "Authorization": "Bearer abc"}),
    )
    s.record(2.0, records.Failure(f"refused key {API_KEY}"))
    s.record(2.5, records.UsageReport(prompt_tokens=1, response_tokens=2, total_tokens=3, prompt_details={"AUDIO": 1}))
    session_id = s.close(3.0)
    store = SessionStore(db_dir)
    assert store.info(session_id).settings == {"model": "m", "compression_trigger_tokens": 0}
    events = store.events(session_id)
    assert events[1].data["args"] == {"url": "https://x.example/?key=[redacted]", "Authorization": "[redacted]"}
    assert events[2].data["message"] == "refused key [redacted]"
    assert events[3].record == records.UsageReport(1, 2, 3, prompt_details={"AUDIO": 1})  # token counts are not tokens
    for path in db_dir.iterdir():  # the database, its WAL and anything beside it
        assert API_KEY.encode() not in path.read_bytes()


def test_no_record_keeps_audio_out_and_transcripts_in(db_dir):
    recorded = conversation(db_dir, record_audio=False)
    store = SessionStore(db_dir)
    assert raw_db(db_dir, "SELECT count(*) FROM audio") == [(0,)]
    assert store.info(recorded.id).turns == 4
    assert store.info(recorded.id).record_audio is False


def test_no_history_keeps_what_was_said_out(db_dir):
    recorded = conversation(db_dir, record_history=False)
    store = SessionStore(db_dir)
    assert raw_db(db_dir, "SELECT count(*) FROM audio") == [(0,)]
    assert {type(e.record) for e in store.events(recorded.id)} == {
        records.Connected,
        records.Interruption,
        records.UsageReport,
        records.ResumptionHandle,
    }
    assert store.search_transcripts("weather") == []
    assert store.info(recorded.id).record_history is False


def test_search_finds_words_phrases_and_stems_best_first(db_dir):
    first = conversation(db_dir).id
    s = Scripted(db_dir)
    s.record(1.0, records.UserTurn("Tell me about the breezes in Brittany"))
    s.record(2.0, records.ModelTurn("Brittany is windy; a light breeze is common on its coast."))
    second = s.close(3.0)
    store = SessionStore(db_dir)
    hits = store.search_transcripts('"light breeze"')
    assert [(h["session"], h["speaker"]) for h in hits] == [(first, "model"), (second, "model")] or [
        (h["session"], h["speaker"]) for h in hits
    ] == [(second, "model"), (first, "model")]
    assert hits[0]["at_s"] in (4.0, 2.0) and "light breeze" in hits[0]["text"]
    assert {h["session"] for h in store.search_transcripts("breezes brittany")} == {second}  # all words, stemmed
    assert store.search_transcripts("brittany weather nonsense")  # no turn has all: any word, ranked
    assert [h["session"] for h in store.search_transcripts("light breeze", exclude_session=second)] == [first]
    assert store.search_transcripts('breeze" OR (NEAR -* ^') != []  # FTS syntax in a query is just text
    with pytest.raises(StoreError, match="nothing to search for"):
        store.search_transcripts('" - "')
    json.dumps(hits)  # the search_memory tool returns it as is


def test_ids_are_short_unique_and_sort_by_start():
    ids = [new_id(1_800_000_000 + second) for second in (0, 0, 1, 3600, 86400 * 365)]
    assert all(len(i) == 8 and i.isalnum() and i == i.lower() for i in ids)
    assert [i[:6] for i in ids] == sorted(i[:6] for i in ids)
    assert len({new_id(1_800_000_000) for _ in range(200)}) > 150


def test_an_id_can_be_given_by_a_unique_prefix(db_dir):
    a = Scripted(db_dir).close(1.0)
    b = Scripted(db_dir).close(1.0)
    store = SessionStore(db_dir)
    assert store.resolve(a) == a and store.resolve(b.upper()) == b
    assert store.resolve(None) in (a, b)
    common = next(n for n in range(8, 0, -1) if a[:n] == b[:n]) if a[0] == b[0] else 0
    if common:
        with pytest.raises(StoreError, match=f"'{a[:common]}' matches 2 sessions"):
            store.resolve(a[:common])
    with pytest.raises(StoreError, match="no session matches 'zzzz'"):
        store.resolve("zzzz")
    with pytest.raises(StoreError, match="no session matches '%'"):
        store.resolve("%")


def test_nothing_recorded_yet_reads_as_empty_without_creating_the_file(db_dir):
    store = SessionStore(db_dir)
    assert store.list_sessions() == [] and store.search_transcripts("x") == []
    with pytest.raises(StoreError, match="no sessions recorded yet"):
        store.resolve(None)
    assert not db_dir.exists()


def test_delete_takes_audio_and_search_text_with_it(db_dir):
    gone = conversation(db_dir).id
    kept = conversation(db_dir).id
    store = SessionStore(db_dir)
    store.delete(gone)
    assert [i.id for i in store.list_sessions()] == [kept]
    assert raw_db(db_dir, "SELECT DISTINCT session_id FROM audio") == [(kept,)]
    assert raw_db(db_dir, "SELECT count(*) FROM turn_text") == [(4,)]
    assert {h["session"] for h in store.search_transcripts("weather")} == {kept}
    with pytest.raises(StoreError, match=f"no session '{gone}'"):
        store.delete(gone)


def test_prune_deletes_only_what_it_should(db_dir):
    now = time.time()
    ages = {}
    for days in (200, 100, 50, 10, 1):
        session_id = conversation(db_dir).id
        raw_db(db_dir, "UPDATE sessions SET started_at = ? WHERE id = ?", now - days * 86400, session_id)
        ages[days] = session_id
    running = SessionRecorder.open(db_dir, model="m", voice=None, input_device=None, output_device=None, settings={})
    raw_db(
        db_dir, "UPDATE sessions SET started_at = ? WHERE id = ?", now - 300 * 86400, running.id
    )  # old, but still recording
    store = SessionStore(db_dir)

    assert store.prune(0, 0) == []
    assert sorted(store.prune(90, 0)) == sorted([ages[200], ages[100]])
    assert store.prune(90, 0) == []
    assert store.prune(0, 2) == [ages[50]]  # the two newest stay; the running one (oldest) too
    left = {i.id for i in store.list_sessions()}
    assert left == {ages[10], ages[1], running.id}
    assert {r[0] for r in raw_db(db_dir, "SELECT DISTINCT session_id FROM audio")} == {ages[10], ages[1]}
    assert raw_db(db_dir, "SELECT count(*) FROM turn_text") == [(8,)]
    running.close("user")


def test_continue_gets_the_latest_handle_and_the_last_turns(db_dir):
    recorded = conversation(db_dir)
    store = SessionStore(db_dir)
    assert store.latest_resumption_handle(recorded.id) == "handle-2"
    assert store.recent_turns(recorded.id, 2) == [("user", "stop please"), ("model", "Okay, stopping.")]
    assert store.recent_turns(recorded.id, 3)[0] == ("model", "It is sunny and warm today with a light breeze.")
    assert store.latest_resumption_handle(Scripted(db_dir).close(1.0)) is None


def test_a_session_continuing_another_says_so(db_dir):
    first = conversation(db_dir).id
    second = Scripted(db_dir, continues=first).close(1.0)
    assert SessionStore(db_dir).info(second).continues == first


def test_a_database_from_a_newer_livecli_is_refused(db_dir):
    conversation(db_dir)
    raw_db(db_dir, f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    newer = rf"written by a newer livecli \(schema {SCHEMA_VERSION + 1}; this one knows up to {SCHEMA_VERSION}\): upgrade livecli"
    with pytest.raises(StoreError, match=newer):
        SessionStore(db_dir).list_sessions()
    with pytest.raises(StoreError, match="newer livecli"):
        SessionRecorder.open(db_dir, model="m", voice=None, input_device=None, output_device=None, settings={})


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty"])
def test_a_damaged_database_file_is_a_clear_error(db_dir, damage):
    conversation(db_dir)
    path = db_dir / DB_NAME
    SessionStore(db_dir).list_sessions()  # checkpointed and closed
    for extra in db_dir.glob(DB_NAME + "-*"):
        extra.unlink()
    data = path.read_bytes()
    if damage == "garbage":
        path.write_bytes(b"this is not a database" * 1000)
    elif damage == "truncated":
        path.write_bytes(data[: len(data) // 3])
    else:
        path.write_bytes(data[:100] + bytes(len(data) - 100))
    with pytest.raises(StoreError, match=f"the session database {path} is damaged .*move it away to start a new one"):
        store = SessionStore(db_dir)
        store.list_sessions()
        store.events(store.resolve(None))


def test_a_damaged_event_payload_reads_as_unreadable(db_dir):
    recorded = conversation(db_dir)
    raw_db(db_dir, "UPDATE events SET payload = '{not json' WHERE kind = ?", records.ToolCalled.KIND)
    events = SessionStore(db_dir).events(recorded.id)
    assert (events[7].kind, events[7].record) == (records.UNREADABLE, None) and len(events) == 10


def test_two_recorders_at_once_share_the_database(db_dir):
    """Two talk sessions in two terminals."""
    results = []

    def talk():
        results.append(conversation(db_dir).id)

    threads = [threading.Thread(target=talk) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert {i.id for i in SessionStore(db_dir).list_sessions()} == set(results)
    assert all(i.turns == 4 for i in SessionStore(db_dir).list_sessions())


def test_rows_written_by_earlier_versions_read_as_records(db_dir):
    """Databases written before typed records keep their payloads as they were: they still parse."""
    session_id = Scripted(db_dir, connected=False).close(9.0)
    today = [  # (kind, payload) exactly as the talk session wrote them before records.py
        ("user_turn", {"text": "hello", "typed": False}),
        ("model_turn", {"text": "Hi.", "interrupted": True}),
        ("interrupted", {"by": "key"}),
        ("tool_call", {"id": "c1", "name": "look", "args": {"q": 1}}),
        (
            "tool_result",
            {"id": "c1", "name": "look", "error": "no", "state": "error", "approval": "yolo", "duration_s": 0.5},
        ),
        ("usage", {"prompt_tokens": 10, "response_tokens": 5, "total_tokens": 15}),
        ("resumption_handle", {"handle": "h-1"}),
        ("reconnect", {"reason": "dropped", "gap_s": 0.4, "resumed": True, "dropped_s": 0.0}),
        ("device", {"message": "microphone lost"}),
        ("notice", {"message": "3 recordings lost: the disk was too slow"}),
        ("error", {"message": "the key was refused"}),
        ("a_kind_from_the_future", {"x": 1}),
    ]
    for offset, (kind, payload) in enumerate(today):
        raw_db(
            db_dir,
            "INSERT INTO events (session_id, offset_s, kind, payload) VALUES (?, ?, ?, ?)",
            session_id,
            offset,
            kind,
            json.dumps(payload),
        )
    events = SessionStore(db_dir).events(session_id)
    assert [e.record for e in events] == [
        records.UserTurn("hello"),
        records.ModelTurn("Hi.", interrupted=True),
        records.Interruption(by="key"),
        records.ToolCalled("c1", "look", {"q": 1}),
        records.ToolFinished("c1", "look", {"error": "no"}, "error", "yolo", 0.5),
        records.UsageReport(10, 5, 15),
        records.ResumptionHandle("h-1"),
        records.Reconnected("dropped", 0.4, True, 0.0),
        records.DeviceNotice("microphone lost"),
        records.Notice("3 recordings lost: the disk was too slow"),
        records.Failure("the key was refused"),
        None,  # unknown here, but kept visible as stored
    ]
    assert (events[-1].kind, events[-1].data) == ("a_kind_from_the_future", {"x": 1})
    assert [records.payload(e.record) for e in events[:2]] == [today[0][1], today[1][1]]  # the same shape written today
    assert [describe(e) for e in events[7:]] == [
        "reconnected after 0.4 s (resumed): dropped",
        "device: microphone lost",
        "notice: 3 recordings lost: the disk was too slow",
        "error: the key was refused",
        'a_kind_from_the_future: {"x": 1}',
    ]


def test_a_failed_start_is_marked_and_skipped_when_no_id_is_given(db_dir):
    talked = conversation(db_dir).id
    refused = Scripted(db_dir, connected=False)
    refused.record(0.3, records.Failure("the API key was refused: API key not valid"))
    refused_id = refused.close(0.4, reason="error: the API key was refused")
    store = SessionStore(db_dir)
    info = store.info(refused_id)
    assert (info.failed_start, info.status) == (True, "failed to start")
    assert info.ending == "failed to start: the API key was refused: API key not valid"
    assert info.as_json()["failed_start"] is True and store.info(talked).as_json()["failed_start"] is False
    assert store.resolve(None) == talked  # what `replay` and `talk --continue` pick
    assert store.resolve(refused_id) == refused_id  # still shown and replayed when named
    assert [i.status for i in store.list_sessions()] == ["failed to start", "ended"]


def test_sessions_from_before_connected_was_recorded_count_as_connected_if_anything_happened(db_dir):
    with_turns = conversation(db_dir, record_audio=False).id
    with_audio_only = Scripted(db_dir)
    with_audio_only.user(0.5, noise(0.5, 16000, 1))
    audio_id = with_audio_only.close(1.0)
    nothing = Scripted(db_dir).close(1.0)
    raw_db(db_dir, "DELETE FROM events WHERE kind = ?", records.Connected.KIND)  # as written before this version
    store = SessionStore(db_dir)
    assert [store.info(i).failed_start for i in (with_turns, audio_id, nothing)] == [False, False, True]
    assert store.resolve(None) == audio_id


def test_a_session_still_connecting_is_recording_not_failed_but_not_picked_either(db_dir):
    earlier = conversation(db_dir).id
    connecting = SessionRecorder.open(db_dir, model="m", voice=None, input_device=None, output_device=None, settings={})
    store = SessionStore(db_dir)
    assert (store.info(connecting.id).status, store.info(connecting.id).failed_start) == ("recording", False)
    assert store.resolve(None) == earlier
    connecting.close("user")


def test_when_every_session_failed_to_start_no_id_is_a_clear_error(db_dir):
    Scripted(db_dir, connected=False).close(0.5)
    with pytest.raises(StoreError, match=r"^no session has connected yet: every recorded one failed to start"):
        SessionStore(db_dir).resolve(None)
