"""The `livecli` CLI as a child process, as end-to-end tests start and stop it.

One place for the Popen and the Ctrl-C, so every test runs the CLI the same way (this
interpreter, so the test's venv; text pipes the test reads) and a hung CLI is killed rather
than left running after the test.
"""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest


def start_livecli(env: dict, *args: str, stdin=subprocess.PIPE) -> subprocess.Popen:
    """`python -m livecli *args` with `env`, stdout and stderr as text pipes.

    stdin is a pipe by default: `talk` ends at the end of its input, so the session runs
    until the test closes it (communicate does) or sends Ctrl-C.
    """
    return subprocess.Popen(
        [sys.executable, "-m", "livecli", *args],
        env=env,
        stdin=stdin,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def stop_livecli(process: subprocess.Popen, timeout: float = 15) -> tuple[str, str]:
    """Ctrl-C (SIGINT), as a user ends a session; its (stdout, stderr).

    A process still running after `timeout` seconds is killed, so a hang cannot outlive the
    test; its returncode is then -SIGKILL, which a test that must fail on a hang checks.
    """
    process.send_signal(signal.SIGINT)
    try:
        return process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.communicate()


def interrupt_livecli(process: subprocess.Popen, timeout: float = 15) -> tuple[int, str, str]:
    """Ctrl-C, and a CLI that does not end on it fails the test; (returncode, stdout, stderr)."""
    out, err = stop_livecli(process, timeout)
    if process.returncode == -signal.SIGKILL:  # stop_livecli had to kill it
        pytest.fail(f"livecli did not end on Ctrl-C: {err}")
    return process.returncode, out, err
