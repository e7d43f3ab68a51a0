"""Voice enrolment, meeting recordings, transcription passes, the transcript and live captions."""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Literal

from fastapi import APIRouter, Query, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import FileResponse, PlainTextResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from hardware.errors import AudioError
from hardware.media import read_all
from meeting_room import speech_runtime, transcript_reads
from meeting_room.access import Actor, get_meeting, require_staff, require_view
from meeting_room.api.deps import ActorDep, SettingsDep, StoreDep, current_actor, get_store, live_of, token_of
from meeting_room.api.errors import status_of
from meeting_room.api.routes.schemas import Channel
from meeting_room.api.uploads import file_schema as _file_schema
from meeting_room.api.uploads import one_file as _one_file
from meeting_room.db import tables as t
from meeting_room.documents import clean_filename
from meeting_room.errors import ConflictError, MeetingRoomError, NotFoundError
from meeting_room.live_captions import AudioSource, LiveCaptions
from meeting_room.recordings import ACCEPTED, RecordingFiles, media_type_of
from meeting_room.services import recordings, transcripts, voices
from meeting_room.store import Store
from meeting_room.text import Name
from meeting_room.transcription import TranscriptionJobs
from speech.export import to_rttm, to_srt, to_vtt

router = APIRouter(tags=["transcripts"])
_CLOSE_CODES = {401: 4401, 403: 4403, 404: 4404, 409: 4409}


# --- voice enrolment ------------------------------------------------------------------------------


class VoiceEnrolledOut(BaseModel):
    voice_id: str
    speech_s: float
    level_db: float


def _decode_upload(upload: UploadFile) -> object:
    name = clean_filename(upload.filename)
    with tempfile.NamedTemporaryFile(suffix=Path(name).suffix[:10]) as tmp:
        upload.file.seek(0)
        while block := upload.file.read(1 << 20):
            tmp.write(block)
        tmp.flush()
        try:
            return read_all(tmp.name, max_s=600.0)
        except AudioError:
            raise AudioError(
                f"Không đọc được “{name}” như tệp âm thanh. Chấp nhận: {ACCEPTED}",
                f"{name!r} is not an audio file we can read. Accepted: {ACCEPTED}",
                accepted=ACCEPTED,
            ) from None


@router.post(
    "/api/members/{member_id}/voice", status_code=201, openapi_extra=_file_schema("audio", "A reading of 20-60 s (any audio format)")
)
async def enrol_voice(member_id: str, request: Request, store: StoreDep, settings: SettingsDep, actor: ActorDep) -> VoiceEnrolledOut:
    """Enrol the member's voice from a short reading (the member must have consented)."""
    await run_in_threadpool(voices.may_enrol_voice, store, actor, member_id)  # before the upload is read
    upload = await _one_file(request, "audio", "WAV, MP3, OGG, M4A…")
    try:
        audio = await run_in_threadpool(_decode_upload, upload)
    finally:
        await upload.close()
    encoder = await run_in_threadpool(speech_runtime.voice_encoder, settings)
    done = await run_in_threadpool(voices.enrol_voice, store, actor, member_id, audio, encoder, speech_runtime.voice_rules(settings))
    return VoiceEnrolledOut(voice_id=done.voice_id, speech_s=done.speech_s, level_db=done.level_db)


# --- recordings -----------------------------------------------------------------------------------


class RecordingOut(BaseModel):
    recording_id: str
    filename: str
    size: int
    duration_s: float
    channels: int
    sha256: str
    added_at: datetime


def _recording_out(r: t.Recording) -> RecordingOut:
    return RecordingOut(
        recording_id=r.id,
        filename=r.filename,
        size=r.size,
        duration_s=r.duration_s,
        channels=r.channels,
        sha256=r.sha256,
        added_at=r.added_at,
    )


def recording_files(request: Request) -> RecordingFiles:
    return request.app.state.recordings  # type: ignore[no-any-return]


def _add_recording(store: Store, actor: Actor, meeting_id: str, files: RecordingFiles, upload: UploadFile) -> RecordingOut:
    with store.read() as session:
        meeting = get_meeting(session, meeting_id)
        require_staff(session, actor, meeting, action_vi="tải lên bản ghi", action_en="upload a recording")
    clean_filename(upload.filename)  # a bad name is refused before anything is stored
    upload.file.seek(0)
    stored = files.ingest(upload.file)
    recording_id = recordings.add_recording(store, actor.member_id, meeting_id, stored, upload.filename)
    with store.read() as session:
        return _recording_out(session.get_one(t.Recording, recording_id))


@router.post("/api/meetings/{meeting_id}/recordings", status_code=201, openapi_extra=_file_schema("file", "The meeting's audio or video"))
async def upload_recording(meeting_id: str, request: Request, store: StoreDep, actor: ActorDep) -> RecordingOut:
    """Upload a recording of the meeting (chair, secretary): any audio, or a video with sound."""
    upload = await _one_file(request, "file", "WAV, MP3, FLAC, OGG/Opus, M4A, MP4…")
    try:
        return await run_in_threadpool(_add_recording, store, actor, meeting_id, recording_files(request), upload)
    finally:
        await upload.close()


@router.get("/api/meetings/{meeting_id}/recordings")
def list_recordings(meeting_id: str, store: StoreDep, actor: ActorDep) -> list[RecordingOut]:
    """The meeting's recordings."""
    with store.read() as session:
        require_view(session, actor, get_meeting(session, meeting_id))
        rows = session.scalars(select(t.Recording).where(t.Recording.meeting_id == meeting_id).order_by(t.Recording.added_at))
        return [_recording_out(r) for r in rows]


@router.get("/api/meetings/{meeting_id}/recordings/{recording_id}/file", response_class=FileResponse)
def recording_file(meeting_id: str, recording_id: str, request: Request, store: StoreDep, actor: ActorDep) -> FileResponse:
    """The recording itself (supports HTTP Range, so a player can jump to a transcript line)."""
    with store.read() as session:
        require_view(session, actor, get_meeting(session, meeting_id))
        r = session.get(t.Recording, recording_id)
        if r is None or r.meeting_id != meeting_id:
            raise NotFoundError(f"Không có bản ghi {recording_id}", f"No recording {recording_id}", recording_id=recording_id)
    return FileResponse(recording_files(request).open(r.sha256), media_type=media_type_of(r.filename), filename=r.filename)


# --- transcription passes -------------------------------------------------------------------------


class TranscriptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    recording_id: str
    num_speakers: int | None = Field(None, ge=1, le=64)
    channels: dict[Channel, str] | None = Field(None, description="Microphone channel -> member id, when each seat has its own")


class PassOut(BaseModel):
    pass_id: str
    kind: str
    state: str
    model: str
    recording_id: str | None
    segments: int
    progress_s: float
    audio_s: float
    error: str | None
    started_at: datetime
    ended_at: datetime | None
    current: bool = False


def _pass_out(r: t.TranscriptPass, current: str | None) -> PassOut:
    return PassOut(
        pass_id=r.id, kind=r.kind, state=r.state, model=r.model, recording_id=r.recording_id, segments=r.segments,
        progress_s=round(r.progress_s, 2), audio_s=r.audio_s, error=r.error, started_at=r.started_at, ended_at=r.ended_at,
        current=r.id == current,
    )  # fmt: skip


def jobs_of(request: Request) -> TranscriptionJobs:
    return request.app.state.transcription  # type: ignore[no-any-return]


@router.post("/api/meetings/{meeting_id}/transcription", status_code=202)
def start_transcription(meeting_id: str, body: TranscriptionIn, request: Request, store: StoreDep, actor: ActorDep) -> PassOut:
    """Transcribe a recording with the final model in the background (chair, secretary); lines appear as decoded."""
    pass_id = jobs_of(request).start(actor, meeting_id, body.recording_id, num_speakers=body.num_speakers, channels=body.channels)
    with store.read() as session:
        return _pass_out(session.get_one(t.TranscriptPass, pass_id), None)


@router.get("/api/meetings/{meeting_id}/transcription")
def list_passes(meeting_id: str, store: StoreDep, actor: ActorDep) -> list[PassOut]:
    """Transcription passes of the meeting (live and final) with their progress; ``current`` marks the transcript."""
    with store.read() as session:
        require_view(session, actor, get_meeting(session, meeting_id))
        current = transcript_reads.current_pass(session, meeting_id)
        return [_pass_out(r, current.id if current else None) for r in transcript_reads.passes(session, meeting_id)]


@router.post("/api/meetings/{meeting_id}/transcription/{pass_id}/stop", status_code=204)
def stop_transcription(meeting_id: str, pass_id: str, request: Request, actor: ActorDep) -> Response:
    """Stop a running final pass (its lines so far stay)."""
    jobs_of(request).stop(actor, meeting_id, pass_id)
    return Response(status_code=204)


# --- the transcript -------------------------------------------------------------------------------


class SpeakerOut(BaseModel):
    cluster: str
    name: str
    member_id: str | None
    score: float | None
    source: str


class TranscriptOut(BaseModel):
    pass_id: str | None
    kind: str | None
    state: str | None
    speakers: list[SpeakerOut]
    lines: list[transcript_reads.Line]  # the read model's dataclass: one definition of a transcript line


def _pick_pass(session, meeting_id: str, pass_id: str | None) -> t.TranscriptPass | None:  # type: ignore[no-untyped-def]
    if pass_id is None:
        return transcript_reads.current_pass(session, meeting_id)
    run = session.get(t.TranscriptPass, pass_id)
    if run is None or run.meeting_id != meeting_id:
        raise NotFoundError(f"Không có lượt phiên âm {pass_id}", f"No transcription pass {pass_id}", pass_id=pass_id)
    return run


@router.get("/api/meetings/{meeting_id}/transcript", response_model=None)
def get_transcript(
    meeting_id: str,
    store: StoreDep,
    actor: ActorDep,
    pass_id: str | None = None,
    format: Literal["json", "vtt", "srt", "rttm", "txt"] = "json",  # noqa: A002
) -> TranscriptOut | Response:
    """The meeting's transcript (the final pass when there is one, else the live draft) as JSON,
    WebVTT, SRT, RTTM or plain text, every line with its speaker."""
    with store.read() as session:
        require_view(session, actor, get_meeting(session, meeting_id))
        run = _pick_pass(session, meeting_id, pass_id)
        if format != "json":
            segments = list(transcript_reads.as_segments(session, run.id)) if run else []
            if format == "vtt":
                return Response(to_vtt(segments), media_type="text/vtt; charset=utf-8")
            if format == "srt":
                return PlainTextResponse(to_srt(segments), media_type="application/x-subrip; charset=utf-8")
            if format == "rttm":
                return PlainTextResponse(to_rttm(segments, meeting_id))
            return PlainTextResponse("\n".join(f"[{_hms(s.start)}] {s.speaker or '?'}: {s.text}" for s in segments) + "\n")
        if run is None:
            return TranscriptOut(pass_id=None, kind=None, state=None, speakers=[], lines=[])
        speakers = session.scalars(
            select(t.TranscriptSpeaker).where(t.TranscriptSpeaker.pass_id == run.id).order_by(t.TranscriptSpeaker.cluster)
        )
        return TranscriptOut(
            pass_id=run.id,
            kind=run.kind,
            state=run.state,
            speakers=[SpeakerOut(cluster=s.cluster, name=s.name, member_id=s.member_id, score=s.score, source=s.source) for s in speakers],
            lines=transcript_reads.lines(session, run.id),
        )


def _hms(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


class RelabelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    member_id: str | None = None
    name: Name | None = None


@router.put("/api/meetings/{meeting_id}/transcript/{pass_id}/speakers/{cluster}", status_code=204)
def relabel_speaker(meeting_id: str, pass_id: str, cluster: str, body: RelabelIn, store: StoreDep, actor: ActorDep) -> Response:
    """Name a speaker (chair, secretary): a member, or a free name; every line of the speaker follows."""
    transcripts.relabel(store, actor, meeting_id, pass_id, cluster, member_id=body.member_id, name=body.name)
    return Response(status_code=204)


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
    return conn.app.state.captions  # type: ignore[no-any-return]


@router.post("/api/meetings/{meeting_id}/live/start")
def start_live(meeting_id: str, body: LiveIn, request: Request, actor: ActorDep) -> LiveOut:
    """Start live captions for the meeting (chair, secretary); audio then arrives on the audio WebSocket or a replay."""
    return LiveOut(pass_id=captions_of(request).start(actor, meeting_id, body.channels))


@router.post("/api/meetings/{meeting_id}/live/stop")
def stop_live(meeting_id: str, request: Request, actor: ActorDep) -> LiveOut:
    """Stop live captions: what is being said is finished, the live pass is closed."""
    return LiveOut(pass_id=captions_of(request).stop(actor, meeting_id))


@router.post("/api/meetings/{meeting_id}/live/replay", status_code=202)
def replay_recording(meeting_id: str, body: ReplayIn, request: Request, store: StoreDep, actor: ActorDep) -> LiveOut:
    """Play a stored recording into the live captions at real-time pace (``speed`` faster), as a room microphone would."""
    captions = captions_of(request)
    pass_id = captions.start(actor, meeting_id)
    with store.read() as session:
        r = session.get(t.Recording, body.recording_id)
        if r is None or r.meeting_id != meeting_id:
            raise NotFoundError(
                f"Không có bản ghi {body.recording_id}", f"No recording {body.recording_id}", recording_id=body.recording_id
            )
    path = recording_files(request).open(r.sha256)
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
    async with live_of(ws).watching(token, actor) as live:
        await ws.send_json({"kind": "ready", "sample_rate": 16000, "format": "s16le", "channels": 1})
        try:
            while True:
                message = await live.receive(ws)
                if message is None or message["type"] == "websocket.disconnect":
                    break
                data = message.get("bytes")
                if not data:
                    continue
                try:
                    captions.feed_pcm16(meeting_id, sender, data)
                except ValueError as exc:
                    await ws.send_json(
                        {"kind": "error", "error": {"code": "invalid_audio", "message": "Dữ liệu PCM16 lẻ byte", "message_en": str(exc)}}
                    )
                    continue
                except MeetingRoomError:
                    break  # captions were stopped
        except WebSocketDisconnect:
            pass
        finally:
            with contextlib.suppress(Exception):
                await asyncio.get_running_loop().run_in_executor(None, captions.end_source, meeting_id, sender)
            if live.ending is not None:  # the sender's session ended: no more audio under their name
                with contextlib.suppress(Exception):
                    await ws.send_json({"kind": "error", "error": live.ending.error()})
                await live.close(ws)


def _check_sender(store: Store, actor: Actor, meeting_id: str, remote: bool) -> None:
    with store.read() as session:
        meeting = get_meeting(session, meeting_id)
        if remote:
            require_view(session, actor, meeting)
            if session.get(t.Participant, (meeting_id, actor.member_id)) is None:
                raise NotFoundError("Bạn không dự cuộc họp này", "You are not a participant of this meeting")
        else:
            require_staff(session, actor, meeting, action_vi="gửi âm thanh phòng họp", action_en="send room audio")
