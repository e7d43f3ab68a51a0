"""Worker credentials: the key a transcription worker on another machine shows the server to fetch
the recordings of queued final passes, and nothing else. The administrator makes one per worker
(``meeting-room worker-credential create``); only its SHA-256 is kept; revoking it is immediate."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, select

from meeting_room.db import tables as t
from meeting_room.errors import AuthenticationError, InvalidInputError, NotFoundError
from meeting_room.store import Store

PREFIX = "mrw_"  # a worker key is recognisable in a configuration file


@dataclass(frozen=True)
class Credential:
    id: str
    name: str
    created_at: datetime
    revoked_at: datetime | None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create(store: Store, name: str) -> tuple[str, str]:
    """A new worker credential; returns (its id, the key: shown once, never stored)."""
    name = name.strip()
    if not name or len(name) > 255:
        raise InvalidInputError("Cần tên máy làm việc (1–255 ký tự)", "Give the worker a name (1-255 characters)", field="name")
    token = PREFIX + secrets.token_urlsafe(32)
    credential_id = str(uuid.uuid4())
    with store.exclusive() as session:
        session.add(t.WorkerCredential(id=credential_id, name=name, token_hash=_digest(token), created_at=store.now()))
    return credential_id, token


def revoke(store: Store, credential_id: str) -> None:
    with store.exclusive() as session:
        row = session.get(t.WorkerCredential, credential_id)
        if row is None:
            raise NotFoundError(f"Không có khóa máy làm việc {credential_id}", f"No worker credential {credential_id}", id=credential_id)
        if row.revoked_at is None:
            row.revoked_at = store.now()


def listed(store: Store) -> list[Credential]:
    with store.read() as session:
        rows = session.scalars(select(t.WorkerCredential).order_by(t.WorkerCredential.created_at))
        return [Credential(r.id, r.name, r.created_at, r.revoked_at) for r in rows]


def queued_recording(store: Store, token: str | None, recording_id: str) -> t.Recording:
    """The recording a worker may fetch: its key is valid and not revoked, and a final pass of that
    recording is still running (queued or under way). Anything else is refused alike."""
    refused = AuthenticationError("Khóa máy làm việc không hợp lệ hoặc đã bị thu hồi", "Invalid or revoked worker credential")
    if not token:
        raise refused
    with store.read() as session:
        valid = session.scalar(
            select(t.WorkerCredential.id).where(t.WorkerCredential.token_hash == _digest(token), t.WorkerCredential.revoked_at.is_(None))
        )
        if valid is None:
            raise refused
        queued = session.scalar(
            select(
                exists().where(
                    t.TranscriptPass.recording_id == recording_id, t.TranscriptPass.kind == "final", t.TranscriptPass.state == "running"
                )
            )
        )
        recording = session.get(t.Recording, recording_id)
        if not queued or recording is None:
            raise NotFoundError(
                f"Không có bản ghi {recording_id} đang chờ phiên âm", f"No recording {recording_id} waiting for transcription",
                recording_id=recording_id,
            )  # fmt: skip
        return recording
