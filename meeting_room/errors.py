"""The one error hierarchy of the ``meeting_room`` application.

Every error is a ``transcripts.bilingual.BilingualError``: a Vietnamese message (shown first), an
English one, a stable code, details and the HTTP status its meaning calls for (inherited unless
set). ``meeting_room.api.errors`` is the one place that turns them into responses.
"""

from __future__ import annotations

import copy
from typing import Any, TypeVar

from meeting_room.validation_text import describe
from transcripts.bilingual import BilingualError

E = TypeVar("E", bound=BaseException)


def own_copy(exc: E) -> E:
    """The same error as a new object with the original's cause and traceback, so that each of many
    callers given one failure raises (and logs) its own; the error itself if it cannot be copied."""
    try:
        twin = copy.copy(exc)
    except Exception:
        return exc
    twin.__cause__, twin.__suppress_context__ = exc.__cause__, exc.__suppress_context__
    return twin.with_traceback(exc.__traceback__)


class MeetingRoomError(BilingualError):
    """Base class: a message in Vietnamese and in English, a stable code and details."""

    code = "error"


class SettingsError(MeetingRoomError):
    """The configuration is invalid; the server refuses to start."""

    code = "invalid_settings"


class NotFoundError(MeetingRoomError):
    """An id that names nothing."""

    code = "not_found"


class ConflictError(MeetingRoomError):
    """The request is valid but clashes with the current state."""

    code = "conflict"


class InvalidTransitionError(ConflictError):
    """A lifecycle transition that is not allowed from the current state."""

    code = "invalid_transition"


class SealedError(ConflictError):
    """The meeting's archive is sealed: its record can no longer change."""

    code = "meeting_sealed"


class InvalidInputError(MeetingRoomError):
    """A value that is well-formed JSON but not acceptable."""

    code = "invalid_input"


class UploadRejectedError(InvalidInputError):
    """An uploaded file of the wrong kind."""

    code = "upload_rejected"


class UploadTooLargeError(UploadRejectedError):
    """An uploaded file over the configured limit."""

    code = "upload_too_large"


class ImportFileError(InvalidInputError):
    """A member list that cannot be read as a whole (empty, too big, wrong format, no header)."""

    code = "import_file_invalid"


class ImportRowsError(InvalidInputError):
    """A member list with bad rows: ``details["problems"]`` names each one; nothing was stored."""

    code = "import_rows_invalid"


class AuthenticationError(MeetingRoomError):
    """No valid credentials: the caller must log in."""

    code = "authentication_required"


class MeetingEndedError(AuthenticationError):
    """A link that opened one meeting (an invitation, a hall display) after that meeting ended."""

    code = "meeting_ended"


class TooManyAttemptsError(AuthenticationError):
    """Too many failed log-ins; wait ``retry_after`` seconds."""

    code = "too_many_attempts"


class TooManyConnectionsError(MeetingRoomError):
    """A session or a member holds as many live pages of meetings as one may; close one first."""

    code = "too_many_connections"


class StillRunningError(MeetingRoomError):
    """The same person's earlier request of this kind is still being worked on; ``retry_after`` seconds."""

    code = "still_running"


class PermissionDeniedError(MeetingRoomError):
    """Valid credentials, but the role or meeting membership does not allow this."""

    code = "permission_denied"


class PasswordChangeRequiredError(PermissionDeniedError):
    """The session was opened with a temporary password: it must be changed before anything else."""

    code = "password_change_required"


class ChainError(MeetingRoomError):
    """The event log's hash chain is broken."""

    code = "chain_broken"


def from_validation(exc: Any) -> InvalidInputError:
    """A pydantic ``ValidationError`` raised while building a domain value, as an ``InvalidInputError``."""
    vi, en, fields = describe(exc.errors())
    return InvalidInputError(f"Dữ liệu không hợp lệ — {vi}", f"Invalid value — {en}", fields=fields)


class BackupError(MeetingRoomError):
    """A backup cannot be made, or a backup is incomplete, altered or cannot be restored here."""

    code = "backup_failed"


class DiskFullError(MeetingRoomError):
    """The data directory's disk (or the database's) is full: nothing was saved."""

    code = "disk_full"


class DatabaseDamagedError(MeetingRoomError):
    """The database file is damaged (not a database, truncated, failed integrity check)."""

    code = "database_damaged"
