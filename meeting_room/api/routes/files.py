"""The app's file stores as the routes reach them, and the headers of a download."""

from __future__ import annotations

from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import Request

from meeting_room.api.deps import runtime_of
from meeting_room.files.minutes_files import MinutesFiles
from meeting_room.files.recordings import RecordingFiles
from meeting_room.settings import Settings

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
