"""Remote participants' calls: WebRTC signalling over a WebSocket, and who is on a call.

WebSocket ``/api/meetings/{id}/call`` (JSON text frames), authenticated like every page (session
cookie, Bearer header or ?token=):
  server → {"type": "welcome", "ice_servers": [...], "name": "…"}       the RTCPeerConnection's configuration
  client → {"type": "offer", "sdp": "…"}          after its ICE gathering completed (no trickle)
  server → {"type": "answer", "sdp": "…"}
  server → {"type": "state", "state": "connecting" | "connected" | "failed" | …}
  client → {"type": "mute", "muted": true}        the room stops hearing them (and the captions)
  client → {"type": "leave"}                      they leave the meeting (attendance: left at once)
  server → {"type": "ended", "reason": "…"}       the meeting closed (meeting_ended), another device of theirs
                                                  took over (replaced), or their session ended (session_ended:
                                                  then an error and close 4401, or 4409 when their roles changed)
  server → {"type": "error", "error": {code, message, message_en}}   the socket stays open unless the code is 44xx
A dropped socket ends the call; a new socket with a new offer within ``call_grace_s`` continues as
if nothing happened (attendance unchanged).

A meeting that goes through the Janus SFU (``Calls.uses_sfu``): the welcome carries
``"janus": {url, room, feed, token, room_feed, display}`` and there is no offer on this socket: the
client publishes its audio (and video) as ``feed`` and subscribes to ``room_feed`` and the other
feeds through the WebSocket ``url`` (``/api/meetings/{id}/janus``, Janus's own protocol, relayed to
the Janus on the server's loopback with the token forced on and every request checked: this room,
this feed, this display name, no room administration). ``mute`` and ``leave`` work as above; the
call ends with ``{"type": "ended", "reason": "sfu_lost"}`` when Janus goes away (reconnect).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from datetime import datetime
from functools import partial

from fastapi import APIRouter, Request, Response, WebSocket, WebSocketDisconnect
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection

from meeting_room import auth
from meeting_room.access import get_meeting, require_staff, require_view
from meeting_room.api.deps import ActorDep, StoreDep, current_actor, live_of, poke_sessions, runtime_of, token_of
from meeting_room.api.errors import status_of
from meeting_room.api.qr import qr_svg_uri
from meeting_room.db import tables as t
from meeting_room.errors import MeetingRoomError
from meeting_room.live.calls import Call, CallInfo, Calls
from meeting_room.live.live_sessions import Live
from meeting_room.live.sfu import Sfu, SfuPeer
from meeting_room.services import invitations
from webrtc.errors import WebRTCError
from webrtc.janus import PLUGIN

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/meetings/{meeting_id}", tags=["calls"])
_CLOSE_CODES = {401: 4401, 403: 4403, 404: 4404, 409: 4409}
MAX_MESSAGE = 128 * 1024


class CallsOut(BaseModel):
    calls: list[CallInfo]


def calls_of(conn: HTTPConnection) -> Calls:
    return runtime_of(conn).calls


@router.get("/calls")
def list_calls(meeting_id: str, store: StoreDep, actor: ActorDep, request: Request) -> CallsOut:
    """Who takes part remotely right now: connection state, camera, muted, voice level."""
    with store.read() as session:
        require_view(session, actor, get_meeting(session, meeting_id))
    return CallsOut(calls=calls_of(request).status(meeting_id))


class MuteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    muted: bool


@router.post("/calls/{member_id}/mute")
async def mute_participant(meeting_id: str, member_id: str, body: MuteIn, actor: ActorDep, request: Request) -> CallInfo:
    """The chair or secretary switches a remote participant's microphone off (or on again)."""
    return await calls_of(request).mute_member(actor, meeting_id, member_id, body.muted)


def _error(exc: MeetingRoomError | WebRTCError) -> dict[str, object]:
    return {"type": "error", "error": {"code": exc.code, "message": exc.message_vi, "message_en": exc.message_en}}


def _bad(message_vi: str, message_en: str) -> dict[str, object]:
    return {"type": "error", "error": {"code": "invalid_signalling", "message": message_vi, "message_en": message_en}}


@router.websocket("/call")
async def call(ws: WebSocket, meeting_id: str) -> None:
    await ws.accept()
    calls = calls_of(ws)
    try:
        actor = await run_in_threadpool(current_actor, ws)
        await run_in_threadpool(calls.check, actor, meeting_id)
    except MeetingRoomError as exc:
        await ws.send_json(_error(exc))
        await ws.close(code=_CLOSE_CODES.get(status_of(exc), 4400))
        return
    send_lock = asyncio.Lock()

    async def send(message: dict[str, object]) -> None:
        async with send_lock:
            await ws.send_json(message)

    token = token_of(ws)
    assert token is not None  # current_actor needed one
    through_janus = await run_in_threadpool(calls.uses_sfu, meeting_id)
    recheck = partial(calls.check, actor, meeting_id)
    async with live_of(ws).watching(token, actor, meeting_id=meeting_id, recheck=recheck) as live:
        welcome: dict[str, object] = {"type": "welcome", "ice_servers": calls.browser_ice_servers(), "name": actor.full_name}
        current: Call | None = None
        if through_janus:
            try:
                current, janus = await calls.join_sfu(actor, meeting_id, send, session=live.key)
            except (MeetingRoomError, WebRTCError) as exc:
                await send(_error(exc))
                await ws.close(code=4503)
                return
            welcome["janus"] = {**janus, "url": f"/api/meetings/{meeting_id}/janus"}
        await send(welcome)
        leaving = False
        try:
            while True:
                message = await live.receive(ws)
                if message is None or message["type"] == "websocket.disconnect":
                    break
                text = message.get("text")
                if text is None or len(text) > MAX_MESSAGE:
                    await send(_bad("Tin nhắn phải là JSON (tối đa 128 KB)", "Messages must be JSON text (at most 128 KB)"))
                    continue
                try:
                    msg = json.loads(text)
                    kind = msg["type"]
                except (ValueError, KeyError, TypeError):
                    await send(_bad("Tin nhắn không phải JSON có trường type", "A message must be a JSON object with a type"))
                    continue
                if kind == "offer" and not through_janus:
                    try:
                        current, answer = await calls.join(actor, meeting_id, msg.get("sdp"), send)
                    except (MeetingRoomError, WebRTCError) as exc:
                        await send(_error(exc))
                        continue
                    await send({"type": "answer", "sdp": answer})
                elif kind == "mute" and current is not None:
                    calls.mute(current, bool(msg.get("muted")))
                    await send({"type": "muted", "muted": current.leg.muted})
                elif kind == "leave":
                    leaving = True
                    break
                else:
                    await send(_bad(
                        f"Loại tin nhắn “{kind}” không hợp lệ ở đây; chấp nhận: offer, mute (khi đang gọi), leave",
                        f"Message type “{kind}” is not accepted here; accepted: offer, mute (during a call), leave",
                    ))  # fmt: skip
        except WebSocketDisconnect:
            pass
        finally:
            reason = "session_ended" if live.ending is not None else "left" if leaving else "disconnected"
            if current is not None and not current.ended:
                await calls.hang_up(current, reason)
            if live.ending is not None:  # logout, password, disabled, revoked link, expired: the page stops
                with contextlib.suppress(Exception):
                    await send({"type": "error", "error": live.ending.error()})
                await live.close(ws)
            with contextlib.suppress(Exception):
                await ws.close()


# --- the relay to Janus --------------------------------------------------------------------------------

_JANUS_VERBS = {"create", "attach", "message", "trickle", "keepalive", "detach", "hangup", "destroy"}
_ROOM_REQUESTS = {"join", "configure", "joinandconfigure", "publish", "unpublish", "start", "pause", "switch", "update", "leave"}


def _vetted(msg: object, token: str, room: int, feed: int, display: str) -> dict[str, object] | str:
    """The request as it goes to Janus (their token forced on, their room, feed and name), or why not."""
    if not isinstance(msg, dict) or msg.get("janus") not in _JANUS_VERBS:
        return f"accepted: {sorted(_JANUS_VERBS)}"
    out = {k: v for k, v in msg.items() if k not in ("apisecret", "admin_secret")}
    out["token"] = token
    if out["janus"] == "attach" and out.get("plugin") != PLUGIN:
        return f"only the plugin {PLUGIN}"
    if out["janus"] == "message":
        body = out.get("body")
        if not isinstance(body, dict) or body.get("request") not in _ROOM_REQUESTS:
            return f"accepted requests: {sorted(_ROOM_REQUESTS)}"
        if "room" in body and body["room"] != room:
            return "only the meeting's own room"
        body = {**body, "token": token}
        if body.get("ptype") == "publisher" or body["request"] == "joinandconfigure" and body.get("ptype") != "subscriber":
            body.update(id=feed, display=display)
        out["body"] = body
    return out


@router.websocket("/janus")
async def janus_relay(ws: WebSocket, meeting_id: str) -> None:
    """Janus's WebSocket API for a participant admitted to this meeting's Janus room, and only for that."""
    calls = calls_of(ws)
    try:
        actor = await run_in_threadpool(current_actor, ws)
        await run_in_threadpool(calls.check, actor, meeting_id)
    except MeetingRoomError as exc:
        await ws.close(code=_CLOSE_CODES.get(status_of(exc), 4401))
        return
    token = token_of(ws)
    assert token is not None  # current_actor needed one
    call = calls.sfu_call(meeting_id, actor.member_id, auth.token_hash(token))
    if call is None or calls.sfu is None or not isinstance(call.peer, SfuPeer):
        await ws.close(code=4403)  # no call through Janus of this session in this meeting: nothing to relay
        return
    # watched like the call's own socket: a revoked link, a logout or the meeting's end closes it too
    async with live_of(ws).watching(token, actor, meeting_id=meeting_id, recheck=partial(calls.check, actor, meeting_id)) as live:
        await _relay(ws, call, calls.sfu, live)


async def _relay(ws: WebSocket, call: Call, sfu: Sfu, live: Live) -> None:
    from websockets.asyncio.client import connect
    from websockets.typing import Subprotocol

    peer = call.peer
    assert isinstance(peer, SfuPeer)
    await ws.accept(subprotocol="janus-protocol")
    try:
        upstream = await connect(sfu.options.url, subprotocols=[Subprotocol("janus-protocol")], max_size=2**22)
    except OSError:
        await ws.close(code=4503)
        return
    done = asyncio.Event()

    async def close() -> None:
        done.set()

    peer.proxies.add(close)

    creating: set[str] = set()  # transactions of their "create": the sessions they open are revoked with the call

    async def down() -> None:
        async for raw in upstream:
            text = raw if isinstance(raw, str) else raw.decode()
            if creating:
                with contextlib.suppress(ValueError, KeyError, TypeError):
                    msg = json.loads(text)
                    if msg.get("transaction") in creating and msg.get("janus") == "success":
                        creating.discard(msg["transaction"])
                        peer.sessions.add(int(msg["data"]["id"]))
            await ws.send_text(text)

    async def up() -> None:
        while True:
            text = await ws.receive_text()
            if len(text) > MAX_MESSAGE:
                continue
            try:
                msg = json.loads(text)
            except ValueError:
                continue
            vetted = _vetted(msg, peer.token, peer.room.id, peer.feed, call.name)
            if isinstance(vetted, str):
                tx = msg.get("transaction") if isinstance(msg, dict) else None
                await ws.send_json(
                    {"janus": "error", "transaction": tx, "error": {"code": 403, "reason": f"refused by the meeting server: {vetted}"}}
                )
                continue
            if vetted["janus"] == "create":
                creating.add(str(vetted.get("transaction")))
            await upstream.send(json.dumps(vetted))

    ends = (down(), up(), done.wait(), live.ended.wait())  # Janus, the page, the call, the session
    tasks = [asyncio.ensure_future(c) for c in ends]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        peer.proxies.discard(close)
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        with contextlib.suppress(Exception):
            await upstream.close()
        if live.ending is not None:
            await live.close(ws)
        with contextlib.suppress(Exception):
            await ws.close()


# --- invitation links -------------------------------------------------------------------------------


class InvitationIn(BaseModel):
    member_id: str
    hours: int | None = None  # default: the invitation_hours setting (1 to 720, checked by the service)


class InvitationOut(BaseModel):
    id: str
    member_id: str
    full_name: str
    created_at: datetime
    expires_at: datetime
    revoked: bool
    replaced: bool  # revoked because a newer link for the member replaced it (not opened by then)
    valid: bool  # not revoked or expired, its meeting not over: it opens, or its session goes on
    used: bool
    url: str | None = None  # only in the answer that creates it: the token is not stored
    qr: str | None = None  # the url as an SVG QR code (a data: URI), with it
    replaces: int = 0  # with it too: the member's links not yet opened, which it replaced (they no longer open)

    @classmethod
    def of(cls, row: t.Invitation, meeting: t.Meeting, full_name: str, url: str | None = None) -> InvitationOut:
        return cls(
            id=row.id, member_id=row.member_id or "", full_name=full_name, created_at=row.created_at, expires_at=row.expires_at,
            revoked=row.revoked_at is not None, replaced=row.replaced_by is not None, valid=invitations.still_valid(row, meeting),
            used=row.used_at is not None,  # members' links only
            url=url, qr=qr_svg_uri(url) if url else None,
        )  # fmt: skip


@router.post("/invitations", status_code=201)
def create_invitation(meeting_id: str, body: InvitationIn, store: StoreDep, actor: ActorDep, request: Request) -> InvitationOut:
    """A link that lets one participant into this meeting (and nothing else) until it expires."""
    hours = runtime_of(request).settings.invitation_hours if body.hours is None else body.hours
    new = invitations.create(store, actor, meeting_id, body.member_id, hours)
    url = str(request.base_url).rstrip("/") + f"/join/{new.token}"
    with store.read() as session:
        row = session.get_one(t.Invitation, new.id)
        made = InvitationOut.of(row, session.get_one(t.Meeting, meeting_id), session.get_one(t.Member, body.member_id).full_name, url)
    return made.model_copy(update={"replaces": new.replaced})


@router.get("/invitations")
def list_invitations(meeting_id: str, store: StoreDep, actor: ActorDep) -> list[InvitationOut]:
    with store.read() as session:
        meeting = get_meeting(session, meeting_id)
        require_staff(session, actor, meeting, action_vi="xem liên kết mời", action_en="see invitation links")
        rows = invitations.listed(session, meeting_id)
        names = {m.id: m.full_name for m in session.scalars(select(t.Member).where(t.Member.id.in_([r.member_id for r in rows])))}
        return [InvitationOut.of(r, meeting, names.get(r.member_id or "", r.member_id or "")) for r in rows]


@router.delete("/invitations/{invitation_id}", status_code=204)
async def revoke_invitation(meeting_id: str, invitation_id: str, store: StoreDep, actor: ActorDep, request: Request) -> Response:
    """Revoke a link: its sessions end, their sockets close and a call made through it is hung up."""
    await run_in_threadpool(invitations.revoke, store, actor, meeting_id, invitation_id)
    poke_sessions(request)
    return Response(status_code=204)
