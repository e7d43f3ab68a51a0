"""The bus delivers strictly in sequence, catching up from the database when an event came from elsewhere."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from meeting_room.bus import Bus, Coalesced, SubscriberOverflow, Transient
from meeting_room.chain import StoredEvent


async def until(what: str, cond: Callable[[], bool], seconds: float = 10.0) -> None:
    """Wait on the event loop until ``cond()`` holds (the bus delivers on the loop, reads in a thread)."""
    deadline = time.monotonic() + seconds
    while not cond():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.01)


def _event(seq: int, meeting: str = "m") -> StoredEvent:
    return StoredEvent(seq, "x", meeting, None, "2026-11-23T00:00:00+00:00", {}, f"h{seq}", f"h{seq - 1}")


def _seqs(queue: asyncio.Queue[StoredEvent | Transient | Coalesced | None]) -> list[int]:
    """The sequence numbers of what waits in a subscriber's queue: stored events only."""
    out = []
    for _ in range(queue.qsize()):
        event = queue.get_nowait()
        assert isinstance(event, StoredEvent)
        out.append(event.seq)
    return out


def test_gap_is_filled_from_the_database_in_order() -> None:
    async def scenario() -> list[int]:
        log = [_event(n) for n in range(1, 10)]
        reads: list[int] = []

        def read_after(n: int) -> list[StoredEvent]:
            reads.append(n)
            return [e for e in log if e.seq > n][:3]  # pages of three

        bus = Bus()
        bus.attach(asyncio.get_running_loop(), read_after, head=2)
        sub = bus.subscribe("m")
        bus.publish(log[2])  # 3: this process's own, in sequence
        bus.publish(log[6])  # 7: 4..6 were committed by another process
        bus.publish(log[6])  # a repeat is ignored
        got = []
        async for event in sub.events():
            assert isinstance(event, StoredEvent)
            got.append(event.seq)
            if event.seq == 9:
                break
        assert reads[0] == 3
        return got

    assert asyncio.run(scenario()) == [3, 4, 5, 6, 7, 8, 9]


def test_poke_reads_what_others_committed_and_filters_by_meeting() -> None:
    async def scenario() -> tuple[list[int], list[int]]:
        log = [_event(1, "a"), _event(2, "b"), _event(3, "a")]
        bus = Bus()
        bus.attach(asyncio.get_running_loop(), lambda n: [e for e in log if e.seq > n], head=0)
        a, everything = bus.subscribe("a"), bus.subscribe(None)
        bus.poke()
        bus.poke()  # coalesced with the first
        await until("the catch-up", lambda: a.queue.qsize() >= 2 and everything.queue.qsize() >= 3)
        return _seqs(a.queue), _seqs(everything.queue)

    assert asyncio.run(scenario()) == ([1, 3], [1, 2, 3])


def test_a_slow_subscriber_is_cut_off_not_the_server() -> None:
    async def scenario() -> bool:
        bus = Bus()
        bus.attach(asyncio.get_running_loop(), lambda n: [], head=0)
        slow = bus.subscribe("m", maxsize=3)
        for n in range(1, 6):
            bus.publish(_event(n))
        await until("the overflow", lambda: slow.overflowed)
        try:
            async for _ in slow.events():
                pass
        except Exception as exc:
            return type(exc).__name__ == "SubscriberOverflow" and slow.overflowed
        return False

    assert asyncio.run(scenario())


def test_what_is_queued_is_taken_in_order_without_a_wait_and_an_overflow_still_ends_it() -> None:
    async def scenario() -> tuple[list[int], bool, bool]:
        bus = Bus()
        bus.attach(asyncio.get_running_loop(), lambda n: [], head=0)
        sub = bus.subscribe("m")
        for n in range(1, 4):
            bus.publish(_event(n))
        await until("three events queued", lambda: sub.queue.qsize() == 3)
        taken = []
        while (item := sub.next_queued()) is not None:
            assert isinstance(item, StoredEvent)
            taken.append(item.seq)
        empty_after = sub.queue.empty()  # what the stream's coalescing asks: is more of the burst coming?
        slow = bus.subscribe("m", maxsize=1)
        bus.publish(_event(4))
        bus.publish(_event(5))
        await until("the overflow", lambda: slow.overflowed)
        try:
            while slow.next_queued() is not None:
                pass
        except SubscriberOverflow:
            return taken, empty_after, True
        return taken, empty_after, False

    assert asyncio.run(scenario()) == ([1, 2, 3], True, True)


def _ballot(seq: int, poll: str) -> StoredEvent:
    return StoredEvent(seq, "poll.ballot_cast", "m", None, "2026-11-23T00:00:00+00:00", {"poll_id": poll}, f"h{seq}", f"h{seq - 1}")


def test_a_subscriber_that_needs_only_the_newest_gets_one_marker_a_burst_and_every_other_event() -> None:
    """A member's page needs only the count of others' ballots: a burst costs its queue one marker per
    poll, whose newest event is taken when the marker is read; other events queue as ever, in order,
    and a marker never carries a ballot newer than an event queued behind it."""

    async def scenario() -> None:
        bus = Bus()
        bus.attach(asyncio.get_running_loop(), lambda n: [], head=0)
        page = bus.subscribe("m", coalesce=lambda e: e.data["poll_id"] if e.type == "poll.ballot_cast" else None)
        chair = bus.subscribe("m")
        burst = [_ballot(1, "p"), _ballot(2, "p"), _ballot(3, "q"), _event(4), _ballot(5, "p"), _ballot(6, "q")]
        for event in burst:
            bus.publish(event)
        await until("the burst", lambda: chair.queue.qsize() == 6)
        queued = [page.queue.get_nowait() for _ in range(page.queue.qsize())]
        shown = [(q.key, page.newest(q).seq) if isinstance(q, Coalesced) else q for q in queued]
        # a marker takes newer ballots only until another event queues behind it: no count runs ahead of it
        assert shown == [("p", 2), ("q", 3), burst[3], ("p", 5), ("q", 6)]
        bus.publish(_ballot(7, "p"))  # after its marker was read: a new one
        await until("the next ballot", lambda: page.queue.qsize() == 1)
        marker = page.queue.get_nowait()
        assert isinstance(marker, Coalesced) and (marker.key, page.newest(marker).seq) == ("p", 7)
        assert _seqs(chair.queue) == [1, 2, 3, 4, 5, 6, 7]

    asyncio.run(scenario())
