"""Speech: voice activity detection, Whisper ASR, diarization and voiceprints.

A domain package: it never imports ``meeting_room`` and never reads settings or environment
variables; the application passes everything it needs as explicit arguments.
"""

from speech.errors import SpeechError

__all__ = ["SpeechError"]
