"""Transcripts: the transcript model, exports, minutes PDF, signing, archive and search.

A domain package: it never imports ``meeting_room`` and never reads settings or environment
variables; the application passes everything it needs as explicit arguments.
"""

from transcripts.errors import TranscriptError

__all__ = ["TranscriptError"]
