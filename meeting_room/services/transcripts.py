"""A meeting's transcript: passes (live, then final), their speakers and lines, relabelling.

Every line enters the log as a ``transcript.segment`` event of a pass. The live pass holds the
captions spoken during the meeting; a final pass re-transcribes the recording with the better
model afterwards and, once completed, is the meeting's transcript (the live one stays in the log
as the draft). A speaker is a cluster of a pass: renaming it renames every line of the cluster.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from meeting_room import events as ev
from meeting_room.access import Actor, get_meeting, require_staff, require_view
from meeting_room.chain import StoredEvent
from meeting_room.db import tables as t
from meeting_room.errors import ConflictError, InvalidInputError, NotFoundError
from meeting_room.lifecycle import MeetingState
from meeting_room.store import Store
from speech.speakers import SpeakerLabel
from speech.transcript import Segment


def new_pass(store: Store, meeting_id: str, kind: str, model: str, *, recording_id: str | None = None,
             diarization: str | None = None, actor_id: str | None = None,
             while_states: Collection[MeetingState] | None = None) -> str:  # fmt: skip
    """A new pass; ``while_states``: only while the meeting is in one of them, checked in the decision itself
    (live captions checked before, and a close in between left a live pass running on a closed meeting)."""
    pass_id = str(uuid.uuid4())

    def decide(session: Session) -> ev.EventPayload:
        meeting = get_meeting(session, meeting_id)
        if while_states is not None and MeetingState(meeting.state) not in while_states:
            state = MeetingState(meeting.state)
            raise ConflictError(
                f"Cuộc họp đang ở trạng thái “{state.label_vi}”: không bắt đầu phiên âm trực tiếp được",
                f"The meeting is {state}: a live transcription cannot start",
                state=state.value,
            )
        return ev.TranscriptPassStarted(
            meeting_id=meeting_id, pass_id=pass_id, kind=kind, model=model, recording_id=recording_id, diarization=diarization
        )

    store.append(decide, actor_id=actor_id)
    return pass_id


def spec_of(label: SpeakerLabel, source: str) -> ev.SpeakerSpec:
    return ev.SpeakerSpec(cluster=label.cluster, name=label.name, member_id=label.member_id, score=label.score, source=source)


def add_speakers(store: Store, meeting_id: str, pass_id: str, speakers: list[ev.SpeakerSpec]) -> None:
    if speakers:

        def decide(session: Session) -> ev.EventPayload:
            _running(session, pass_id)
            return ev.TranscriptSpeakers(meeting_id=meeting_id, pass_id=pass_id, speakers=speakers)

        store.append(decide)


def add_segment(store: Store, meeting_id: str, pass_id: str, segment: Segment, cluster: str | None) -> StoredEvent | None:
    """Append one line to a running pass. A final pass's line has a key made of where it lies (channel,
    speaker, start, end): the same line decoded again (a job retried by another worker while the first
    one was still writing) is not appended twice; then None."""
    words = [(round(w.start, 3), round(w.end, 3), w.text, round(w.probability, 4)) for w in segment.words]
    start = round(max(0.0, segment.start), 3)
    end = round(max(segment.start, segment.end, 0.0), 3)

    def decide(session: Session) -> list[ev.EventPayload]:
        run = _running(session, pass_id)
        segment_id = str(uuid.uuid4())
        if run.kind == "final":
            segment_id = str(uuid.uuid5(_LINE_KEYS, f"{pass_id}/{segment.channel}/{cluster}/{start:.3f}/{end:.3f}"))
            if session.get(t.TranscriptLine, segment_id) is not None:
                return []
        return [
            ev.TranscriptSegment(
                meeting_id=meeting_id,
                pass_id=pass_id,
                segment_id=segment_id,
                start=start,
                end=end,
                text=segment.text,
                cluster=cluster,
                channel=segment.channel,
                confidence=round(segment.confidence, 4),
                words=words,
            )
        ]

    stored = store.append_all(decide)
    return stored[0] if stored else None


_LINE_KEYS = uuid.UUID("6d1f3c2e-8a41-4f0b-9c55-2f1e7b0a9d13")  # namespace of the final passes' line keys


def _running(session: Session, pass_id: str) -> t.TranscriptPass:
    run = session.get(t.TranscriptPass, pass_id)
    if run is None or run.state != "running":
        raise ConflictError("Lượt phiên âm đã kết thúc", "The transcription pass has already ended", pass_id=pass_id)
    return run


def end_pass(store: Store, meeting_id: str, pass_id: str, state: str, audio_s: float = 0.0, error: str | None = None) -> None:
    def decide(session: Session) -> ev.EventPayload:
        run = _running(session, pass_id)
        return ev.TranscriptPassEnded(
            meeting_id=meeting_id, pass_id=pass_id, state=state, segments=run.segments, audio_s=round(audio_s, 3), error=error
        )

    store.append(decide)


def relabel(store: Store, actor: Actor, meeting_id: str, pass_id: str, cluster: str, *, member_id: str | None = None,
            name: str | None = None) -> None:  # fmt: skip
    """Name a speaker (a member, or any name such as "Khách mời: ông A"); every line of the cluster follows."""

    def decide(session: Session) -> ev.EventPayload:
        meeting = get_meeting(session, meeting_id)
        require_staff(session, actor, meeting, action_vi="đặt tên người nói", action_en="name speakers")
        run = session.get(t.TranscriptPass, pass_id)
        if run is None or run.meeting_id != meeting_id:
            raise NotFoundError(f"Không có lượt phiên âm {pass_id}", f"No transcription pass {pass_id}", pass_id=pass_id)
        known = session.get(t.TranscriptSpeaker, (pass_id, cluster)) is not None or session.scalar(
            select(t.TranscriptLine.id).where(t.TranscriptLine.pass_id == pass_id, t.TranscriptLine.cluster == cluster).limit(1)
        )
        if not known:
            raise NotFoundError(f"Không có người nói {cluster} trong lượt này", f"No speaker {cluster} in this pass", cluster=cluster)
        label = name
        if member_id is not None:  # a participant of this meeting, named as the register has them (not another name)
            member = session.get(t.Member, member_id)
            if member is None or session.get(t.Participant, (meeting_id, member_id)) is None:
                raise NotFoundError(
                    f"{member_id} không có trong danh sách dự họp: chọn một người dự họp, hoặc nhập tên người khác",
                    f"{member_id} is not a participant: choose a participant, or type another person's name",
                    member_id=member_id,
                )
            label = member.full_name
        if not label:
            raise InvalidInputError(
                "Cần chọn thành viên hoặc nhập tên người nói", "Give a member_id or a name", accepted=["member_id", "name"]
            )
        return ev.SpeakerRelabelled(meeting_id=meeting_id, pass_id=pass_id, cluster=cluster, name=label, member_id=member_id)

    store.append(decide, actor_id=actor.member_id)


def viewable(store: Store, actor: Actor, meeting_id: str) -> None:
    with store.read() as session:
        require_view(session, actor, get_meeting(session, meeting_id))
