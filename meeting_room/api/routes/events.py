"""A meeting's committed events: over HTTP (pages) and live over a WebSocket that resumes without gaps.

WebSocket protocol (JSON text frames, server to client):
  {"kind": "event", "event": {id, type, meeting_id, actor_id, occurred_at, data, hash}}   in id order
  {"kind": "ready", "last_event_id": N}      the backlog after ?after= has been sent; live from here
  {"kind": "error", "error": {code, message, message_en}}   then the socket closes (4401, 4403, 4404;
      4429 when the session or member already has too many meeting pages open)
  {"kind": "attendance", "summary": {expected, present, present_in_room, …}, "unknown_faces": {camera: n}}
      live, after attendance events (one for a burst), to every viewer: the quorum count
  {"kind": "tally", "poll_id", "ballots_cast", "eligible", "counts": {option id: n}}   live, after
      poll.ballot_cast events (one for a burst of them), to the chair and secretary only, and only
      for named polls (a secret poll's live tally is the count of ballots in the event itself)
  {"kind": "count", "poll_id", "ballots_cast", "eligible"}   live, to a viewer who does not oversee
      the meeting (chair, secretary, clerks and administrators do), in place of others'
      poll.ballot_cast events: one per poll for a burst of them (those events are still in
      GET …/events and in a resumed socket's backlog)
  {"kind": "caption", "final": false, "pass_id", "stream", "start", "end", "text", "speaker"}
      a partial live caption while someone speaks (not stored: the final line arrives as a
      transcript.segment event); partials are dropped for a client that is behind
  {"kind": "calls", "calls": [{member_id, name, state, since, video_in, muted, level}]}   who takes part
      remotely, after every join, connection change, mute and hang-up (not stored)
A client that reconnects with ?after=<last id it saw> receives every later event exactly once
(live, others' ballots come to a member as count messages, as said above).
When the session it rides on ends (logout, password change, account disabled, invitation revoked,
expiry) the socket gets an error and closes with 4401 within a second; when the account's roles
change, with 4409 (reconnect: the new rights apply); when the member may no longer follow the
meeting (taken off its participants), with 4403. Nothing committed after such a change reaches the
socket first (``Sender``). A page from another origin gets 4403.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from functools import partial
from typing import Any, TypeVar

from fastapi import APIRouter, Query, WebSocket, WebSocketDisconnect
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from meeting_room.access import Actor, get_meeting, oversees, require_view
from meeting_room.api.deps import ActorDep, StoreDep, current_actor, get_store, live_of, token_of
from meeting_room.api.errors import status_of
from meeting_room.api.routes.attendance import summary_out
from meeting_room.api.routes.schemas import EventId
from meeting_room.bus import Coalesced, SubscriberOverflow, Subscription, Transient
from meeting_room.chain import StoredEvent
from meeting_room.db import tables as t
from meeting_room.errors import MeetingRoomError
from meeting_room.lifecycle import EDITABLE, MeetingState
from meeting_room.live.live_sessions import CHANGE_EVENTS, MEETING_ENDED, Live, Unsettled
from meeting_room.services import polls
from meeting_room.store import Store

T = TypeVar("T")

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/meetings/{meeting_id}", tags=["events"])
_CLOSE_CODES = {401: 4401, 403: 4403, 404: 4404, 429: 4429}
_TRY_AGAIN_LATER = 1013
_BACKLOG_PAGE = 500


class EventsOut(BaseModel):
    events: list[dict[str, Any]]
    last_event_id: int


def _check_view(store: Store, actor: Actor, meeting_id: str) -> bool:
    """Raise unless the actor may follow the meeting; True when they oversee it (live tallies, a closed vote's result)."""
    with store.read() as session:
        meeting = get_meeting(session, meeting_id)
        require_view(session, actor, meeting)
        return oversees(session, actor, meeting)


def _attendance_message(store: Store, meeting_id: str) -> dict[str, object]:
    with store.read() as session:
        meeting = get_meeting(session, meeting_id)
        summary = summary_out(session, meeting_id).model_dump()
        return {"kind": "attendance", "summary": summary, "unknown_faces": meeting.unknown_faces or {}}


def _live_tally(store: Store, poll_id: str) -> dict[str, object] | None:
    with store.read() as session:
        poll = session.get(t.Poll, poll_id)
        counts = polls.live_counts(session, poll) if poll is not None else None
        if poll is None or counts is None:
            return None
        return {"kind": "tally", "poll_id": poll_id, "ballots_cast": poll.ballots_cast, "eligible": poll.eligible_count, "counts": counts}


@router.get("/events")
def list_events(
    meeting_id: str,
    store: StoreDep,
    actor: ActorDep,
    after: EventId = 0,
    limit: int = Query(500, ge=1, le=5000),
) -> EventsOut:
    """The meeting's events after id ``after``, oldest first (page with ``limit``)."""
    overseer = _check_view(store, actor, meeting_id)
    events = store.events(meeting_id=meeting_id, after=after, limit=limit)
    return EventsOut(events=[e.message(overseer) for e in events], last_event_id=events[-1].seq if events else after)


async def followed(
    ws: WebSocket, meeting_id: str, check: Callable[[Store, Actor], T], follow: Callable[[Store, Live, T], Awaitable[None]]
) -> None:
    """A meeting's WebSocket from opening to end: authenticate, ``check`` (in a thread: it reads the
    store), then ``follow`` while the session lasts and ``check`` still holds; a session that ends
    (logout, password, disabled, revoked, expired) or loses the meeting (removed from it) is told why
    and closed."""
    await ws.accept()
    store = get_store(ws)
    since = live_of(ws).changes  # before the checks: a change after this holds the first frames for a round
    try:
        actor = await run_in_threadpool(current_actor, ws)
        checked = await run_in_threadpool(check, store, actor)
    except MeetingRoomError as exc:
        return await _refuse(ws, exc)
    token = token_of(ws)
    assert token is not None  # current_actor needed one
    recheck = partial(check, store, actor)  # its answer (an officer's rights) must stay what it was
    async with contextlib.AsyncExitStack() as stack:
        try:
            watching = live_of(ws).watching(token, actor, meeting_id=meeting_id, recheck=recheck, holds=checked, viewer=True, since=since)
            live = await stack.enter_async_context(watching)
        except MeetingRoomError as exc:  # too many pages open already
            return await _refuse(ws, exc)
        await follow(store, live, checked)
        if live.ending is not None:
            with contextlib.suppress(Exception):
                await ws.send_json({"kind": "error", "error": live.ending.error()})
            await live.close(ws)


async def _refuse(ws: WebSocket, exc: MeetingRoomError) -> None:
    await ws.send_json({"kind": "error", "error": {"code": exc.code, "message": exc.message_vi, "message_en": exc.message_en}})
    await ws.close(code=_CLOSE_CODES.get(status_of(exc), 4400))


@router.websocket("/stream")
async def stream(ws: WebSocket, meeting_id: str, after: EventId = 0) -> None:
    """Live events of the meeting, resuming after event id ``after``."""
    await followed(
        ws,
        meeting_id,
        lambda store, actor: _check_view(store, actor, meeting_id),
        lambda store, live, overseer: _follow(ws, store, live, meeting_id, after, overseer),
    )


async def _follow(ws: WebSocket, store: Store, live: Live, meeting_id: str, after: int, overseer: bool) -> None:
    # others' ballots on a member's page: the bus queues one marker per poll for a burst (``_only_counted``)
    counted = None if overseer else partial(_counted_poll, overseer=overseer, member_id=live.actor.member_id)
    sub = store.bus.subscribe(meeting_id, transient=True, coalesce=counted)  # subscribe first, then read the backlog: no gap
    last = sent = after  # sent: the newest event whose content reached the client (a resume starts after it)
    send = Sender(ws, live)
    try:
        while page := await run_in_threadpool(store.events, meeting_id=meeting_id, after=last, limit=_BACKLOG_PAGE):
            for event in page:  # page by page: a long meeting's backlog is never held whole
                await send.event(event, overseer, from_log=True)
                last = sent = event.seq
        await send({"kind": "ready", "last_event_id": last})
        reader = asyncio.create_task(_drain_client(ws, live))
        tally_due: set[str] = set()
        counts_due: dict[str, dict[str, object]] = {}  # poll id -> its count after the others' ballots not sent yet
        attendance_due = False

        async def send_counts() -> None:
            nonlocal sent
            for message in counts_due.values():
                await send(message)
            counts_due.clear()
            sent = last

        try:
            async for item in _live(sub, reader):
                if isinstance(item, Transient):
                    await send(item.message)
                elif isinstance(item, Coalesced):  # the newest of others' ballots in a poll: its count
                    newest = sub.newest(item)
                    if newest.seq > last:  # else the backlog had it
                        counts_due[newest.data["poll_id"]] = _count_message(newest)
                else:
                    event = item
                    if event.seq <= last:
                        continue  # already sent from the backlog
                    await send_counts()  # in order: a count before the events after it
                    await send.event(event, overseer)
                    last = sent = event.seq
                    if overseer and event.type == "poll.ballot_cast":
                        tally_due.add(event.data["poll_id"])
                    if event.type.startswith(("attendance.", "meeting.participant_")):
                        attendance_due = True
                if not sub.queue.empty():
                    continue  # a burst goes on: what it makes due is sent once, at its end
                # (after a caption too: one between a ballot and the quiet must not hold the count back)
                if counts_due:  # one message per poll for a burst of ballots
                    await send_counts()
                if attendance_due:
                    await send(await run_in_threadpool(_attendance_message, store, meeting_id))
                    attendance_due = False
                if tally_due:  # coalesced: one read covers a burst of ballots
                    for poll_id in sorted(tally_due):
                        tally = await run_in_threadpool(_live_tally, store, poll_id)
                        if tally is not None:
                            await send(tally)
                    tally_due.clear()
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect):
                await reader
    except (SubscriberOverflow, Unsettled):
        with contextlib.suppress(Exception):
            await ws.close(code=_TRY_AGAIN_LATER, reason=f"resume with ?after={sent}")
    except (WebSocketDisconnect, Ended):
        pass
    finally:
        store.bus.unsubscribe(sub)


class Ended(Exception):
    """The socket's session or access ended: nothing more is sent (``followed`` says why and closes)."""


class Sender:
    """A live socket's only way out: each frame waits until the watcher has acted on the session
    changes made before it (``LiveSessions.cleared``), and none goes to a socket they ended."""

    def __init__(self, ws: WebSocket, live: Live) -> None:
        self.ws, self.live, self.sessions = ws, live, live_of(ws)

    async def __call__(self, message: dict[str, Any]) -> None:
        await self.clear()
        await self.ws.send_json(message)

    async def event(self, event: StoredEvent, overseer: bool, from_log: bool = False) -> None:
        """A stored event as the viewer may see it (one that takes the meeting away from them is not
        sent); ``from_log``: read from the database (the backlog), maybe before the bus counted it."""
        if from_log and event.type in CHANGE_EVENTS:
            self.sessions.poke()
        await self.clear()
        await self.ws.send_text(event.frame(overseer))
        if self.live.actor.only_meeting is not None and _ends_the_meeting(event):
            # a link's session ends with its meeting: it is told of the close, and nothing after it
            # (the watcher's next round would end it too, after up to 0.5 s of what followed)
            self.live.end(MEETING_ENDED)
            raise Ended

    async def clear(self) -> None:
        """Raise ``Ended`` when the socket may no longer be sent anything (see the class)."""
        if not await self.sessions.cleared(self.live):
            raise Ended


def _ends_the_meeting(event: StoredEvent) -> bool:
    return event.type == "meeting.state_changed" and MeetingState(event.data["to_state"]) not in EDITABLE


def _only_counted(event: StoredEvent, overseer: bool, member_id: str) -> bool:
    """Another member's ballot, on a member's page: the page shows only the count, so a burst of them
    goes as one count message per poll. A hall voting at once otherwise sent every ballot to every
    open page, the server's whole time while it counted. Those who oversee the meeting (chair,
    secretary, clerks, administrators) get every event and the tallies; a member's own ballot comes
    as its event (their status on another device)."""
    return event.type == "poll.ballot_cast" and not overseer and event.data["voter_id"] != member_id


def _counted_poll(event: StoredEvent, *, overseer: bool, member_id: str) -> str | None:
    """The poll whose count the event only changes for this viewer (``_only_counted``), else None."""
    return event.data["poll_id"] if _only_counted(event, overseer, member_id) else None


def _count_message(event: StoredEvent) -> dict[str, object]:
    d = event.data
    return {"kind": "count", "poll_id": d["poll_id"], "ballots_cast": d["ballots_cast"], "eligible": d["eligible"]}


async def _drain_client(ws: WebSocket, live: Live) -> None:
    """Read (and ignore) what the client sends, so that a disconnect (or the session's end) is noticed at once."""
    while True:
        message = await live.receive(ws)
        if message is None or message["type"] == "websocket.disconnect":
            return


async def _live(sub: Subscription, reader: asyncio.Task[None]) -> AsyncIterator[StoredEvent | Transient | Coalesced]:
    """Yield bus events until the client goes away. What is queued already goes out without a wait
    per event: a hall voting at once queues a burst on every open page's socket."""
    iterator = sub.events().__aiter__()
    while True:
        while (item := sub.next_queued()) is not None:
            if reader.done():
                return
            yield item
        nxt = asyncio.ensure_future(iterator.__anext__())
        done, _ = await asyncio.wait({nxt, reader}, return_when=asyncio.FIRST_COMPLETED)
        if nxt not in done:
            nxt.cancel()
            return
        yield nxt.result()
