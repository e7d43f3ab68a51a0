"""Closes polls whose countdown has run out, so that the count does not wait for the chair.

Correctness does not depend on it: a ballot that arrives after ``closes_at`` is refused by the
store's decision anyway. It listens to the bus, so polls opened by another process are timed too;
when several servers time the same poll, one closes it and the others find it closed.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from meeting_room.bus import Coalesced, SubscriberOverflow, Transient
from meeting_room.chain import StoredEvent
from meeting_room.errors import MeetingRoomError
from meeting_room.services import polls
from meeting_room.store import Store
from voting import VotingError

log = logging.getLogger(__name__)


class PollTimer:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._handles: dict[str, asyncio.TimerHandle] = {}

    async def run(self) -> None:
        """Until cancelled: arm a timer for every open poll with a countdown, now and as polls open."""
        loop = asyncio.get_running_loop()
        while True:
            sub = self.store.bus.subscribe(None, maxsize=10_000, coalesce=_ballots)  # a hall's ballots: one marker a burst
            try:
                with self.store.read() as session:
                    for poll_id, closes_at in polls.due_polls(session):
                        self._arm(loop, poll_id, closes_at)
                async for event in sub.events():
                    if isinstance(event, Transient):
                        continue  # not subscribed to them
                    if isinstance(event, Coalesced):
                        sub.newest(event)  # ballots: nothing to arm or disarm
                        continue
                    if event.type == "poll.opened" and event.data.get("closes_at"):
                        self._arm(loop, event.data["poll_id"], datetime.fromisoformat(event.data["closes_at"]))
                    elif event.type in ("poll.closed", "poll.cancelled"):
                        handle = self._handles.pop(event.data["poll_id"], None)
                        if handle is not None:
                            handle.cancel()
            except SubscriberOverflow:
                continue  # rescan from the database
            finally:
                self.store.bus.unsubscribe(sub)
                for handle in self._handles.values():
                    handle.cancel()
                self._handles.clear()

    def _arm(self, loop: asyncio.AbstractEventLoop, poll_id: str, closes_at: datetime) -> None:
        if poll_id in self._handles:
            return
        delay = max(0.0, (closes_at - self.store.now()).total_seconds()) + 0.01
        self._handles[poll_id] = loop.call_later(delay, lambda: loop.run_in_executor(None, self._close, poll_id))

    def _close(self, poll_id: str) -> None:
        self._handles.pop(poll_id, None)
        try:
            polls.close_poll(self.store, None, poll_id)
            log.info("poll %s closed: its countdown ran out", poll_id)
        except (MeetingRoomError, VotingError) as exc:  # closed or cancelled meanwhile
            log.info("poll %s not closed by its timer: %s", poll_id, exc)


def _ballots(event: StoredEvent) -> str | None:
    return "ballots" if event.type == "poll.ballot_cast" else None
