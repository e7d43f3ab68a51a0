"""The one error hierarchy of the ``transcripts`` package.

Every error is a ``transcripts.bilingual.BilingualError``: a Vietnamese message (shown first), an
English one, a stable code, details and the HTTP status its meaning calls for (inherited unless
set).
"""

from __future__ import annotations

from transcripts.bilingual import BilingualError


class TranscriptError(BilingualError):
    """Base class of every error raised by ``transcripts``."""

    code = "transcript_error"


class MinutesError(TranscriptError):
    """The minutes' content cannot be accepted (empty, too long, unprintable)."""

    code = "invalid_minutes"


class FontError(TranscriptError):
    """The Vietnamese fonts the documents need are not installed."""

    code = "fonts_missing"


class SigningError(TranscriptError):
    """A certificate or key cannot be used to sign (wrong passphrase, expired, not a PKCS#12)."""

    code = "signing_failed"


class WrongSecretError(SigningError):
    """The passphrase of a PKCS#12 or the PIN of a token is wrong (a guess, to be slowed like a log-in's)."""


class SignatureCheckError(TranscriptError):
    """A file that is not a PDF, or a PDF without any signature to check."""

    code = "not_signed_pdf"


class ArchiveError(TranscriptError):
    """An archive cannot be written (already sealed, a file missing)."""

    code = "archive_error"


class SearchQueryError(TranscriptError):
    """A search query that cannot be run (empty, unbalanced quotes, too long)."""

    code = "invalid_query"


class SignatureImageError(TranscriptError):
    """An uploaded signature or seal image we do not accept (not a PNG, no transparency, wrong size)."""

    code = "invalid_signature_image"


class SignatureImageTooLargeError(SignatureImageError):
    """A signature or seal image file over the size limit."""

    code = "signature_image_too_large"


class SignatureRefusedError(SignatureCheckError):
    """A PDF signed elsewhere that cannot be accepted: not the file handed out, a broken signature, another certificate."""

    code = "signature_refused"
