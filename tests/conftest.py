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
