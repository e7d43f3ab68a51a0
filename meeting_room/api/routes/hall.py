"""The hall display: its links (the chair or secretary creates and revokes them), its view of the
meeting, and that view live over a WebSocket.

A display link is an invitation without a member (``services.invitations.create_display``): the
page ``/hall/{meeting_id}#<token>`` keeps the token in the fragment (never sent in a URL that is
logged) and sends it as ``Authorization: Bearer`` or ``?token=`` on the WebSocket. With it, only
``/api/meetings/{id}/hall`` and ``…/hall/stream`` answer (``deps.current_actor``). Revoking the
link closes the display's socket with 4401 within a second, as for a session.

WebSocket protocol (JSON text frames, server to client):
  {"kind": "hall", "hall": {…the view, as GET …/hall…}}   at once, then after every event that changes it
  {"kind": "caption", "final": bool, "text", "speaker"}   a live partial caption while someone speaks
  {"kind": "error", "error": {code, message, message_en}}   then the socket closes (4401, 4403, 4404)
A client that reconnects simply gets the whole view again; nothing is replayed.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request, Response, WebSocket, WebSocketDisconnect
from pydantic import BaseModel, ConfigDict, TypeAdapter
from starlette.concurrency import run_in_threadpool

from meeting_room.access import Actor, get_meeting, require_hall, require_staff
from meeting_room.api.deps import ActorDep, StoreDep, poke_sessions, runtime_of
from meeting_room.api.qr import qr_svg_uri
from meeting_room.api.routes.events import Ended, Sender, _drain_client, _live, followed
from meeting_room.bus import Coalesced, SubscriberOverflow, Transient
from meeting_room.chain import StoredEvent
from meeting_room.db import tables as t
from meeting_room.errors import NotFoundError
from meeting_room.live.live_sessions import Live, Unsettled
from meeting_room.services import hall, invitations
from meeting_room.store import Store

router = APIRouter(prefix="/api/meetings/{meeting_id}", tags=["hall"])
_TRY_AGAIN_LATER = 1013
_VIEW = TypeAdapter(hall.HallView)
_VIEWS = hall.SharedViews()  # this process's screens and pages share one read per change


class DisplayIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    hours: int | None = None  # default: the invitation_hours setting (1 to 720, checked by the service)


class DisplayOut(BaseModel):
    id: str
    created_at: datetime
    expires_at: datetime
    revoked: bool
    url: str | None = None  # only in the answer that creates it: the token is not stored
    qr: str | None = None  # the url as an SVG QR code (a data: URI), with it

    @classmethod
    def of(cls, row: t.Invitation, url: str | None = None) -> DisplayOut:
        return cls(
            id=row.id, created_at=row.created_at, expires_at=row.expires_at, revoked=row.revoked_at is not None, url=url,
            qr=qr_svg_uri(url) if url else None,
        )  # fmt: skip


@router.post("/displays", status_code=201)
def create_display(meeting_id: str, body: DisplayIn, store: StoreDep, actor: ActorDep, request: Request) -> DisplayOut:
    """A link for the hall's screen: this meeting's public view, read-only, until it expires or is revoked."""
    hours = runtime_of(request).settings.invitation_hours if body.hours is None else body.hours
    new = invitations.create_display(store, actor, meeting_id, hours)
    url = str(request.base_url).rstrip("/") + f"/hall/{meeting_id}#{new.token}"
    with store.read() as session:
        return DisplayOut.of(session.get_one(t.Invitation, new.id), url)


@router.get("/displays")
def list_displays(meeting_id: str, store: StoreDep, actor: ActorDep) -> list[DisplayOut]:
    """The meeting's hall display links (without their tokens)."""
    with store.read() as session:
        meeting = get_meeting(session, meeting_id)
        require_staff(session, actor, meeting, action_vi="xem liên kết màn hình hội trường", action_en="see hall display links")
        return [DisplayOut.of(row) for row in invitations.listed(session, meeting_id, displays=True)]


@router.delete("/displays/{invitation_id}", status_code=204)
async def revoke_display(meeting_id: str, invitation_id: str, store: StoreDep, actor: ActorDep, request: Request) -> Response:
    """Revoke a display link: the screen showing it goes dark within a second."""
    with store.read() as session:
        row = session.get(t.Invitation, invitation_id)
        if row is None or row.member_id is not None:
            raise NotFoundError("Không có liên kết màn hình này", "No such display link", invitation_id=invitation_id)
    await run_in_threadpool(invitations.revoke, store, actor, meeting_id, invitation_id)
    poke_sessions(request)
    return Response(status_code=204)


def _view(store: Store, meeting_id: str) -> dict[str, Any]:
    with store.read() as session:
        return _VIEW.dump_python(_VIEWS.view(session, meeting_id), mode="json")  # type: ignore[no-any-return]  # a dataclass dumps to a dict


def _check(store: Store, actor: Actor, meeting_id: str) -> None:
    with store.read() as session:
        require_hall(session, actor, get_meeting(session, meeting_id))


@router.get("/hall")
def get_hall(meeting_id: str, store: StoreDep, actor: ActorDep) -> dict[str, Any]:
    """What the hall's screen shows: item, speaker and time left, quorum, the vote of the moment, captions."""
    _check(store, actor, meeting_id)
    return _view(store, meeting_id)


@router.websocket("/hall/stream")
async def hall_stream(ws: WebSocket, meeting_id: str) -> None:
    """The hall's view, live: the whole view now and after every change, and partial captions."""
    await followed(
        ws, meeting_id, lambda store, actor: _check(store, actor, meeting_id), lambda store, live, _: _follow(ws, store, live, meeting_id)
    )


async def _follow(ws: WebSocket, store: Store, live: Live, meeting_id: str) -> None:
    # ballots cast together: one marker per poll for a burst (the view shows their count)
    sub = store.bus.subscribe(meeting_id, transient=True, coalesce=_ballots_in)  # subscribe first, then read: no change falls between
    send = Sender(ws, live)
    try:
        await send({"kind": "hall", "hall": await run_in_threadpool(_view, store, meeting_id)})
        reader = asyncio.create_task(_drain_client(ws, live))
        due = False
        try:
            async for item in _live(sub, reader):
                if isinstance(item, Transient):
                    caption = hall.partial_caption(item.message)
                    if caption is not None:
                        await send(caption)
                elif isinstance(item, Coalesced):
                    sub.newest(item)
                    due = True
                else:
                    due = due or hall.changes_view(item.type)
                # one read for a burst of events (ballots cast together), also when a caption ended it
                if due and sub.queue.empty():
                    await send({"kind": "hall", "hall": await run_in_threadpool(_view, store, meeting_id)})
                    due = False
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect):
                await reader
    except (SubscriberOverflow, Unsettled):
        with contextlib.suppress(Exception):
            await ws.close(code=_TRY_AGAIN_LATER, reason="reconnect")
    except (WebSocketDisconnect, Ended):
        pass
    finally:
        store.bus.unsubscribe(sub)


def _ballots_in(event: StoredEvent) -> str | None:
    return event.data["poll_id"] if event.type == "poll.ballot_cast" else None
