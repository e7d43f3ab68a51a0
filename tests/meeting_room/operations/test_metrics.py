"""The operators' instruments that the code updates itself (the scrape and its access are tested
with the API: tests/meeting_room/api/test_operations.py)."""

from __future__ import annotations

import asyncio
import time

from meeting_room.operations.metrics import REGISTRY, watch_loop_lag


def _lag(sample: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(f"meeting_room_event_loop_lag_seconds_{sample}", labels) or 0.0


def test_a_busy_event_loop_shows_in_its_lag() -> None:
    """A callback that holds the loop 0.3 s makes the watcher's next wake-up that late; the quiet
    wake-ups around it land in the lowest buckets."""
    count, total, late = _lag("count"), _lag("sum"), _lag("bucket", le="0.1")

    async def scenario() -> None:
        watcher = asyncio.create_task(watch_loop_lag())
        await asyncio.sleep(0.25)  # a few quiet wake-ups
        time.sleep(0.3)  # the loop held
        before = _lag("count")
        deadline = time.monotonic() + 10
        while _lag("count") < before + 2 and time.monotonic() < deadline:  # the late one, and one after it
            await asyncio.sleep(0.05)
        watcher.cancel()

    asyncio.run(scenario())
    assert _lag("count") >= count + 3
    assert _lag("sum") - total >= 0.15  # the held 0.3 s, less the part of the period it fell in
    over = (_lag("count") - count) - (_lag("bucket", le="0.1") - late)
    assert over >= 1, "the held wake-up is counted over 0.1 s"
