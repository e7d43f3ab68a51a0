"""Publish/subscribe of committed events to live subscribers (WebSockets), gap-free across processes.

The store publishes what this process commits, from whatever thread committed; delivery happens
on the event loop. Other processes (the CLI, a room process, another server worker) commit too:
they send a notification (see ``meeting_room.notify``) and the bus catches up from the database.
The bus delivers events strictly in sequence: when an event arrives whose predecessor has not been
delivered, it reads the missing ones from the database first. Each subscriber has a bounded queue;
one that falls too far behind is cut off and resumes from its last event id. A subscriber may take
only the newest of some events (``coalesce``): a burst of them costs it one queued item, not one each.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from meeting_room.chain import StoredEvent

log = logging.getLogger(__name__)
ReadAfter = Callable[[int], "list[StoredEvent]"]  # events with seq > n, oldest first, a page at most


@dataclass(frozen=True)
class Transient:
    """A live message that is not meeting state (a partial caption): delivered to whoever is
    listening now, never stored, never replayed, dropped for a subscriber that is behind."""

    meeting_id: str
    message: dict[str, object]


@dataclass(eq=False)
class Coalesced:
    """In a subscriber's queue instead of events it only needs the newest of (another member's ballots
    on a member's page: the count). Later events of its key replace ``newest`` while it waits, until
    an event of another kind is queued behind it: what it carries never runs ahead of what follows it."""

    key: Hashable
    newest: StoredEvent


class SubscriberOverflow(Exception):
    """The subscriber's queue filled up; it must reconnect and resume."""


@dataclass(eq=False)
class Subscription:
    meeting_id: str | None
    queue: asyncio.Queue[StoredEvent | Transient | Coalesced | None] = field(default_factory=lambda: asyncio.Queue(maxsize=1000))
    overflowed: bool = False
    transient: bool = False  # also wants Transient messages (live viewers do; the poll timer does not)
    # events this subscriber needs only the newest of, by key (None: every event): a hall's ballots on a
    # member's page. The first of a key queues a ``Coalesced``; the next ones only replace its newest.
    coalesce: Callable[[StoredEvent], Hashable | None] | None = None
    _open: dict[Hashable, Coalesced] = field(default_factory=dict)  # queued markers that may still take newer events

    def newest(self, marker: Coalesced) -> StoredEvent:
        """The marker's newest event, taken: the next one of its key queues a marker again."""
        if self._open.get(marker.key) is marker:
            del self._open[marker.key]
        return marker.newest

    def next_queued(self) -> StoredEvent | Transient | Coalesced | None:
        """The next item already waiting, taken without awaiting (None when nothing is): a burst is sent
        without a wait per event, and ``queue.empty()`` still says whether more of the burst is coming."""
        if self.queue.empty():
            return None
        item = self.queue.get_nowait()
        if item is None:
            raise SubscriberOverflow
        return item

    async def events(self) -> AsyncIterator[StoredEvent | Transient | Coalesced]:
        while True:
            item = await self.queue.get()
            if item is None:
                raise SubscriberOverflow
            yield item


class Bus:
    def __init__(self) -> None:
        self._subs: set[Subscription] = set()
        self._listeners: list[Callable[[StoredEvent], None]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._read_after: ReadAfter | None = None
        self._last = 0  # the newest event delivered to subscribers
        self._catching_up = False
        self._again = False

    def attach(self, loop: asyncio.AbstractEventLoop, read_after: ReadAfter, head: int) -> None:
        """Start delivering on ``loop``; events up to ``head`` are history, not live news."""
        self._loop, self._read_after, self._last = loop, read_after, head

    def detach(self) -> None:
        self._loop = None

    def subscribe(
        self,
        meeting_id: str | None,
        maxsize: int = 1000,
        transient: bool = False,
        coalesce: Callable[[StoredEvent], Hashable | None] | None = None,
    ) -> Subscription:
        sub = Subscription(meeting_id, asyncio.Queue(maxsize=maxsize), transient=transient, coalesce=coalesce)
        self._subs.add(sub)
        return sub

    def listen(self, fn: Callable[[StoredEvent], None]) -> None:
        """Call ``fn`` (on the loop) with every event, in order, before any subscriber has it."""
        self._listeners.append(fn)

    def unlisten(self, fn: Callable[[StoredEvent], None]) -> None:
        with contextlib.suppress(ValueError):
            self._listeners.remove(fn)

    def unsubscribe(self, sub: Subscription) -> None:
        self._subs.discard(sub)

    def subscriber_count(self) -> int:
        return len(self._subs)

    def publish(self, event: StoredEvent) -> None:
        """Thread-safe: an event this process has just committed."""
        self._call(self._deliver, event)

    def publish_transient(self, meeting_id: str, message: dict[str, object]) -> None:
        """Thread-safe: a message for the meeting's live subscribers in this process only."""
        self._call(self._fan_out_transient, Transient(meeting_id, message))

    def poke(self) -> None:
        """Thread-safe: another process has committed something; read it from the database."""
        self._call(self._start_catch_up)

    def _call(self, fn: Callable[..., None], *args: object) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            loop.call_soon_threadsafe(fn, *args)
        except RuntimeError:  # the loop closed between the check and the call
            pass

    # --- on the event loop --------------------------------------------------------------------

    def _deliver(self, event: StoredEvent) -> None:
        if event.seq <= self._last:
            return  # delivered already (by a catch-up)
        if event.seq != self._last + 1:
            self._start_catch_up()  # a predecessor came from elsewhere: read them in order
            return
        self._last = event.seq
        self._fan_out(event)

    def _start_catch_up(self) -> None:
        if self._catching_up:
            self._again = True
            return
        self._catching_up = True
        asyncio.get_running_loop().create_task(self._catch_up())

    async def _catch_up(self) -> None:
        assert self._read_after is not None
        loop = asyncio.get_running_loop()
        try:
            while True:
                self._again = False
                page = await loop.run_in_executor(None, self._read_after, self._last)
                for event in page:
                    if event.seq == self._last + 1:
                        self._last = event.seq
                        self._fan_out(event)
                if not page and not self._again:
                    return
        except Exception:  # the database is unreachable for a moment: the next event retries
            log.exception("live events: catching up after event %s failed", self._last)
        finally:
            self._catching_up = False

    def _fan_out_transient(self, item: Transient) -> None:
        for sub in list(self._subs):
            if not sub.transient or sub.overflowed or sub.meeting_id not in (None, item.meeting_id):
                continue
            if sub.queue.qsize() < sub.queue.maxsize // 2:  # never at the expense of real events
                sub.queue.put_nowait(item)

    def _fan_out(self, event: StoredEvent) -> None:
        for fn in self._listeners:
            try:
                fn(event)
            except Exception:  # a listener must not stop the delivery
                log.exception("live events: a listener failed on event %s", event.seq)
        for sub in list(self._subs):
            if sub.overflowed or (sub.meeting_id is not None and sub.meeting_id != event.meeting_id):
                continue
            key = _key(sub, event)
            marker = sub._open.get(key) if key is not None else None
            if marker is not None:
                marker.newest = event  # still queued, nothing queued behind it: it takes this one
                continue
            if sub.queue.qsize() >= sub.queue.maxsize - 1:
                sub.overflowed = True
                sub.queue.put_nowait(None)  # the last free place: tell the reader to resume
                log.warning("subscriber for meeting %s fell behind at event %s", sub.meeting_id, event.seq)
                continue
            if key is None:
                sub._open.clear()  # behind this event: the markers before it take nothing newer
                sub.queue.put_nowait(event)
            else:
                sub._open[key] = Coalesced(key, event)
                sub.queue.put_nowait(sub._open[key])


def _key(sub: Subscription, event: StoredEvent) -> Hashable | None:
    if sub.coalesce is None:
        return None
    try:
        return sub.coalesce(event)
    except Exception:  # a subscriber's rule must not stop the fan-out to the others: it gets the event itself
        log.exception("subscriber for meeting %s: coalescing event %s failed", sub.meeting_id, event.seq)
        return None
