"""Tools that come with livecli."""

from __future__ import annotations

import asyncio
import datetime
import inspect
from collections.abc import Callable
from typing import Any


def current_datetime() -> dict:
    """Get the user's current local date, time, weekday and time zone."""
    now = datetime.datetime.now().astimezone()
    return {
        "datetime": now.isoformat(timespec="seconds"),
        "weekday": now.strftime("%A"),
        "timezone": now.tzname(),
    }


def make_search_memory(search: Callable[[str, int], Any]) -> Callable:
    """The `search_memory` tool over a store livecli's sessions provide
    (`search(query, limit)`, sync or async); the store lives elsewhere."""

    async def search_memory(query: str, limit: int = 5) -> Any:
        """Search what was said in the user's earlier conversations with you.

        Args:
            query: Words or a question to look for.
            limit: How many passages to return at most.
        """
        if inspect.iscoroutinefunction(search):
            return await search(query, limit)
        return await asyncio.to_thread(search, query, limit)

    return search_memory
