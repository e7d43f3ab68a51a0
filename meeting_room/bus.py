"""In-process publish/subscribe of committed events to live subscribers (WebSockets).

The store publishes from whatever thread committed; delivery happens on the event loop. Each
subscriber has a bounded queue: one that falls too far behind is cut off and resumes from its
last event id, rather than making the server hold an unbounded backlog.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from meeting_room.store import StoredEvent

log = logging.getLogger(__name__)


class SubscriberOverflow(Exception):
    """The subscriber's queue filled up; it must reconnect and resume."""


@dataclass(eq=False)
class Subscription:
    meeting_id: str | None
    queue: asyncio.Queue[StoredEvent | None] = field(default_factory=lambda: asyncio.Queue(maxsize=1000))
    overflowed: bool = False

    async def events(self) -> AsyncIterator[StoredEvent]:
        while True:
            item = await self.queue.get()
            if item is None:
                raise SubscriberOverflow
            yield item


class Bus:
    def __init__(self) -> None:
        self._subs: set[Subscription] = set()
        self._loop: asyncio.AbstractEventLoop | None = None

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def detach(self) -> None:
        self._loop = None

    def subscribe(self, meeting_id: str | None, maxsize: int = 1000) -> Subscription:
        sub = Subscription(meeting_id, asyncio.Queue(maxsize=maxsize))
        self._subs.add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        self._subs.discard(sub)

    def publish(self, event: StoredEvent) -> None:
        """Thread-safe; call in commit order (the store does, under its append lock)."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        loop.call_soon_threadsafe(self._fan_out, event)

    def _fan_out(self, event: StoredEvent) -> None:
        for sub in list(self._subs):
            if sub.overflowed or (sub.meeting_id is not None and sub.meeting_id != event.meeting_id):
                continue
            if sub.queue.qsize() >= sub.queue.maxsize - 1:
                sub.overflowed = True
                sub.queue.put_nowait(None)  # the last free place: tell the reader to resume
                log.warning("subscriber for meeting %s fell behind at event %s", sub.meeting_id, event.seq)
                continue
            sub.queue.put_nowait(event)
