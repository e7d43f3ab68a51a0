"""A recording whose record is refused after its file was kept leaves no file behind, unless another
record names the same bytes; a sealed meeting's upload is refused before it is read."""

from __future__ import annotations

import io

import numpy as np
import pytest
from fastapi.testclient import TestClient

from meeting_room.db import tables as t
from meeting_room.errors import SealedError
from meeting_room.files.recordings import RecordingFiles
from meeting_room.services import recordings
from meeting_room.settings import Settings
from speech.audio import SAMPLE_RATE
from tests.conftest import World, login, snapshot
from tests.meeting_room.api.audio_uploads import upload_recording, wav_bytes


def _seal(world: World) -> None:
    with world.store.read() as session, session.begin():  # what the archive's seal leaves (its own tests seal for real)
        session.get_one(t.Meeting, world.meeting_id).state = "archived"


def test_a_recording_refused_after_it_was_kept_is_removed_unless_another_names_it(settings: Settings, world: World) -> None:
    files = RecordingFiles(settings.recordings_dir, 10 << 20)
    shared, alone = wav_bytes(np.zeros(SAMPLE_RATE, np.float32)), wav_bytes(np.full(SAMPLE_RATE, 0.1, np.float32))
    kept = files.ingest(io.BytesIO(shared))
    recordings.add_recording(world.store, files, world.ids["chair"], world.meeting_id, kept, "sang.wav")
    _seal(world)  # sealed while the next uploads came in
    again, new = files.ingest(io.BytesIO(shared)), files.ingest(io.BytesIO(alone))
    assert (again.new, new.new) == (False, True)
    for stored in (again, new):
        with pytest.raises(SealedError):
            recordings.add_recording(world.store, files, world.ids["chair"], world.meeting_id, stored, "chieu.wav")
    assert kept.path.is_file()  # the meeting's own recording, the same bytes: kept
    assert not new.path.exists()  # named by nothing: gone


def test_a_refused_upload_leaves_the_file_of_the_same_bytes_uploaded_meanwhile(settings: Settings, world: World) -> None:
    """Two uploads of the same bytes: the first refused (its meeting sealed meanwhile) while the second,
    for another meeting, has its copy in place but no record yet. The first must not take the second's
    file away (an attacker's probe: the second's record then named a file that was gone)."""
    files = RecordingFiles(settings.recordings_dir, 10 << 20)
    data = wav_bytes(np.full(SAMPLE_RATE, 0.2, np.float32))
    first = files.ingest(io.BytesIO(data))
    second = files.ingest(io.BytesIO(data))  # in flight: its record is not written yet
    assert (first.new, second.new) == (True, False)
    _seal(world)
    with pytest.raises(SealedError):
        recordings.add_recording(world.store, files, world.ids["chair"], world.meeting_id, first, "a.wav")
    assert second.path.is_file() and files.read(second.sha256) == data
    third = files.ingest(io.BytesIO(data))  # a third copy: the file system may give it the first's freed inode
    files.discard(first.sha256, first.placement)  # (the probe's order: the first refused after both)
    assert third.path.is_file() and files.read(third.sha256) == data
    files.discard(third.sha256, third.placement)  # the latest placement, refused in turn: gone
    assert not third.path.exists()


def test_two_refused_uploads_of_the_same_bytes_leave_no_file(settings: Settings, world: World) -> None:
    files = RecordingFiles(settings.recordings_dir, 10 << 20)
    data = wav_bytes(np.full(SAMPLE_RATE, 0.3, np.float32))
    first, second = files.ingest(io.BytesIO(data)), files.ingest(io.BytesIO(data))
    _seal(world)
    for stored in (first, second):
        with pytest.raises(SealedError):
            recordings.add_recording(world.store, files, world.ids["chair"], world.meeting_id, stored, "a.wav")
    assert not second.path.exists()  # the later placement discards it, whichever is refused last


def test_a_sealed_meetings_upload_is_refused_before_it_is_read(client: TestClient, world: World, settings: Settings) -> None:
    _seal(world)
    before = snapshot(world.store)
    r = upload_recording(client, world, login(client, "chair"), wav_bytes(np.zeros(SAMPLE_RATE, np.float32)))
    assert r.status_code == 409 and "niêm phong" in r.json()["error"]["message"], r.text
    assert snapshot(world.store) == before
    assert not [p for p in settings.recordings_dir.rglob("*") if p.is_file()]
