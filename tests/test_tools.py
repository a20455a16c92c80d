"""Tools: loading (files, plugins, MCP, config), running (timeouts, errors, approvals,
cancellation) and round trips through the fake Live server with the real SDK."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
import tomllib
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest
from google import genai
from google.genai import types

from livecli.errors import ConfigError, LivecliError
from livecli.events import CallState, FunctionCall
from livecli.tools import Policy, ToolRunner, open_registry, sources
from livecli.tools.config import parse_mcp_servers, parse_tools

try:
    from support.fake_live import FakeLiveServer
except ImportError:  # tests/ is a package
    from tests.support.fake_live import FakeLiveServer  # type: ignore[no-redef]

MODEL = "gemini-live-2.5-flash-preview"
MCP_SERVER = Path(__file__).parent / "support" / "mcp_server.py"

TOOLS_FILE = '''
"""Tools for the tests, loaded from the config folder's tools/."""

import asyncio
import time
from pathlib import Path
from typing import Literal


def convert_temperature(value: float, to: Literal["C", "F"] = "F") -> dict:
    """Convert a temperature between Celsius and Fahrenheit.

    Args:
        value: The temperature to convert.
        to: The unit to convert to.
    """
    converted = value * 9 / 5 + 32 if to == "F" else (value - 32) * 5 / 9
    return {"value": round(converted, 1), "unit": to}


def explode(reason: str) -> str:
    """Always fails."""
    raise RuntimeError(reason)


async def nap(seconds: float) -> str:
    """Sleep a while, then answer."""
    await asyncio.sleep(seconds)
    return "rested"


def blocking_nap(seconds: float) -> str:
    """Sleep in a thread (a sync tool)."""
    time.sleep(seconds)
    return "rested"


def find_nothing(query: str) -> list:
    """Search, finding nothing."""
    return []


async def wait_forever(marker: str) -> str:
    """Run until cancelled; write what happened to `marker`."""
    Path(marker).write_text("running")
    try:
        await asyncio.sleep(60)
    except asyncio.CancelledError:
        Path(marker).write_text("cancelled")
        raise
    return "finished"


def _helper() -> None:
    """Not a tool: private."""
'''

CONVERT_SCHEMA = {
    "type": "object",
    "properties": {
        "value": {"description": "The temperature to convert.", "type": "number"},
        "to": {"description": "The unit to convert to.", "enum": ["C", "F"], "type": "string", "default": "F"},
    },
    "required": ["value"],
}


@pytest.fixture
def config_dir(tmp_path, monkeypatch) -> Path:
    """An isolated config folder (XDG) whose tools/ holds TOOLS_FILE."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    folder = tmp_path / "config" / "livecli"
    (folder / "tools").mkdir(parents=True)
    (folder / "tools" / "testing.py").write_text(TOOLS_FILE)
    return folder


@pytest.fixture
def fake(monkeypatch):
    started: list[FakeLiveServer] = []
    monkeypatch.delenv("GOOGLE_GENAI_USE_VERTEXAI", raising=False)

    def make(**kwargs) -> FakeLiveServer:
        srv = FakeLiveServer(reply_seconds=0.2, send_speed=20, **kwargs).start()
        started.append(srv)
        srv.patch_env(monkeypatch)
        return srv

    yield make
    for srv in started:
        srv.stop()


def mcp_config(**extra) -> dict:
    return {"mcp_servers": {"test": {"command": sys.executable, "args": [str(MCP_SERVER)], **extra}}}


async def _no_answer(call) -> bool:
    await asyncio.sleep(3600)
    return True


async def answer_calls(registry, calls, **runner_options):
    statuses = []
    runner_options.setdefault("approve", _no_answer)
    runner = ToolRunner(registry, on_update=statuses.append, **runner_options)
    return await runner.run(calls), statuses


def call(name: str, call_id: str = "c1", **args) -> FunctionCall:
    return FunctionCall(id=call_id, name=name, args=args)


# --------------------------------------------------------------------------- loading


def test_file_tool_in_config_folder_is_declared_by_the_sdk_with_arg_descriptions(config_dir):
    async def main():
        async with open_registry({}) as registry:
            return registry

    registry = asyncio.run(main())
    assert registry.warnings == []
    names = [t.name for t in registry.tools.values()]
    assert names == [
        "current_datetime",
        "convert_temperature",
        "explode",
        "nap",
        "blocking_nap",
        "find_nothing",
        "wait_forever",
    ]
    tool = registry.tools["convert_temperature"]
    assert tool.source == f"file {config_dir / 'tools' / 'testing.py'}"
    assert tool.policy is Policy.AUTO and tool.timeout_s == 30 and not tool.non_blocking
    assert tool.declaration.description == "Convert a temperature between Celsius and Fahrenheit."
    assert tool.declaration.parameters_json_schema == CONVERT_SCHEMA
    (declared,) = registry.declarations()
    assert [d.name for d in declared.function_declarations] == names


def test_load_failures_are_one_warning_each_and_the_rest_loads(config_dir, tmp_path, monkeypatch):
    (config_dir / "tools" / "broken.py").write_text("def oops(:\n")
    extra = tmp_path / "extra.py"
    extra.write_text(
        "def no_hints(city):\n    'No type hints.'\n\n"
        "def splat(*names: str) -> str:\n    'Variadic.'\n\n"
        "def fine(city: str) -> str:\n    'Fine.'\n    return city\n\n"
        "from livecli.tools import tool\n\n"
        "@tool(name='say hi!')\ndef hi() -> str:\n    'Bad name.'\n    return 'hi'\n"
    )
    broken_plugin = EntryPoint(name="weather", value="livecli_no_such_plugin:weather", group="livecli.tools")
    monkeypatch.setattr(sources.importlib.metadata, "entry_points", lambda group: [broken_plugin])

    async def main():
        async with open_registry({}, extra_files=[extra]) as registry:
            return registry

    registry = asyncio.run(main())
    warnings = registry.warnings
    assert len(warnings) == 5, warnings
    assert "entry point 'weather' failed to load: ModuleNotFoundError" in warnings[0]
    assert f"file {config_dir / 'tools' / 'broken.py'}: failed to load: SyntaxError" in warnings[1]
    assert "tool 'no_hints' cannot be declared: ValueError: Failed to parse the parameter city" in warnings[2]
    assert "tool 'splat' cannot be declared: ValueError: *args and **kwargs" in warnings[3]
    assert warnings[4] == f"file {extra}: tool 'say hi!' skipped: the Gemini API does not accept that name"
    assert all("\n" not in w for w in warnings)
    assert {"fine", "convert_temperature", "current_datetime"} <= set(registry.tools)


def test_config_enables_disables_and_sets_approval_and_timeouts(config_dir, tmp_path):
    override = tmp_path / "override.py"
    override.write_text("def nap() -> str:\n    'Another nap.'\n    return 'other'\n")
    config = {
        "tools": {
            "disabled": ["explode"],
            "approval": {"convert_temperature": "ask", "nap": "deny", "ghost": "ask"},
            "timeouts": {"blocking_nap": 2.5},
        }
    }

    async def main():
        async with open_registry(config, extra_files=[override]) as registry:
            return registry

    registry = asyncio.run(main())
    assert registry.tools["convert_temperature"].policy is Policy.ASK
    assert registry.tools["nap"].policy is Policy.DENY
    assert registry.tools["nap"].source == f"file {override}"  # a later source replaces an earlier one
    assert registry.tools["blocking_nap"].timeout_s == 2.5
    assert not registry.tools["explode"].enabled and registry.get("explode") is None
    declared = [d.name for d in registry.declarations()[0].function_declarations]
    assert "explode" not in declared and "nap" in declared
    assert registry.warnings == [
        f"tool 'nap' from file {override} replaces the one from file {config_dir / 'tools' / 'testing.py'}",
        "[tools] approval names 'ghost', but no such tool is loaded",
    ]

    async def only():
        async with open_registry({"tools": {"enabled": ["current_datetime"]}}) as registry:
            return [t.name for t in registry.enabled]

    assert asyncio.run(only()) == ["current_datetime"]


def test_no_tools_and_bad_config(config_dir, tmp_path):
    async def load(config, **options):
        async with open_registry(config, config_source="config.toml", **options) as registry:
            return registry

    registry = asyncio.run(load(mcp_config(), no_tools=True))
    assert registry.tools == {} and registry.declarations() == []
    for config, message in [
        (
            {"tools": {"timeout_s": 0}},
            "config.toml: [tools]: bad value for 'timeout_s': Input should be greater than 0",
        ),
        ({"tools": {"approval": {"x": "maybe"}}}, "[tools]: bad value for 'approval.x'"),
        ({"tools": {"timeout": 3}}, "[tools]: unknown key 'timeout' (known keys: timeout_s,"),
        ({"tools": ["x"]}, "config.toml: [tools] must be a table"),
        ({"mcp_servers": {"fs": {"args": []}}}, "[mcp_servers.fs]: bad value for 'command': Field required"),
    ]:
        with pytest.raises(ConfigError) as caught:
            asyncio.run(load(config))
        assert message in str(caught.value)
    with pytest.raises(LivecliError, match="--tools .*missing.py: no such file"):
        asyncio.run(load({}, extra_files=[tmp_path / "missing.py"]))


def test_search_memory_builtin_calls_the_injected_store(config_dir):
    asked = []

    def search(query: str, limit: int) -> list[str]:
        asked.append((query, limit))
        return ["we talked about dice"]

    async def main():
        async with open_registry({}, memory_search=search) as registry:
            tool = registry.tools["search_memory"]
            assert tool.source == "builtin"
            assert tool.declaration.parameters_json_schema["properties"]["limit"] == {
                "description": "How many passages to return at most.",
                "type": "integer",
                "default": 5,
            }
            return await answer_calls(registry, [call("search_memory", query="dice")])

    (result,), _ = asyncio.run(main())
    assert result.response == {"result": ["we talked about dice"]} and asked == [("dice", 5)]


# --------------------------------------------------------------------------- running


def test_calls_run_concurrently_and_failures_become_error_responses(config_dir):
    config = {"tools": {"timeouts": {"nap": 0.5, "blocking_nap": 0.5}}}

    async def main():
        async with open_registry(config) as registry:
            started = time.monotonic()
            results, statuses = await answer_calls(
                registry,
                [
                    call("convert_temperature", "a", value=100),
                    call("explode", "b", reason="kaboom"),
                    call("nap", "c", seconds=5),
                    call("blocking_nap", "d", seconds=0.4),
                    call("nap", "e", seconds="0.4"),  # JSON-ish arguments are validated and converted
                    call("convert_temperature", "f", value="hot"),
                    call("no_such_tool", "g"),
                ],
            )
            return results, statuses, time.monotonic() - started

    results, statuses, elapsed = asyncio.run(main())
    assert elapsed < 1.2  # concurrently: the slowest call is the 0.5 s timeout (one after another: 1.3 s)
    by_id = {r.id: r.response for r in results}
    assert [r.id for r in results] == list("abcdefg")
    assert by_id["a"] == {"result": {"value": 212.0, "unit": "F"}}
    assert by_id["b"] == {"error": "RuntimeError: kaboom"}
    assert by_id["c"] == {"error": "nap did not finish within 0.5 s"}
    assert by_id["d"] == {"result": "rested"} and by_id["e"] == {"result": "rested"}
    assert by_id["f"]["error"].startswith("ValidationError: 1 validation error")
    assert by_id["g"] == {"error": "there is no tool called 'no_such_tool'"}
    final = {s.id: s for s in statuses if s.state not in (CallState.RUNNING, CallState.WAITING_APPROVAL)}
    assert final["a"].state is CallState.DONE and final["a"].response == {"result": {"value": 212.0, "unit": "F"}}
    assert final["a"].response == by_id["a"] and final["a"].duration_s < 1.0
    assert final["c"].state is CallState.ERROR and 0.5 <= final["c"].duration_s < 1.2
    assert [s.state for s in statuses if s.id == "b"] == [CallState.RUNNING, CallState.ERROR]


CONVERTED = {"result": {"value": 212.0, "unit": "F"}}
REFUSED = {"error": "the user refused this call"}


@pytest.mark.parametrize(
    "answer, yolo, expected, approval",
    [
        (True, False, CONVERTED, "approved"),
        (False, False, REFUSED, "refused"),
        (None, False, REFUSED, "no answer"),  # nothing within approval_timeout_s
        (False, True, CONVERTED, "yolo"),  # --yolo: not asked
    ],
)
def test_ask_approval(config_dir, answer, yolo, expected, approval):
    config = {"tools": {"approval": {"convert_temperature": "ask"}, "approval_timeout_s": 0.2}}
    asked = []

    async def approve(function_call: FunctionCall) -> bool:
        asked.append((function_call.name, function_call.args))
        if answer is None:
            await asyncio.sleep(10)
        return answer

    async def main():
        async with open_registry(config) as registry:
            return await answer_calls(registry, [call("convert_temperature", value=100)], approve=approve, yolo=yolo)

    (result,), statuses = asyncio.run(main())
    assert result.response == expected
    assert asked == ([] if yolo else [("convert_temperature", {"value": 100})])
    assert statuses[-1].approval == approval and statuses[-1].response == expected
    states = [s.state for s in statuses]
    if yolo:
        assert states == [CallState.RUNNING, CallState.DONE]
    elif answer:
        assert states == [CallState.WAITING_APPROVAL, CallState.RUNNING, CallState.DONE]
    else:
        assert states == [CallState.WAITING_APPROVAL, CallState.REFUSED]


def test_deny_is_refused_even_with_yolo(config_dir):
    async def main():
        async with open_registry({"tools": {"approval": {"nap": "deny"}}}) as registry:
            return await answer_calls(registry, [call("nap", seconds=0)], yolo=True)

    (result,), statuses = asyncio.run(main())
    assert result.response == {"error": "the user does not allow this tool"}
    assert [(s.state, s.approval) for s in statuses] == [(CallState.REFUSED, "denied")]


def test_non_blocking_tool_is_declared_and_answered_on_its_own(tmp_path, config_dir):
    (config_dir / "tools" / "background.py").write_text(
        "import asyncio\nfrom livecli.tools import tool\n\n"
        "@tool(non_blocking=True, scheduling='WHEN_IDLE', approval='ask', timeout_s=5)\n"
        "async def long_job(seconds: float) -> str:\n    'A long job.'\n"
        "    await asyncio.sleep(seconds)\n    return 'job done'\n"
    )

    async def main():
        async with open_registry({}) as registry:
            job = registry.tools["long_job"]
            assert job.policy is Policy.ASK and job.timeout_s == 5 and job.non_blocking
            assert job.declaration.behavior is types.Behavior.NON_BLOCKING
            runner = ToolRunner(registry, approve=_no_answer, yolo=True)
            calls = [call("long_job", "job", seconds=0.3), call("convert_temperature", "quick", value=0)]
            return [(time.monotonic(), batch) async for batch in runner.answer(calls)]

    batches = asyncio.run(main())
    assert [[r.id for r in batch] for _, batch in batches] == [["quick"], ["job"]]
    assert batches[1][1][0].scheduling == "WHEN_IDLE" and batches[0][1][0].scheduling is None
    assert batches[1][0] - batches[0][0] > 0.2


def test_mcp_server_tools_and_failures(config_dir):
    config = mcp_config(include=["add", "fail"], approval="auto")
    config["mcp_servers"]["missing"] = {"command": "livecli-no-such-mcp-server"}
    config["tools"] = {"approval": {"fail": "ask"}}

    async def main():
        async with open_registry(config) as registry:
            results, _ = await answer_calls(
                registry, [call("add", "1", a=2, b=40), call("fail", "2", reason="disk full")], yolo=True
            )
            return registry, results

    registry, results = asyncio.run(main())
    assert [t.name for t in registry.tools.values() if t.source == "mcp test"] == ["add", "fail"]  # shout excluded
    assert registry.tools["add"].policy is Policy.AUTO and registry.tools["fail"].policy is Policy.ASK
    assert registry.tools["add"].declaration.parameters_json_schema["required"] == ["a", "b"]
    (warning,) = registry.warnings
    assert warning.startswith("MCP server 'missing' failed to start: ") and "mcp-missing.log" in warning
    assert [r.response for r in results] == [{"result": 42}, {"error": "Error executing tool fail: disk full"}]


# --------------------------------------------------------------------------- with the Live service (fake)


async def converse(registry, texts, *, runner: ToolRunner, on_tool_call=None, turns: int = 1):
    """Connect with the real SDK, send each text as a user turn, run the model's tool calls
    through `runner` and answer them, until `turns` model turns are complete."""
    client = genai.Client()
    config = types.LiveConnectConfig(response_modalities=["TEXT"], tools=registry.declarations())
    answering: set[asyncio.Task] = set()
    replies: list[str] = []
    async with client.aio.live.connect(model=MODEL, config=config) as session:

        async def answer(calls):
            async for batch in runner.answer(calls):
                await session.send_tool_response(
                    function_responses=[
                        types.FunctionResponse(id=r.id, name=r.name, response=r.response, scheduling=r.scheduling)
                        for r in batch
                    ]
                )

        pending_texts = list(texts)
        await session.send_realtime_input(text=pending_texts.pop(0))
        text = ""
        while len(replies) < turns:
            async for message in session.receive():
                if message.tool_call:
                    calls = tuple(FunctionCall(c.id, c.name, c.args or {}) for c in message.tool_call.function_calls)
                    answering.add(asyncio.create_task(answer(calls)))
                    if on_tool_call:
                        await on_tool_call(calls, session, pending_texts)
                if message.tool_call_cancellation:
                    runner.cancel(message.tool_call_cancellation.ids)
                if message.text:
                    text += message.text
                if message.server_content and message.server_content.turn_complete:
                    replies.append(text)
                    text = ""
                    if pending_texts and len(replies) < turns:
                        await session.send_realtime_input(text=pending_texts.pop(0))
        await asyncio.gather(*answering, return_exceptions=True)
    return replies


def schema_of(declaration: dict) -> dict:
    """The SDK sends declarations unconverted (snake_case); the service reads both spellings."""
    return declaration.get("parametersJsonSchema", declaration.get("parameters_json_schema"))


def test_file_tool_round_trip_through_the_live_api(config_dir, fake):
    srv = fake(
        user_transcripts=("unused",),
        tool_calls={r"temperature": {"name": "convert_temperature", "args": {"value": 21.5, "to": "F"}}},
        reply_text=lambda turn: (
            f"That is {turn.tool_responses[0]['response']['result']['value']} F." if turn.tool_responses else "ok"
        ),
    )

    async def main():
        async with open_registry({}) as registry:
            return await converse(
                registry,
                ["what is 21.5 C in fahrenheit, temperature?"],
                runner=ToolRunner(registry, approve=_no_answer),
            )

    assert asyncio.run(main()) == ["That is 70.7 F."]
    declared = srv.setups[0]["tools"][0]["functionDeclarations"]
    convert = next(d for d in declared if d["name"] == "convert_temperature")
    assert schema_of(convert) == CONVERT_SCHEMA
    assert convert["description"] == "Convert a temperature between Celsius and Fahrenheit."
    (call_event,) = srv.events("tool_call")
    (response,) = srv.tool_responses
    assert response.data == [
        {
            "id": call_event.data["calls"][0]["id"],
            "name": "convert_temperature",
            "response": {"result": {"value": 70.7, "unit": "F"}},
        }
    ]


def test_raising_and_slow_tools_answer_with_errors_and_the_session_goes_on(config_dir, fake):
    srv = fake(
        tool_calls={
            r"both": [
                {"name": "explode", "args": {"reason": "no network"}},
                {"name": "blocking_nap", "args": {"seconds": 3}},
            ]
        },
        reply_text=lambda turn: "Sorry, that failed." if turn.tool_responses else f"You said: {turn.user_text}",
    )

    async def main():
        async with open_registry({"tools": {"timeouts": {"blocking_nap": 0.3}}}) as registry:
            runner = ToolRunner(registry, approve=_no_answer)
            return await converse(registry, ["do both please", "still there?"], runner=runner, turns=2)

    assert asyncio.run(main()) == ["Sorry, that failed.", "You said: still there?"]
    (response,) = srv.tool_responses  # both calls answered together
    ids = [c["id"] for c in srv.events("tool_call")[0].data["calls"]]
    assert response.data == [
        {"id": ids[0], "name": "explode", "response": {"error": "RuntimeError: no network"}},
        {"id": ids[1], "name": "blocking_nap", "response": {"error": "blocking_nap did not finish within 0.3 s"}},
    ]


def test_tool_call_cancellation_stops_the_running_tool(config_dir, fake, tmp_path):
    marker = tmp_path / "marker"
    srv = fake(
        tool_calls={r"wait": {"name": "wait_forever", "args": {"marker": str(marker)}}},
        reply_text=lambda turn: f"You said: {turn.user_text}",
    )
    statuses = []

    async def cancel_when_running(calls, session, pending_texts):
        for _ in range(100):
            if marker.exists():
                break
            await asyncio.sleep(0.02)
        srv.cancel_tool_calls()
        await session.send_realtime_input(text=pending_texts.pop(0))

    async def main():
        async with open_registry({}) as registry:
            runner = ToolRunner(registry, approve=_no_answer, on_update=statuses.append)
            return await converse(
                registry, ["wait for it", "hello again"], runner=runner, on_tool_call=cancel_when_running, turns=2
            )

    # the cancelled turn ends empty (interrupted by the new text), then the model answers
    assert asyncio.run(main()) == ["", "You said: hello again"]
    assert marker.read_text() == "cancelled"
    assert srv.tool_responses == []  # a cancelled call is not answered
    assert [s.state for s in statuses] == [CallState.RUNNING, CallState.CANCELLED]


def test_mcp_tool_round_trip_through_the_live_api(config_dir, fake):
    srv = fake(
        tool_calls={r"add": {"name": "add", "args": {"a": 19, "b": 23}}},
        reply_text=lambda turn: f"The sum is {turn.tool_responses[0]['response']['result']}.",
    )

    async def main():
        async with open_registry(mcp_config(approval="auto")) as registry:
            return await converse(registry, ["add 19 and 23"], runner=ToolRunner(registry, approve=_no_answer))

    assert asyncio.run(main()) == ["The sum is 42."]
    declared = {d["name"]: d for d in srv.setups[0]["tools"][0]["functionDeclarations"]}
    assert declared["add"]["description"] == "Add two integers."
    assert schema_of(declared["add"])["properties"]["a"]["type"] == "integer"
    assert srv.tool_responses[0].data[0]["response"] == {"result": 42}


def test_config_example_documents_valid_tools_tables():
    """config.example.toml shows [tools] and [mcp_servers.NAME] commented out; uncommented they are valid."""
    text = (Path(__file__).resolve().parent.parent / "config.example.toml").read_text()
    block = text[text.index("# [tools]") :].splitlines()
    table = tomllib.loads("\n".join(line[2:] if line.startswith("# ") else line.lstrip("#") for line in block))
    tools = parse_tools(table, source="config.example.toml")
    assert tools.approval == {"roll_dice": Policy.AUTO, "write_file": Policy.DENY}
    servers = parse_mcp_servers(table, source="config.example.toml")
    assert servers["files"].command == "npx" and servers["files"].approval is Policy.ASK


def test_an_empty_result_says_it_is_the_answer_so_the_model_does_not_retry(config_dir):
    async def main():
        async with open_registry({}) as registry:
            return await answer_calls(registry, [call("find_nothing", "a", query="unicorns")])

    results, _ = asyncio.run(main())
    assert results[0].response == {
        "result": "find_nothing ran and found nothing ([]); this is the answer, not a failure"
    }


OUTLIVED_TOOL = """
import asyncio, os, sys, time
from livecli.tools.declare import function_tool

def nap(seconds: float) -> str:
    \"\"\"Sleeps.\"\"\"
    time.sleep(seconds)
    return "rested"

class SlowToForget:  # keeps Python's exit busy while the nap ends
    def __del__(self):
        time.sleep(0.6)

async def main():
    tool = function_tool(nap, source="test", timeout_s=0.1)
    try:
        await asyncio.wait_for(tool.invoke({"seconds": "0.3"}), 0.1)
    except asyncio.TimeoutError:
        print("timed out", flush=True)

asyncio.run(main())
sys.modules["slow to forget"] = SlowToForget()
"""


@pytest.mark.slow
def test_a_sync_tool_still_running_when_livecli_exits_does_not_abort_it():
    """A tool that outlived its timeout wakes while Python is exiting: livecli still exits 0
    (under pydantic's compiled validator it aborted with 134)."""
    done = subprocess.run([sys.executable, "-c", OUTLIVED_TOOL], capture_output=True, text=True, timeout=30)
    assert (done.returncode, done.stdout) == (0, "timed out\n"), done.stderr
