import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def isolated_env(tmp_path):
    """An environment with its own config/data folders and no API key."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LIVECLI_", "GEMINI_", "GOOGLE_"))}
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    env["XDG_DATA_HOME"] = str(tmp_path / "data")
    env["PYTHONUNBUFFERED"] = "1"
    return env


@pytest.fixture
def run_cli(isolated_env):
    """Run `livecli ...` as a user would, in a subprocess."""

    def run(*args, env=None, input=None, timeout=60):
        return subprocess.run(
            [sys.executable, "-m", "livecli", *args],
            env=env or isolated_env,
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=None if input is not None else subprocess.DEVNULL,
        )

    return run


@pytest.fixture
def fake(monkeypatch):
    """Start FakeLiveServers (`fake(**options)`) and point the SDK at the latest through the
    environment; each is stopped at the end, raising if it hit an error (an invalid message).
    Their clock runs at tests.support.speed.SPEED unless a test asks for `speed=1` (real time)."""
    from tests.support.fake_live import FakeLiveServer
    from tests.support.speed import SPEED

    started = []
    monkeypatch.delenv("GOOGLE_GENAI_USE_VERTEXAI", raising=False)

    def make(**kwargs):
        server = FakeLiveServer(**{"speed": SPEED, **kwargs}).start()
        started.append(server)
        server.patch_env(monkeypatch)
        return server

    yield make
    for server in started:
        server.stop()
