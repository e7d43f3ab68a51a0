"""The one error hierarchy of the ``transcripts`` package.

Every error carries a Vietnamese message (shown first), an English one and details; the
application maps the classes to HTTP codes.
"""

from __future__ import annotations

from typing import Any


class TranscriptError(Exception):
    """Base class of every error raised by ``transcripts``."""

    code = "transcript_error"

    def __init__(self, message_vi: str, message_en: str, **details: Any) -> None:
        super().__init__(f"{message_vi} / {message_en}")
        self.message_vi = message_vi
        self.message_en = message_en
        self.details = details


class MinutesError(TranscriptError):
    """The minutes' content cannot be accepted (empty, too long, unprintable)."""

    code = "invalid_minutes"


class FontError(TranscriptError):
    """The Vietnamese fonts the documents need are not installed."""

    code = "fonts_missing"


class SigningError(TranscriptError):
    """A certificate or key cannot be used to sign (wrong passphrase, expired, not a PKCS#12)."""

    code = "signing_failed"


class SignatureCheckError(TranscriptError):
    """A file that is not a PDF, or a PDF without any signature to check."""

    code = "not_signed_pdf"


class ArchiveError(TranscriptError):
    """An archive cannot be written (already sealed, a file missing)."""

    code = "archive_error"


class SearchQueryError(TranscriptError):
    """A search query that cannot be run (empty, unbalanced quotes, too long)."""

    code = "invalid_query"
