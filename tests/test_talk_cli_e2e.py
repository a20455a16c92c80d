"""`livecli talk`'s command line as a user types it, end to end: real PortAudio devices
on the PulseAudio rig, the fake Live server, and sessions stored before."""

from pathlib import Path

import pytest

from livecli import records
from tests.support.fake_live import FakeLiveServer
from tests.support.livecli_process import start_livecli, stop_livecli
from tests.support.pulse_rig import pulse_rig_fixture
from tests.test_store_helpers import Scripted

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def pulse_rig():
    yield from pulse_rig_fixture()


def stored_session(db_dir: Path, handle: str, t: float = 1.0) -> str:
    session = Scripted(db_dir)
    session.record(t, records.UserTurn(f"words of {handle}"))
    session.record(t, records.ResumptionHandle(handle))
    return session.close(t + 1.0)


@pytest.mark.parametrize(
    "args,continued",
    [
        (["--plain", "--echo", "off", "--continue"], "latest"),  # at the end of the line
        (["--continue", "--plain", "--echo", "off"], "latest"),  # before another option
        (["--plain", "--continue", "{older}", "--echo", "off"], "older"),  # with an ID
    ],
)
def test_continue_takes_the_latest_session_or_the_one_given(pulse_rig, isolated_env, args, continued):
    db_dir = Path(isolated_env["XDG_DATA_HOME"]) / "livecli"
    older = stored_session(db_dir, "handle-older")
    stored_session(db_dir, "handle-latest")
    with FakeLiveServer(unknown_handle="fresh") as server:
        env = pulse_rig.subprocess_env(server.subprocess_env(isolated_env))
        argv = [arg.format(older=older) for arg in args]
        talk = start_livecli(env, "talk", *argv)
        try:
            asked = server.wait_for(lambda: server.events("resume_unknown"), timeout=20)
        finally:
            out, err = stop_livecli(talk)
        assert asked, err
        assert server.events("resume_unknown")[0].data["handle"] == f"handle-{continued}"
    assert talk.returncode == 0, err


def test_an_id_without_continue_is_a_usage_error(run_cli):
    result = run_cli("talk", "abc123")
    assert result.returncode == 2
    assert result.stderr == "livecli: error: a session ID goes with --continue: `livecli talk --continue abc123`\n"
