"""A member's voice, enrolled from a short reading so that the transcript can name them."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import numpy as np
from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from hardware.errors import AudioError
from hardware.media import read_all
from meeting_room.api.deps import ActorDep, SettingsDep, StoreDep
from meeting_room.api.routes.schemas import Out
from meeting_room.api.uploads import file_schema as _file_schema
from meeting_room.api.uploads import one_file as _one_file
from meeting_room.files.documents import clean_filename
from meeting_room.files.recordings import ACCEPTED, ACCEPTED_VI
from meeting_room.live import speech_runtime
from meeting_room.services import voices

router = APIRouter(tags=["transcripts"])


class VoiceEnrolledOut(Out):
    voice_id: str
    speech_s: float
    level_db: float


def _decode_upload(upload: UploadFile) -> np.ndarray:
    name = clean_filename(upload.filename, default="ghi-am")
    # the name's extension is FFmpeg's hint when probing is not enough (an MP3 with a large cover image);
    # only audio and video containers are opened whatever it says (hardware.media.FILE_FORMATS)
    suffix = Path(name).suffix if re.fullmatch(r"\.[A-Za-z0-9]{1,8}", Path(name).suffix) else ""
    with tempfile.NamedTemporaryFile(suffix=suffix) as tmp:
        upload.file.seek(0)
        while block := upload.file.read(1 << 20):
            tmp.write(block)
        tmp.flush()
        try:
            return read_all(tmp.name, max_s=600.0)
        except AudioError:
            raise AudioError(
                f"Không đọc được “{name}” như tệp âm thanh. Chấp nhận: {ACCEPTED_VI}",
                f"{name!r} is not an audio file we can read. Accepted: {ACCEPTED}",
                accepted=ACCEPTED,
            ) from None


@router.post(
    "/api/members/{member_id}/voice", status_code=201, openapi_extra=_file_schema("audio", "A reading of 20-60 s (any audio format)")
)
async def enrol_voice(member_id: str, request: Request, store: StoreDep, settings: SettingsDep, actor: ActorDep) -> VoiceEnrolledOut:
    """Enrol the member's voice from a short reading (the member must have consented)."""
    await run_in_threadpool(voices.may_enrol_voice, store, actor, member_id)  # before the upload is read
    upload = await _one_file(request, "audio", ACCEPTED)
    try:
        audio = await run_in_threadpool(_decode_upload, upload)
    finally:
        await upload.close()
    encoder = await run_in_threadpool(speech_runtime.voice_encoder, settings)
    done = await run_in_threadpool(voices.enrol_voice, store, actor, member_id, audio, encoder, speech_runtime.voice_rules(settings))
    return VoiceEnrolledOut.model_validate(done)
