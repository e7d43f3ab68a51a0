"""Meeting recordings: any audio (or video) file FFmpeg reads, checked and stored once by content hash."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from hardware.errors import AudioError
from hardware.media import measure_duration, probe
from meeting_room.documents import hashed_upload
from meeting_room.errors import NotFoundError, UploadRejectedError, UploadTooLargeError

# How far the declared length may be from the packets' (encoders round; VBR MP3 estimates).
LENGTH_TOLERANCE_S = 2.0
LENGTH_TOLERANCE = 0.05
ACCEPTED = "WAV, MP3, FLAC, OGG/Opus, M4A/AAC, or a video file with sound (MP4, MKV, WebM)"

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


class RecordingFiles:
    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = root
        self.max_bytes = max_bytes

    def path_of(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def open(self, sha256: str) -> Path:
        path = self.path_of(sha256)
        if not path.is_file():
            raise NotFoundError("Tệp ghi âm không còn trên máy chủ", "The recording file is missing on the server", sha256=sha256)
        return path

    def too_large(self, size: int) -> UploadTooLargeError:
        limit_mb = self.max_bytes // (1 << 20)
        return UploadTooLargeError(
            f"Tệp ghi âm quá lớn (hơn {size / (1 << 20):.0f} MB); giới hạn là {limit_mb} MB",
            f"The recording is too large (over {size / (1 << 20):.0f} MB); the limit is {limit_mb} MB",
            size=size,
            limit=self.max_bytes,
        )

    def ingest(self, source: BinaryIO) -> StoredRecording:
        with hashed_upload(self.root, source, self.max_bytes, self.too_large) as (tmp, sha, size):
            if size == 0:
                raise UploadRejectedError("Tệp rỗng (0 byte)", "The file is empty (0 bytes)", accepted=ACCEPTED)
            try:
                info = probe(tmp)
            except AudioError as exc:
                raise UploadRejectedError(
                    f"Không phải tệp âm thanh đọc được. Chấp nhận: {ACCEPTED}",
                    f"Not a readable audio file. Accepted: {ACCEPTED}",
                    accepted=ACCEPTED,
                    reason=exc.message_en,
                ) from None
            try:
                measured = measure_duration(tmp)
            except AudioError as exc:
                raise UploadRejectedError(exc.message_vi, exc.message_en, accepted=ACCEPTED) from None
            if info.duration_s > 0 and abs(measured - info.duration_s) > max(LENGTH_TOLERANCE_S, LENGTH_TOLERANCE * info.duration_s):
                raise UploadRejectedError(
                    f"Độ dài ghi trong tệp ({info.duration_s:.1f} giây) không khớp với nội dung ({measured:.1f} giây): "
                    "tệp bị cắt hoặc bị sửa",
                    f"The length the file declares ({info.duration_s:.1f} s) disagrees with its content ({measured:.1f} s): "
                    "the file is cut short or altered",
                    accepted=ACCEPTED,
                    declared_s=round(info.duration_s, 3),
                    measured_s=round(measured, 3),
                )
            duration = info.duration_s if info.duration_s > 0 else measured  # a streamed WebM declares none
            if duration <= 0:
                raise UploadRejectedError("Tệp ghi âm không có nội dung (0 giây)", "The recording has no content (0 s)", accepted=ACCEPTED)
            final = self.path_of(sha)
            final.parent.mkdir(exist_ok=True)
            os.replace(tmp, final)
            return StoredRecording(sha, size, duration, info.channels, final)
