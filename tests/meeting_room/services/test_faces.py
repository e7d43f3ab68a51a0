"""Consent, enrolment, deletion and camera attendance through the store, with the real models."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from hardware.media import Frame, VideoSource
from meeting_room import events as ev
from meeting_room.attendance import AttendanceStatus
from meeting_room.db import tables as t
from meeting_room.errors import ConflictError, PermissionDeniedError
from meeting_room.lifecycle import MeetingState
from meeting_room.services import faces, meetings, members
from meeting_room.services.face_attendance import CameraWatcher, MatchOptions
from tests.conftest import World, snapshot
from tests.face_photos import astronaut, damaged_face_models, hopper, jpeg_bytes, scene, write_video
from vision.enrolment import EnrolmentRules
from vision.errors import EnrolmentPhotoError
from vision.faces import FaceEngine, FaceOptions
from vision.pool import FacePool, PoolClosedError
from vision.tracker import PresenceTracker

RULES = EnrolmentRules()


@pytest.fixture(scope="module")
def engine() -> FaceEngine:
    return FaceEngine()


def _faces(world: World, who: str) -> int:
    with world.store.read() as session:
        return session.scalar(select(func.count()).select_from(t.FaceEncoding).where(t.FaceEncoding.member_id == world.ids[who])) or 0


def _enrol(world: World, engine: FaceEngine, who: str, photo) -> None:
    admin = world.actor("admin")
    faces.set_consent(world.store, admin, world.ids[who], True, "Phiếu đồng ý số 07/2026")
    faces.enrol_faces(world.store, admin, world.ids[who], [("chan-dung.jpg", jpeg_bytes(photo))], engine, RULES)


def test_no_consent_no_enrolment_and_the_log_never_holds_an_encoding(world: World, engine: FaceEngine) -> None:
    admin = world.actor("admin")
    before = snapshot(world.store)
    with pytest.raises(ConflictError, match="Nghị định 13/2023"):
        faces.enrol_faces(world.store, admin, world.ids["member1"], [("a.jpg", jpeg_bytes(astronaut()))], engine, RULES)
    assert snapshot(world.store) == before
    _enrol(world, engine, "member1", astronaut())
    assert _faces(world, "member1") == 1
    logged = [e for e in world.store.events() if e.type.startswith("member.")]
    assert [e.type for e in logged][-2:] == ["member.biometric_consent", "member.face_enrolled"]
    assert all(len(str(e.data)) < 400 for e in logged)  # facts only: 128 floats would be thousands of characters
    with pytest.raises(PermissionDeniedError):
        faces.set_consent(world.store, world.actor("member2"), world.ids["member1"], True)


def test_a_bad_photo_in_a_batch_stores_nothing(world: World, engine: FaceEngine) -> None:
    faces.set_consent(world.store, world.actor("admin"), world.ids["member2"], True)
    photos = [("tot.jpg", jpeg_bytes(hopper())), ("hai-nguoi.jpg", jpeg_bytes(scene([astronaut(), hopper()], face_width=400)))]
    with pytest.raises(EnrolmentPhotoError) as info:
        faces.enrol_faces(world.store, world.actor("admin"), world.ids["member2"], photos, engine, RULES)
    assert "hai-nguoi.jpg" in info.value.message_vi and info.value.details["reason"] == "several_faces"
    assert _faces(world, "member2") == 0


def test_withdrawing_consent_or_deactivating_deletes_the_data_and_rebuild_keeps_it_otherwise(world: World, engine: FaceEngine) -> None:
    _enrol(world, engine, "member1", astronaut())
    _enrol(world, engine, "member2", hopper())
    world.store.rebuild()
    assert (_faces(world, "member1"), _faces(world, "member2")) == (1, 1)
    with world.store.read() as session:
        assert session.get_one(t.Member, world.ids["member1"]).faces_enrolled == 1
    faces.set_consent(world.store, world.actor("member1"), world.ids["member1"], False)  # the member withdraws
    members.update_member(world.store, world.actor("admin"), ev.MemberUpdated(member_id=world.ids["member2"], active=False))
    assert (_faces(world, "member1"), _faces(world, "member2")) == (0, 0)
    deleted = [e.data for e in world.store.events() if e.type == "member.biometrics_deleted"]
    assert [(d["reason"], d["faces"]) for d in deleted] == [("consent_withdrawn", 1), ("member_deactivated", 1)]


def test_deleting_on_request_says_how_many_faces_went(world: World, engine: FaceEngine) -> None:
    _enrol(world, engine, "member1", astronaut())
    assert faces.delete_biometrics(world.store, world.actor("member1"), world.ids["member1"]) == 1
    assert _faces(world, "member1") == 0
    before = snapshot(world.store)
    assert faces.delete_biometrics(world.store, world.actor("admin"), world.ids["member1"]) == 0  # nothing left: no event
    assert snapshot(world.store) == before


@pytest.mark.slow
def test_camera_marks_enrolled_participants_present_and_counts_strangers(world: World, engine: FaceEngine, tmp_path: Path) -> None:
    _enrol(world, engine, "member1", astronaut())
    chair = world.actor("chair")
    empty, arrival = scene([]), scene([astronaut(), hopper()], face_width=360)  # hopper: in view, never enrolled
    video = write_video(tmp_path / "cam.mp4", [empty] * 4 + [arrival] * 12, fps=4)
    pool = FacePool(FaceOptions(), workers=0)

    def watch() -> CameraWatcher:
        w = CameraWatcher(
            world.store, world.meeting_id, "Camera cửa chính", pool, MatchOptions(), PresenceTracker(sightings=3), sample_fps=2
        )
        w.run(VideoSource(video).frames())
        return w

    watch()  # the meeting is only scheduled: nobody is checked in
    with world.store.read() as session:
        assert session.get(t.Attendance, (world.meeting_id, world.ids["member1"])) is None
    for state in (MeetingState.OPEN, MeetingState.IN_SESSION):
        meetings.transition(world.store, chair, world.meeting_id, state)
    watcher = watch()
    assert watcher.stats.arrivals == 1 and watcher.stats.analysed == 8
    with world.store.read() as session:
        row = session.get_one(t.Attendance, (world.meeting_id, world.ids["member1"]))
        meeting = session.get_one(t.Meeting, world.meeting_id)
    assert (row.status, row.source, row.camera) == (AttendanceStatus.PRESENT_IN_ROOM.value, "face", "Camera cửa chính")
    assert 0.5 < (row.confidence or 0) <= 1
    assert meeting.unknown_faces == {"Camera cửa chính": 1}
    assert watch().stats.arrivals == 0  # already present: no second record


def test_a_camera_whose_face_workers_cannot_start_says_so_at_once_and_lets_the_camera_go(
    world: World, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A site whose face model package is damaged: the workers fail to load (their real import fails),
    the room is told as soon as the background loading fails, not at the first face, and the camera's
    watcher ends with the reason instead of dying on every frame (its frames are no longer read)."""
    caplog.set_level(logging.ERROR)
    pool = FacePool(FaceOptions(), workers=1)
    read = 0

    def frames() -> Iterator[Frame]:
        nonlocal read
        while read < 10_000:
            read += 1
            yield Frame(astronaut(), at=read / 2, source="Camera cửa chính")
            time.sleep(0.01)

    try:
        with damaged_face_models(tmp_path / "site-packages"):
            pool.warm_up(wait=False)
        for _ in range(1200):
            if any("face workers could not start" in r.getMessage() for r in caplog.records):
                break
            time.sleep(0.05)
        else:
            pytest.fail(f"the failed loading was not said: {caplog.records}")
        w = CameraWatcher(
            world.store, world.meeting_id, "Camera cửa chính", pool, MatchOptions(), PresenceTracker(sightings=3), sample_fps=2
        )
        stats = w.run(frames())
    finally:
        pool.close()
    assert stats.unavailable and stats.analysed == 0 and read < 10, (stats, read)
    assert pool.broken  # the room replaces it for its next meeting
    said = [r.getMessage() for r in caplog.records if "face analysis is unavailable" in r.getMessage()]
    assert len(said) == 1 and "Camera cửa chính" in said[0], said


def test_a_stopped_camera_watcher_does_not_wait_for_frames_in_analysis(world: World) -> None:
    """A room stops (its meeting ends, the server shuts down) while its workers still load or analyse:
    the watcher ends at once rather than after the frames it handed on (seconds each under SCHED_IDLE)."""
    pool = FacePool(FaceOptions(), workers=1)
    pool.warm_up(wait=False)  # loading: the frames below wait behind it
    w = CameraWatcher(world.store, world.meeting_id, "Camera cửa chính", pool, MatchOptions(), PresenceTracker(sightings=3), sample_fps=2)

    def frames() -> Iterator[Frame]:
        yield Frame(astronaut(), at=0.0, source="Camera cửa chính")
        yield Frame(astronaut(), at=0.5, source="Camera cửa chính")
        w.stop()
        yield Frame(astronaut(), at=1.0, source="Camera cửa chính")

    try:
        stats = w.run(frames())
        assert (stats.frames, stats.analysed) == (2, 0), stats
    finally:
        pool.close()
        pool.close()  # closing twice (a room's stop and a broken pool's replacement at once) is fine
    with pytest.raises(PoolClosedError):
        pool.submit(astronaut())
