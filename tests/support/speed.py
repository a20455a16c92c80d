"""One speed for the in-process talk tests.

The file-backed devices (`file_audio`), the fake Live server and the link's timings all
run SPEED times faster than real time, so a conversation the test tells in seconds passes
in a fraction of them. `LIVECLI_TEST_SPEED=1` runs the same tests in real time: a test
that fails only when compressed points at a timing assumption, not at the behaviour.
"""

from __future__ import annotations

import asyncio
import os

from livecli import link

SPEED = float(os.environ.get("LIVECLI_TEST_SPEED", "4"))


def link_timings(speed: float = SPEED) -> dict[str, float]:
    """The link's time-based options on a clock `speed` times faster (its defaults at 1)."""
    return {
        "handle_wait_s": link.HANDLE_WAIT_S / speed,
        "go_away_margin_s": link.GO_AWAY_MARGIN_S / speed,
        "settle_s": link.SETTLE_S / speed,
    }


async def sleep(seconds: float, speed: float = SPEED) -> None:
    """Let `seconds` of the test's story pass."""
    await asyncio.sleep(seconds / speed)


async def run_session(session, seconds: float, *, during=None, speed: float = SPEED, timeout: float = 15.0):
    """Run a TalkSession: `during()` first if given, then `seconds` of the story counted from its
    first connection (opening one takes real time, which does not scale), or until the session ends
    by itself; then stop it and return its exit code (or raise its error)."""
    task = asyncio.create_task(session.run())
    if during is not None:
        await during()
    async with asyncio.timeout(timeout):
        while not (session.connected or task.done()):
            await asyncio.sleep(0.005)
    await asyncio.wait({task}, timeout=seconds / speed)
    session.stop()
    return await asyncio.wait_for(task, timeout)
