"""Meeting recordings: any audio (or video) file FFmpeg reads, checked and stored once by content hash."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import BinaryIO

from hardware.errors import AudioError
from hardware.media import measure_duration, probe
from meeting_room.errors import UploadRejectedError
from meeting_room.files.file_store import FileStore, Noun

# How far the declared length may be from the packets' (encoders round; VBR MP3 estimates).
LENGTH_TOLERANCE_S = 2.0
LENGTH_TOLERANCE = 0.05
ACCEPTED = "WAV, MP3, FLAC, OGG/Opus, M4A/AAC, or a video file with sound (MP4, MKV, WebM)"
ACCEPTED_VI = "WAV, MP3, FLAC, OGG/Opus, M4A/AAC hoặc tệp video có tiếng (MP4, MKV, WebM)"
# A recording's sound as a microphone makes it: a header may claim any rate, and a 100 KB WAV at
# 1 Hz claims 28 hours that the transcription would resample and decode as noise.
MIN_RATE, MAX_RATE = 8_000, 384_000
MAX_HOURS = 24  # a day's session; longer is a header's claim, not a meeting

# What a recording is served as, by its name's suffix: a player's type, never one a browser runs.
_MEDIA_TYPES = {
    ".wav": "audio/wav", ".mp3": "audio/mpeg", ".flac": "audio/flac", ".ogg": "audio/ogg", ".opus": "audio/ogg",
    ".oga": "audio/ogg", ".m4a": "audio/mp4", ".aac": "audio/aac", ".weba": "audio/webm",
    ".mp4": "video/mp4", ".m4v": "video/mp4", ".webm": "video/webm", ".mkv": "video/x-matroska", ".mov": "video/quicktime",
}  # fmt: skip


def media_type_of(filename: str) -> str:
    """The Content-Type a recording is served with: an audio/video type known by its suffix, else bytes."""
    return _MEDIA_TYPES.get(Path(filename).suffix.lower(), "application/octet-stream")


@dataclass(frozen=True)
class StoredRecording:
    sha256: str
    size: int
    duration_s: float
    channels: int
    path: Path
    new: bool = True  # this upload put it on disk (the same bytes may be another meeting's recording)
    placement: int = 0  # this upload's placement of the file (``Kept.placement``)


class RecordingFiles(FileStore):
    """Meeting recordings: any file FFmpeg reads as audio, kept under its bare hash (the type is in its record)."""

    def __init__(self, root: Path, max_bytes: int) -> None:
        super().__init__(root, max_bytes, noun=Noun("Tệp ghi âm", "recording file"), accepted=ACCEPTED)

    def ingest(self, source: BinaryIO, *, uploaded: bool = True) -> StoredRecording:
        """Copy an upload in while hashing it; keep it only if its audio reads whole and within the limit.
        ``uploaded=False``: the room's own recording, of however long the meeting stayed open (a session
        adjourned overnight is more than a day), which no header makes up."""
        kept, (duration, channels) = self.add(source, partial(_check_audio, max_hours=MAX_HOURS if uploaded else None))
        return StoredRecording(kept.sha256, kept.size, duration, channels, kept.path, kept.new, kept.placement)


def _check_audio(path: Path, *, max_hours: float | None) -> tuple[float, int]:
    """The recording's length and channels; ``UploadRejectedError`` if it is not audio, or not whole."""
    try:
        info = probe(path)
    except AudioError:
        raise UploadRejectedError(  # (FFmpeg's reason names the temporary copy, not the user's file: left out)
            f"Không phải tệp âm thanh đọc được. Chấp nhận: {ACCEPTED_VI}",
            f"Not a readable audio file. Accepted: {ACCEPTED}",
            accepted=ACCEPTED,
        ) from None
    if not MIN_RATE <= info.sample_rate <= MAX_RATE:
        raise UploadRejectedError(
            f"Tần số lấy mẫu {info.sample_rate} Hz không phải của một bản ghi âm; chấp nhận {MIN_RATE}–{MAX_RATE} Hz",
            f"A sample rate of {info.sample_rate} Hz is not a recording's; accepted: {MIN_RATE}-{MAX_RATE} Hz",
            accepted=ACCEPTED,
            sample_rate=info.sample_rate,
        )
    try:
        measured = measure_duration(path)
    except AudioError as exc:
        raise UploadRejectedError(exc.message_vi, exc.message_en, accepted=ACCEPTED) from None
    if measured <= 0:  # whatever the header declares (a WAV of 0 channels declares a second and holds nothing)
        raise UploadRejectedError("Tệp ghi âm không có nội dung (0 giây)", "The recording has no content (0 s)", accepted=ACCEPTED)
    if info.duration_s > 0 and abs(measured - info.duration_s) > max(LENGTH_TOLERANCE_S, LENGTH_TOLERANCE * info.duration_s):
        raise UploadRejectedError(
            f"Độ dài ghi trong tệp ({info.duration_s:.1f} giây) không khớp với nội dung ({measured:.1f} giây): tệp bị cắt hoặc bị sửa",
            f"The length the file declares ({info.duration_s:.1f} s) disagrees with its content ({measured:.1f} s): "
            "the file is cut short or altered",
            accepted=ACCEPTED,
            declared_s=round(info.duration_s, 3),
            measured_s=round(measured, 3),
        )
    duration = info.duration_s if info.duration_s > 0 else measured  # a streamed WebM declares none
    if max_hours is not None and duration > max_hours * 3600:
        raise UploadRejectedError(
            f"Bản ghi dài {duration / 3600:.1f} giờ, quá {max_hours:g} giờ; hãy cắt thành từng buổi",
            f"The recording lasts {duration / 3600:.1f} h, over {max_hours:g} h; split it by session",
            accepted=ACCEPTED,
            duration_s=round(duration, 1),
        )
    return duration, info.channels
