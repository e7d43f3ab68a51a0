"""Recordings fetched from the server over HTTPS by a worker that does not share its disk: with a
worker credential, into the worker's own cache, checked against their SHA-256 before use."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import httpx2 as httpx

from meeting_room.errors import AuthenticationError, NotFoundError


class FetchedRecordings:
    def __init__(self, server: str, token: str, cache: Path, *, verify: bool | str = True) -> None:
        self.server = server.rstrip("/")
        self.token = token
        self.cache = cache
        self.verify = verify

    def __call__(self, recording_id: str, sha256: str) -> Path:
        path = self.cache / sha256
        if path.exists():
            return path
        self.cache.mkdir(parents=True, exist_ok=True, mode=0o700)
        part = path.with_suffix(f".{os.getpid()}.part")
        digest = hashlib.sha256()
        headers = {"Authorization": f"Bearer {self.token}"}
        with httpx.Client(verify=self.verify, timeout=120) as client:
            with client.stream("GET", f"{self.server}/api/worker/recordings/{recording_id}", headers=headers) as response:
                if response.status_code == 401:
                    raise AuthenticationError("Máy chủ từ chối khóa máy làm việc", "The server refused the worker credential")
                if response.status_code == 404:
                    raise NotFoundError(
                        f"Máy chủ không cho tải bản ghi {recording_id}", f"The server has no queued recording {recording_id}"
                    )
                response.raise_for_status()
                with open(part, "wb", opener=lambda p, flags: os.open(p, flags, 0o600)) as out:
                    for chunk in response.iter_bytes(1 << 20):
                        digest.update(chunk)
                        out.write(chunk)
        if digest.hexdigest() != sha256:
            part.unlink(missing_ok=True)
            raise NotFoundError(
                f"Bản ghi {recording_id} tải về bị sai lệch", f"The fetched recording {recording_id} does not match its SHA-256"
            )
        part.replace(path)
        return path
