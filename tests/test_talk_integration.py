"""The talk session with tools and the session record, against the fake Live server.

Real SDK, real tool registry (a tools file in an isolated config folder), real
SQLite store; only the microphone and speaker are file-backed stand-ins. The devices,
the fake server and the link run SPEED times faster than real time (tests.support.speed).
"""

import asyncio
import io
import textwrap

import numpy as np
import pytest

from livecli import records
from livecli.conversation import Conversation
from livecli.conversation.inputs import Answer
from livecli.link import Link
from livecli.live import LiveConnection
from livecli.session import TalkSession
from livecli.settings import Settings
from livecli.store import SessionRecorder, SessionStore
from livecli.tools import open_registry
from livecli.ui.plain import PlainView
from tests.support.fake_live import FakeLiveServer
from tests.support.file_audio import CollectingSpeaker, FileMicrophone, silence, tone
from tests.support.kept_records import KeptRecords
from tests.support.speed import SPEED, link_timings, run_session
from tests.support.stdin import silent_stdin

TOOLS = textwrap.dedent('''
    from livecli.tools import tool


    def get_weather(city: str) -> dict:
        """The weather in a city.

        Args:
            city: Name of the city.
        """
        return {"city": city, "sky": "sunny", "celsius": 21}


    @tool(approval="ask")
    def delete_file(path: str) -> str:
        """Delete a file (asks first)."""
        return f"deleted {path}"
''')


def talk(server, tmp_path, *, seconds, signal, tool_calls_answer=None, recorder=None):
    """Talk for `seconds` of the story; the exit code and the recorder (by default one that keeps
    the records in memory)."""
    tools_file = tmp_path / "my_tools.py"
    tools_file.write_text(TOOLS)
    view = PlainView(out=io.StringIO(), err=io.StringIO())
    settings = Settings()
    recorder = recorder or KeptRecords()

    async def main():
        async with open_registry({}, extra_files=[tools_file], tools_dir=tmp_path / "none") as registry:
            declarations = registry.declarations()
            session = TalkSession(
                conversation=Conversation(model="m", voice=None),
                connect=lambda handle: Link(
                    lambda h: LiveConnection(settings, api_key="test-key", handle=h, tools=declarations),
                    **link_timings(),
                ),
                microphone=FileMicrophone(signal, speed=SPEED),
                speaker=CollectingSpeaker(speed=SPEED),
                view=view,
                registry=registry,
                recorder=recorder,
                stdin=silent_stdin(),
            )

            async def answer_when_asked():
                for _ in range(500):
                    await asyncio.sleep(0.01)
                    if session.state.approval is not None:
                        session.feed(Answer(tool_calls_answer))
                        break

            return await run_session(
                session, seconds, during=answer_when_asked if tool_calls_answer is not None else None
            )

    return asyncio.run(main()), recorder


def test_tool_from_a_file_is_declared_called_and_answered(monkeypatch, tmp_path):
    with FakeLiveServer(
        user_transcripts=["what is the weather in paris"],
        tool_calls={"weather": {"name": "get_weather", "args": {"city": "Paris"}}},
        reply_text="It is sunny in Paris.",
        reply_seconds=0.5,
        speed=SPEED,
    ) as server:
        server.patch_env(monkeypatch)
        code, kept = talk(server, tmp_path, seconds=3.0, signal=np.concatenate([tone(0.6), silence(4)]))

    assert code == 0
    (declared,) = [tool["functionDeclarations"] for tool in server.setups[0]["tools"] if "functionDeclarations" in tool]
    assert {"googleSearch": {}} in server.setups[0]["tools"]  # answers may be grounded in Search too
    weather = next(d for d in declared if d["name"] == "get_weather")
    schema = weather.get("parametersJsonSchema") or weather.get("parameters_json_schema")
    assert schema["properties"]["city"]["type"] == "string"
    assert schema["properties"]["city"]["description"] == "Name of the city."
    call_id = server.events("tool_call")[0].data["calls"][0]["id"]
    (response,) = server.tool_responses[0].data
    assert response["id"] == call_id and response["name"] == "get_weather"
    assert response["response"] == {"result": {"city": "Paris", "sky": "sunny", "celsius": 21}}
    assert kept.turns == [records.UserTurn("what is the weather in paris"), records.ModelTurn("It is sunny in Paris.")]
    assert kept.of(records.ToolCalled) == [records.ToolCalled(call_id, "get_weather", {"city": "Paris"})]
    (finished,) = kept.of(records.ToolFinished)
    assert (finished.id, finished.state, finished.approval) == (call_id, "done", "auto")
    assert finished.response == {"result": {"city": "Paris", "sky": "sunny", "celsius": 21}}


@pytest.mark.parametrize("answer", [True, False])
def test_ask_approval_yes_and_no(monkeypatch, tmp_path, answer):
    with FakeLiveServer(
        user_transcripts=["delete the file"],
        tool_calls={"delete": {"name": "delete_file", "args": {"path": "/tmp/x"}}},
        reply_seconds=0.3,
        speed=SPEED,
    ) as server:
        server.patch_env(monkeypatch)
        code, kept = talk(
            server, tmp_path, seconds=2.0, signal=np.concatenate([tone(0.6), silence(4)]), tool_calls_answer=answer
        )
    (finished,) = kept.of(records.ToolFinished)  # asked, and answered by the user
    assert (finished.name, finished.approval) == ("delete_file", "approved" if answer else "refused")
    (response,) = server.tool_responses[0].data
    if answer:
        assert response["response"] == {"result": "deleted /tmp/x"}
    else:
        assert "error" in response["response"] and "refused" in response["response"]["error"]


def test_session_record_has_turns_tools_usage_and_both_audio_streams(monkeypatch, tmp_path):
    data = tmp_path / "data"
    with FakeLiveServer(
        user_transcripts=["what is the weather in paris"],
        tool_calls={"weather": {"name": "get_weather", "args": {"city": "Paris"}}},
        reply_text="It is sunny in Paris.",
        reply_seconds=1.0,
        speed=SPEED,
    ) as server:
        server.patch_env(monkeypatch)
        recorder = SessionRecorder.open(data, model="m", voice=None, input_device=None, output_device=None, settings={})
        code, _ = talk(server, tmp_path, seconds=3.5, signal=np.concatenate([tone(0.6), silence(5)]), recorder=recorder)

    store = SessionStore(data)
    (info,) = store.list_sessions()
    assert info.id == recorder.id
    kinds = [event.kind for event in store.events(info.id)]
    for kind in ("user_turn", "tool_call", "tool_result", "model_turn", "usage", "resumption_handle"):
        assert kind in kinds, kinds
    assert store.latest_resumption_handle(info.id) == server.handles[-1]
    assert store.recent_turns(info.id) == [("user", "what is the weather in paris"), ("model", "It is sunny in Paris.")]
    user_audio = store.audio_index(info.id, "user")
    model_audio = store.audio_index(info.id, "model")
    assert len(user_audio) >= 30 and len(model_audio) > 0
