"""Recordings of a meeting entering the log: uploaded by staff, or assembled by the room itself."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from meeting_room import events as ev
from meeting_room.access import get_meeting
from meeting_room.db import tables as t
from meeting_room.files.documents import clean_filename
from meeting_room.files.recordings import RecordingFiles, StoredRecording
from meeting_room.store import Store


def add_recording(
    store: Store, files: RecordingFiles, actor_id: str | None, meeting_id: str, stored: StoredRecording, filename: str | None
) -> str:
    """Register a stored recording with the meeting; returns its id. ``actor_id`` None: the room."""
    recording_id = str(uuid.uuid4())

    def decide(session: Session) -> ev.EventPayload:
        get_meeting(session, meeting_id)
        return ev.RecordingAdded(
            meeting_id=meeting_id,
            recording_id=recording_id,
            filename=clean_filename(filename, default="ghi-am"),
            sha256=stored.sha256,
            size=stored.size,
            duration_s=round(stored.duration_s, 3),
            channels=stored.channels,
        )

    try:
        store.append(decide, actor_id=actor_id)
    except BaseException:
        # refused after the file was kept (the meeting sealed meanwhile, a role taken away): a file no
        # record names would stay on disk for good, gigabytes of another meeting's audio
        # (whether or not this upload put it there: of two refused uploads of the same bytes, the
        # later placement discards it, the other leaves it to that one)
        with store.read() as session:
            used = session.scalar(select(t.Recording.id).where(t.Recording.sha256 == stored.sha256).limit(1))
        if used is None:
            files.discard(stored.sha256, stored.placement)
        raise
    return recording_id
