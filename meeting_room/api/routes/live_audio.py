"""Live captions: starting and stopping them, a recording replayed into them, and the audio WebSocket."""

from __future__ import annotations

import asyncio
import contextlib
from functools import partial

from fastapi import APIRouter, Query, Request, WebSocket, WebSocketDisconnect
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from meeting_room.access import Actor, get_meeting, require_staff, require_view
from meeting_room.api.deps import ActorDep, StoreDep, current_actor, get_store, live_of, runtime_of, token_of
from meeting_room.api.errors import status_of
from meeting_room.api.routes.files import recording_files
from meeting_room.api.routes.schemas import Channel
from meeting_room.db import tables as t
from meeting_room.errors import ConflictError, MeetingRoomError, NotFoundError
from meeting_room.live.live_captions import AudioSource, LiveCaptions
from meeting_room.store import Store

router = APIRouter(tags=["transcripts"])
_CLOSE_CODES = {401: 4401, 403: 4403, 404: 4404, 409: 4409}


# --- live captions --------------------------------------------------------------------------------


class LiveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    channels: dict[Channel, str] | None = Field(None, description="Microphone channel -> member id (one microphone per seat)")


class ReplayIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    recording_id: str
    speed: float = Field(1.0, ge=0.5, le=20)
    channel: Channel | None = None


class LiveOut(BaseModel):
    pass_id: str | None


def captions_of(conn: Request | WebSocket) -> LiveCaptions:
    return runtime_of(conn).captions


@router.post("/api/meetings/{meeting_id}/live/start")
def start_live(meeting_id: str, body: LiveIn, request: Request, actor: ActorDep) -> LiveOut:
    """Start live captions for the meeting (chair, secretary); audio then arrives on the audio WebSocket or a replay."""
    return LiveOut(pass_id=captions_of(request).start(actor, meeting_id, body.channels))


@router.post("/api/meetings/{meeting_id}/live/stop")
def stop_live(meeting_id: str, request: Request, actor: ActorDep) -> LiveOut:
    """Stop live captions: what is being said is finished, the live pass is closed."""
    return LiveOut(pass_id=captions_of(request).stop(actor, meeting_id))


MAX_FRAME_BYTES = 2 * 32_000  # 2 s of 16 kHz 16-bit mono: a browser sends ~0.1 s a frame, a room input 20 ms


@router.post("/api/meetings/{meeting_id}/live/replay", status_code=202)
def replay_recording(meeting_id: str, body: ReplayIn, request: Request, store: StoreDep, actor: ActorDep) -> LiveOut:
    """Play a stored recording into the live captions at real-time pace (``speed`` faster), as a room microphone would."""
    captions = captions_of(request)
    with store.read() as session:  # the recording first: a refused replay starts no live pass (an attacker's probe)
        require_staff(session, actor, get_meeting(session, meeting_id), action_vi="phát lại bản ghi", action_en="replay a recording")
        r = session.get(t.Recording, body.recording_id)
        if r is None or r.meeting_id != meeting_id:
            raise NotFoundError(
                f"Không có bản ghi {body.recording_id}", f"No recording {body.recording_id}", recording_id=body.recording_id
            )
    path = recording_files(request).open(r.sha256)
    pass_id = captions.start(actor, meeting_id)
    captions.replay(meeting_id, pass_id, path, AudioSource(f"replay-{r.id[:8]}", body.channel), body.speed)
    return LiveOut(pass_id=pass_id)


@router.websocket("/api/meetings/{meeting_id}/live/audio")
async def live_audio(
    ws: WebSocket,
    meeting_id: str,
    source: str = Query("room", pattern=r"^[A-Za-z0-9_.-]{1,40}$"),
    channel: int | None = Query(None, ge=0, le=255),
    remote: bool = Query(False, description="the sender's own voice (a remote participant)"),
) -> None:
    """Audio into the live captions: binary frames of 16 kHz mono little-endian 16-bit PCM.
    Room devices send with a staff account (``source``/``channel`` name the microphone); a remote
    participant sends their own voice with ``remote=true`` and is labelled with their name."""
    await ws.accept()
    store = get_store(ws)
    captions = captions_of(ws)
    try:
        actor = await run_in_threadpool(current_actor, ws)
        await run_in_threadpool(_check_sender, store, actor, meeting_id, remote)
        if captions.active(meeting_id) is None:
            raise ConflictError("Phụ đề trực tiếp chưa được bật cho cuộc họp này", "Live captions are not started for this meeting")
    except MeetingRoomError as exc:
        await ws.send_json({"kind": "error", "error": {"code": exc.code, "message": exc.message_vi, "message_en": exc.message_en}})
        await ws.close(code=_CLOSE_CODES.get(status_of(exc), 4400))
        return
    sender = AudioSource(source, channel, actor.member_id if remote else None)
    token = token_of(ws)
    assert token is not None  # current_actor needed one
    recheck = partial(_check_sender, store, actor, meeting_id, remote)
    async with live_of(ws).watching(token, actor, meeting_id=meeting_id, recheck=recheck) as live:
        await ws.send_json({"kind": "ready", "sample_rate": 16000, "format": "s16le", "channels": 1})
        stopped = False
        try:
            while True:
                message = await live.receive(ws)
                if message is None or message["type"] == "websocket.disconnect":
                    break
                data = message.get("bytes")
                if not data:
                    continue
                if len(data) > MAX_FRAME_BYTES:  # a microphone sends tenths of a second; a minute at once is a flood
                    await ws.send_json({"kind": "error", "error": {
                        "code": "frame_too_long",
                        "message": f"Mỗi gói âm thanh dài tối đa {MAX_FRAME_BYTES // 32_000} giây; gói này bị bỏ qua",
                        "message_en": f"An audio frame holds at most {MAX_FRAME_BYTES // 32_000} s; this one was dropped",
                    }})  # fmt: skip
                    continue
                try:
                    captions.feed_pcm16(meeting_id, sender, data)
                except ValueError as exc:
                    await ws.send_json(
                        {"kind": "error", "error": {"code": "invalid_audio", "message": "Dữ liệu PCM16 lẻ byte", "message_en": str(exc)}}
                    )
                    continue
                except MeetingRoomError:  # captions were stopped (by hand, or the meeting closed)
                    stopped = True
                    break
        except WebSocketDisconnect:
            pass
        finally:
            with contextlib.suppress(Exception):
                await asyncio.get_running_loop().run_in_executor(None, captions.end_source, meeting_id, sender)
            if live.ending is not None:  # the sender's session ended: no more audio under their name
                with contextlib.suppress(Exception):
                    await ws.send_json({"kind": "error", "error": live.ending.error()})
                await live.close(ws)
            elif stopped:  # said, and closed cleanly (the sender saw 1006, as if the server fell over)
                with contextlib.suppress(Exception):
                    error = {"code": "captions_stopped", "message": "Phụ đề trực tiếp đã dừng: âm thanh không còn được nhận",
                             "message_en": "Live captions have stopped: audio is no longer taken"}  # fmt: skip
                    await ws.send_json({"kind": "error", "error": error})
                    await ws.close(code=1000, reason="captions stopped")


def _check_sender(store: Store, actor: Actor, meeting_id: str, remote: bool) -> None:
    with store.read() as session:
        meeting = get_meeting(session, meeting_id)
        if remote:
            require_view(session, actor, meeting)
            if session.get(t.Participant, (meeting_id, actor.member_id)) is None:
                raise NotFoundError("Bạn không dự cuộc họp này", "You are not a participant of this meeting")
        else:
            require_staff(session, actor, meeting, action_vi="gửi âm thanh phòng họp", action_en="send room audio")
