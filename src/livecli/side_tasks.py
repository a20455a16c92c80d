"""Tasks the talk shell starts beside the loop's work (sends, picture files), held until done.

The event loop keeps only weak references to tasks, so a task nobody holds may
vanish mid-way; and a failure nobody awaits would go unseen. These are held,
and a failure is told (the shell shows it as a notice).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any


class SideTasks:
    def __init__(self, on_failure: Callable[[BaseException], None]):
        self._on_failure = on_failure
        self._tasks: set[asyncio.Task] = set()

    def start(self, work: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task) -> None:
        if not task.cancelled() and (error := task.exception()) is not None:
            self._on_failure(error)
