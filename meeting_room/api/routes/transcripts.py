"""Transcription passes of a meeting's recordings, the transcript in its formats, and its speakers."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from meeting_room.access import get_meeting, require_view
from meeting_room.api.deps import ActorDep, SettingsDep, StoreDep, runtime_of
from meeting_room.api.routes.files import DOCX, attachment, meeting_file, timezone_of
from meeting_room.api.routes.schemas import Channel, Out
from meeting_room.db import tables as t
from meeting_room.errors import NotFoundError
from meeting_room.live.job_queue import JobState
from meeting_room.live.transcription import TranscriptionJobs
from meeting_room.reads import transcript_reads
from meeting_room.services import transcripts
from meeting_room.text import Name
from speech.export import to_rttm, to_srt, to_vtt
from transcripts.minutes import TranscriptEntry
from transcripts.word import transcript_docx

router = APIRouter(tags=["transcripts"])


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
    status: Literal["live", "queued", "running", "done", "failed", "stopped"] = Field(
        "running", description="What the clerk sees: a final pass waits for a worker (queued), runs, is done, failed or was stopped"
    )
    tries: int = Field(0, description="Tries of the final pass's job begun so far (on a job queue: a retried job counts each try)")
    progress: float | None = Field(None, description="Share of the recording transcribed (0-1), for a final pass")


_ENDED = {"completed": "done", "failed": "failed", "stopped": "stopped"}


def _pass_out(r: t.TranscriptPass, current: str | None, job: JobState | None = None, duration_s: float | None = None) -> PassOut:
    status = _ENDED.get(r.state) or ("live" if r.kind == "live" else job.status if job is not None else "queued")
    if r.state == "running" and status in ("done", "failed", "stopped"):
        status = "running"  # the job has ended and its last event is being written
    progress = None
    if r.kind == "final" and duration_s:
        progress = 1.0 if r.state == "completed" else round(min(1.0, r.progress_s / duration_s), 3)
    return PassOut(
        pass_id=r.id, kind=r.kind, state=r.state, model=r.model, recording_id=r.recording_id, segments=r.segments,
        progress_s=round(r.progress_s, 2), audio_s=r.audio_s, error=r.error, started_at=r.started_at, ended_at=r.ended_at,
        current=r.id == current, status=status, tries=job.tries if job is not None else 0, progress=progress,
    )  # fmt: skip


def jobs_of(request: Request) -> TranscriptionJobs:
    return runtime_of(request).transcription


@router.post("/api/meetings/{meeting_id}/transcription", status_code=202)
def start_transcription(meeting_id: str, body: TranscriptionIn, request: Request, store: StoreDep, actor: ActorDep) -> PassOut:
    """Transcribe a recording with the final model in the background (chair, secretary); lines appear as decoded."""
    pass_id = jobs_of(request).start(actor, meeting_id, body.recording_id, num_speakers=body.num_speakers, channels=body.channels)
    with store.read() as session:
        return _pass_out(session.get_one(t.TranscriptPass, pass_id), None)


@router.get("/api/meetings/{meeting_id}/transcription")
def list_passes(meeting_id: str, request: Request, store: StoreDep, actor: ActorDep) -> list[PassOut]:
    """Transcription passes of the meeting (live and final) with their progress and where each final
    pass stands (queued, running, done, failed with its reason); ``current`` marks the transcript."""
    with store.read() as session:
        require_view(session, actor, get_meeting(session, meeting_id))
        current = transcript_reads.current_pass(session, meeting_id)
        runs = list(transcript_reads.passes(session, meeting_id))
        durations = {r.id: r.duration_s for r in session.scalars(select(t.Recording).where(t.Recording.meeting_id == meeting_id))}
    jobs = jobs_of(request).states([r.id for r in runs if r.kind == "final"])
    return [_pass_out(r, current.id if current else None, jobs.get(r.id), durations.get(r.recording_id or "")) for r in runs]


@router.post("/api/meetings/{meeting_id}/transcription/{pass_id}/stop", status_code=204)
def stop_transcription(meeting_id: str, pass_id: str, request: Request, actor: ActorDep) -> Response:
    """Stop a running final pass (its lines so far stay)."""
    jobs_of(request).stop(actor, meeting_id, pass_id)
    return Response(status_code=204)


# --- the transcript -------------------------------------------------------------------------------


class SpeakerOut(Out):
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


def _pick_pass(session: Session, meeting_id: str, pass_id: str | None) -> t.TranscriptPass | None:
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
    settings: SettingsDep,
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
            if format == "vtt":  # a player's captions, read inline
                return Response(to_vtt(segments), media_type="text/vtt; charset=utf-8")
            named = attachment(meeting_file(store, meeting_id, "loi-phat-bieu", f".{format}", timezone_of(settings)))
            if format == "srt":
                return PlainTextResponse(to_srt(segments), media_type="application/x-subrip; charset=utf-8", headers=named)
            if format == "rttm":
                return PlainTextResponse(to_rttm(segments, meeting_id), headers=named)
            text = "\n".join(f"[{_hms(s.start)}] {s.speaker or '?'}: {s.text}" for s in segments) + "\n"
            return PlainTextResponse(text, headers=named)
        if run is None:
            return TranscriptOut(pass_id=None, kind=None, state=None, speakers=[], lines=[])
        speakers = session.scalars(
            select(t.TranscriptSpeaker).where(t.TranscriptSpeaker.pass_id == run.id).order_by(t.TranscriptSpeaker.cluster)
        )
        return TranscriptOut(
            pass_id=run.id,
            kind=run.kind,
            state=run.state,
            speakers=[SpeakerOut.model_validate(s) for s in speakers],
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


@router.get("/api/meetings/{meeting_id}/transcript.docx", response_class=Response)
def transcript_word(meeting_id: str, store: StoreDep, settings: SettingsDep, actor: ActorDep) -> Response:
    """The meeting's transcript as a Word document, every line with its time and speaker."""
    with store.read() as session:
        meeting = get_meeting(session, meeting_id)
        require_view(session, actor, meeting)
        run = transcript_reads.current_pass(session, meeting_id)
        found = transcript_reads.lines(session, run.id) if run else []
        entries = [TranscriptEntry(line.start, line.speaker or "Chưa rõ người nói", line.text) for line in found]
        title = f"{meeting.title} — {meeting.starts_at:%d/%m/%Y}"
    return Response(
        transcript_docx(title, entries),
        media_type=DOCX,
        headers=attachment(meeting_file(store, meeting_id, "loi-phat-bieu", ".docx", timezone_of(settings))),
    )
