"""The app's file stores as the routes reach them, and the headers of a download."""

from __future__ import annotations

import re
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import Request

from meeting_room.access import get_meeting
from meeting_room.api.deps import runtime_of
from meeting_room.files.minutes_files import MinutesFiles
from meeting_room.files.recordings import RecordingFiles
from meeting_room.settings import Settings
from meeting_room.store import Store
from transcripts.text import fold

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def minutes_files(request: Request) -> MinutesFiles:
    return runtime_of(request).minutes_files


def recording_files(request: Request) -> RecordingFiles:
    return runtime_of(request).recordings


def timezone_of(settings: Settings) -> ZoneInfo:
    """The zone the minutes' and transcripts' times are written in."""
    return ZoneInfo(settings.timezone)


def attachment(name: str) -> dict[str, str]:
    """A download under ``name`` (any characters: RFC 6266 ``filename*``)."""
    return {"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"}


def meeting_file(store: Store, meeting_id: str, stem: str, suffix: str, tz: ZoneInfo) -> str:
    """A download's name a clerk can file and find again: what it is, the meeting's day and title, in plain
    ASCII for any mail or chat program ("bien-ban-2026-11-30-phien-hop-thuong-ky-thang-11-da-ky.pdf"); a
    walk-through's clerk got "bien-ban-4649f871-….pdf" for every meeting. Called after the access check."""
    with store.read() as session:
        meeting = get_meeting(session, meeting_id)
        title, starts_at = meeting.title, meeting.starts_at
    slug = "-".join(re.findall(r"[a-z0-9]+", fold(title)))[:60].rstrip("-") or meeting_id
    return f"{stem}-{starts_at.astimezone(tz).date().isoformat()}-{slug}{suffix}"
