"""Remote participants confirmed by their own camera (``face_check_online``): a real aiortc client
sends a real person's photo as its camera through the call server; the server's check compares it
with the enrolments. The photos come from ../shared/testdata/faces (skipped when it is absent)."""

from __future__ import annotations

import asyncio
import csv
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import numpy as np
import pytest
from PIL import Image

from hardware.media import Frame
from meeting_room.live.face_checks import OnlineFaceChecks
from meeting_room.services import faces
from speech.models import ModelStore
from tests.conftest import World, _settings
from tests.face_photos import astronaut, damaged_face_models, jpeg_bytes
from tests.meeting_room.call_server import _h, serve_call, wait_for
from vision.enrolment import EnrolmentRules, enrol_photo
from vision.errors import EnrolmentPhotoError
from vision.faces import FaceEngine
from vision.image import load_image
from webrtc.client import CallClient, ImageVideoTrack

FACES = Path(__file__).resolve().parents[4] / "shared" / "testdata" / "faces"


def _camera_picture(photo: np.ndarray, size: tuple[int, int] = (640, 360)) -> np.ndarray:
    """The photo as a laptop camera would frame it: scaled to the frame's height, centred, grey sides."""
    width, height = size
    img = Image.fromarray(photo)
    img = img.resize((max(1, round(img.width * height / img.height)), height))
    canvas = Image.new("RGB", size, (96, 104, 112))
    canvas.paste(img, ((width - img.width) // 2, 0))
    return np.asarray(canvas)


def _two_people(engine: FaceEngine) -> list[tuple[bytes, np.ndarray]]:
    """Two identities of the data set: each one's enrolment photo (JPEG) and another photo of them."""
    rows = list(csv.DictReader((FACES / "labels.csv").open(encoding="utf-8")))
    photos: dict[str, list[Path]] = {}
    for row in rows:
        if row["kind"] == "identity":
            photos.setdefault(row["identity"], []).append(FACES / row["file"])
    people = []
    for paths in photos.values():
        if len(paths) < 2:
            continue
        try:
            enrol_photo(engine, load_image(paths[0]), EnrolmentRules())
            probe = load_image(paths[1])
        except EnrolmentPhotoError:
            continue
        if len(engine.detect(_camera_picture(probe))) == 1:
            people.append((paths[0].read_bytes(), probe))
        if len(people) == 2:
            return people
    pytest.skip(f"fewer than two usable identities in {FACES}")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, model_store: ModelStore) -> Iterator[dict[str, Any]]:
    if not (FACES / "labels.csv").exists():
        pytest.skip(f"{FACES} is not present")
    with serve_call(tmp_path_factory.mktemp("face-calls"), model_store, face_check_online=True, call_grace_s=5.0) as served:
        yield served


def test_only_consenting_enrolled_members_are_checked_and_only_with_the_setting(world: World, tmp_path: Path) -> None:
    engine = FaceEngine()
    admin = world.actor("admin")
    faces.set_consent(world.store, admin, world.ids["member1"], True)
    faces.enrol_faces(world.store, admin, world.ids["member1"], [("a.jpg", jpeg_bytes(astronaut()))], engine, EnrolmentRules())
    faces.set_consent(world.store, admin, world.ids["member2"], True)  # consented, no face enrolled
    off = OnlineFaceChecks(world.store, _settings(tmp_path))
    assert off.watch(world.meeting_id, world.ids["member1"]) is None  # the setting is off by default
    on = OnlineFaceChecks(world.store, _settings(tmp_path, face_check_online=True))
    try:
        assert on.watch(world.meeting_id, world.ids["member2"]) is None
        assert on.watch(world.meeting_id, world.ids["chair"]) is None  # no consent: their video is never analysed
        check = on.watch(world.meeting_id, world.ids["member1"])
        assert check is not None and check.member_id == world.ids["member1"]
    finally:
        on.close()


def test_a_check_whose_worker_cannot_load_stops_quietly_and_the_next_call_tries_again(world: World, tmp_path: Path) -> None:
    """A damaged face model package: the call's frames are not analysed (said once, nothing raised
    into the call's video reader); once it is repaired, the next call's check gets a working worker."""
    engine = FaceEngine()
    admin = world.actor("admin")
    faces.set_consent(world.store, admin, world.ids["member1"], True)
    faces.enrol_faces(world.store, admin, world.ids["member1"], [("a.jpg", jpeg_bytes(astronaut()))], engine, EnrolmentRules())
    on = OnlineFaceChecks(world.store, _settings(tmp_path, face_check_online=True))
    try:
        with damaged_face_models(tmp_path / "site-packages"):
            check = on.watch(world.meeting_id, world.ids["member1"])
        assert check is not None
        for _ in range(1200):  # the worker's load fails in the background
            if on.pool().broken:
                break
            time.sleep(0.05)
        assert on.pool().broken
        check.on_frame(Frame(astronaut(), at=1.0, source="remote"))  # raises nothing: the check stops
        assert check.done and check.analysed == 0
        again = on.watch(world.meeting_id, world.ids["member1"])  # a new call: a new worker (the package repaired)
        assert again is not None and not on.pool().broken
        future = on.pool().submit(astronaut())
        assert future is not None and len(future.result(timeout=120)) == 1
    finally:
        on.close()


def test_a_remote_member_is_confirmed_by_their_own_face_and_someone_else_on_an_account_is_a_warning(served: dict[str, Any]) -> None:
    world = served["world"]
    engine = FaceEngine()
    (enrol_a, probe_a), (enrol_b, _) = _two_people(engine)
    admin = world.actor("admin")
    for who, photo in (("member1", enrol_a), ("member2", enrol_b)):
        faces.set_consent(world.store, admin, world.ids[who], True, "Phiếu đồng ý")
        faces.enrol_faces(world.store, admin, world.ids[who], [("anh.jpg", photo)], engine, EnrolmentRules())
    picture = _camera_picture(probe_a)  # member1's face, another photo than the enrolled one

    def record(who: str) -> dict[str, Any]:
        """The member's attendance record as the secretary's console reads it."""
        r = httpx.get(f"{served['base']}/api/meetings/{world.meeting_id}/attendance", headers=_h(served["tokens"]["chair"]), timeout=30)
        assert r.status_code == 200, r.text
        return next(x for x in r.json()["records"] if x["member_id"] == world.ids[who])

    async def until(what: str, who: str, check: str) -> None:
        """Polled on a thread: the peers on this event loop keep sending meanwhile."""
        await asyncio.to_thread(wait_for, what, lambda: record(who).get("face_check") == check, 120)

    async def scenario() -> None:
        own = CallClient(served["ws"], served["tokens"]["member1"], video=ImageVideoTrack(picture))
        await own.join(timeout=60)
        await until("member1 confirmed by face", "member1", "confirmed")
        # member2's account, member1 in front of the camera
        other = CallClient(served["ws"], served["tokens"]["member2"], video=ImageVideoTrack(picture))
        await other.join(timeout=60)
        await until("the mismatch on member2's call", "member2", "mismatch")
        await other.leave()
        await own.leave()

    asyncio.run(scenario())
    me, other = record("member1"), record("member2")
    assert me["status"] == "left" and me["face_check"] == "confirmed" and me["face_check_at"] is not None
    # never a check-in on someone else's face: member2 was present online (the call), not confirmed
    assert other["face_check"] == "mismatch" and other["face_check_looks_like"] == "Người member1"
    checks = [e for e in world.store.events() if e.type == "attendance.online_face_checked"]
    assert [(e.data["member_id"], e.data["result"]) for e in checks] == [
        (world.ids["member1"], "confirmed"),
        (world.ids["member2"], "mismatch"),
    ]
    assert wait_for("both left", lambda: record("member2").get("status") == "left", 15)
