"""Face imports through the store with the real models: checked before anything is stored, each
member reported (a refused photo named, the others enrolled), resumed after a crash without a
face enrolled twice, stopped by an administrator, refused to an uploader who lost the role, and
the photos gone from the database when it ends."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from meeting_room import events as ev
from meeting_room.access import Actor
from meeting_room.db import tables as t
from meeting_room.errors import ConflictError, InvalidInputError, PermissionDeniedError
from meeting_room.roles import Role
from meeting_room.services import face_imports, faces
from tests.conftest import World, snapshot
from tests.face_photos import astronaut, coffee, hopper, jpeg_bytes, zip_of
from vision.enrolment import EnrolmentRules
from vision.faces import FaceEngine

RULES = EnrolmentRules()
MB = 1 << 20


@pytest.fixture(scope="module")
def engine() -> FaceEngine:
    return FaceEngine()




def _consent(world: World, *who: str) -> None:
    for name in who:
        faces.set_consent(world.store, world.actor("admin"), world.ids[name], True, "Phiếu đồng ý 2026")


def _faces(world: World, who: str) -> int:
    with world.store.read() as session:
        return session.scalar(select(func.count()).select_from(t.FaceEncoding).where(t.FaceEncoding.member_id == world.ids[who])) or 0


def _run(world: World, import_id: str, engine: Callable[[], FaceEngine]) -> str:
    return face_imports.run(world.store, import_id, engine, RULES, max_photo_bytes=15 * MB)


PHOTOS = {"ho-so/member1/a.jpg": jpeg_bytes(astronaut()), "ho-so/member1/b.jpg": jpeg_bytes(coffee()),
          "ho-so/member2/1.jpg": jpeg_bytes(hopper())}  # fmt: skip


def test_checked_first_then_each_member_reported_and_the_photos_deleted(world: World, engine: FaceEngine) -> None:
    admin = world.actor("admin")
    _consent(world, "member1")
    before = snapshot(world.store)
    with pytest.raises(InvalidInputError) as refused:  # member2 has not consented, nobody has the name "ai-do"
        face_imports.create(world.store, admin, "ho-so.zip", zip_of({**PHOTOS, "ho-so/ai-do/1.jpg": b"x"}), max_photo_bytes=15 * MB)
    problems = {p["where"]: p["message_vi"] for p in refused.value.details["problems"]}
    assert set(problems) == {"member2", "ai-do"} and "13/2023" in problems["member2"]
    with pytest.raises(PermissionDeniedError):
        face_imports.create(world.store, world.actor("chair"), "ho-so.zip", zip_of(PHOTOS), max_photo_bytes=15 * MB)
    assert snapshot(world.store) == before
    with world.store.read() as session:
        assert session.scalar(select(func.count()).select_from(t.FaceImport)) == 0

    _consent(world, "member2")
    import_id = face_imports.create(world.store, admin, "ho-so.zip", zip_of(PHOTOS), max_photo_bytes=15 * MB)
    with pytest.raises(ConflictError, match="already being imported"):  # the same archive sent twice
        face_imports.create(world.store, admin, "ho-so.zip", zip_of(PHOTOS), max_photo_bytes=15 * MB)
    view = face_imports.get(world.store, admin, import_id)
    assert (view.state, view.members_total, view.photos_total, view.results) == ("queued", 2, 3, [])

    assert _run(world, import_id, lambda: engine) == "done"
    view = face_imports.get(world.store, admin, import_id)
    one, two = view.results
    assert (one.folder, one.enrolled, [r["photo"] for r in one.refused]) == ("member1", 1, ["b.jpg"])  # coffee has no face
    assert "face" in one.refused[0]["message_en"].lower()
    assert (two.folder, two.enrolled, two.refused, two.error_vi) == ("member2", 1, [], None)
    assert _faces(world, "member1") == 1 and _faces(world, "member2") == 1
    enrolled = [e for e in world.store.events() if e.type == ev.FaceEnrolled.type]
    assert len(enrolled) == 2 and {e.actor_id for e in enrolled} == {world.ids["admin"]}
    with world.store.read() as session:
        row = session.get_one(t.FaceImport, import_id)
        assert session.get(t.FaceImportArchive, import_id) is None and row.ended_at is not None and row.tries == 1
    assert _run(world, import_id, lambda: engine) == "done"  # run again (a job delivered twice): nothing more
    assert _faces(world, "member1") == 1
    again = face_imports.create(world.store, admin, "ho-so.zip", zip_of(PHOTOS), max_photo_bytes=15 * MB)  # the same ZIP, later
    assert _run(world, again, lambda: engine) == "done"
    view = face_imports.get(world.store, admin, again)
    assert [(r.enrolled, r.known) for r in view.results] == [(0, 1), (0, 1)] and view.not_done == []
    assert _faces(world, "member1") == 1 and _faces(world, "member2") == 1  # nobody enrolled twice


def test_a_crash_mid_import_resumes_with_the_next_member_and_enrols_nobody_twice(world: World, engine: FaceEngine) -> None:
    admin = world.actor("admin")
    _consent(world, "member1", "member2")
    import_id = face_imports.create(world.store, admin, "ho-so.zip", zip_of(PHOTOS), max_photo_bytes=15 * MB)
    calls = 0

    def dying() -> FaceEngine:  # the third photo's check: the machine goes away
        nonlocal calls
        calls += 1
        if calls == 3:
            raise RuntimeError("killed")
        return engine

    with pytest.raises(RuntimeError):
        _run(world, import_id, dying)
    view = face_imports.get(world.store, admin, import_id)
    assert view.state == "running" and [r.folder for r in view.results] == ["member1"] and view.not_done == ["member2"]
    assert _run(world, import_id, lambda: engine) == "done"
    view = face_imports.get(world.store, admin, import_id)
    assert [r.folder for r in view.results] == ["member1", "member2"] and view.tries == 2
    assert _faces(world, "member1") == 1 and _faces(world, "member2") == 1


def test_stopped_by_an_administrator_or_refused_to_an_uploader_who_lost_the_role(world: World, engine: FaceEngine) -> None:
    admin = world.actor("admin")
    _consent(world, "member1", "member2")
    first = face_imports.create(world.store, admin, "a.zip", zip_of(PHOTOS), max_photo_bytes=15 * MB)
    face_imports.stop(world.store, admin, first)
    with pytest.raises(ConflictError):
        face_imports.stop(world.store, admin, first)
    assert _run(world, first, lambda: engine) == "stopped"
    with world.store.read() as session:
        assert session.get(t.FaceImportArchive, first) is None
    assert _faces(world, "member1") == 0

    second = face_imports.create(world.store, admin, "b.zip", zip_of(PHOTOS), max_photo_bytes=15 * MB)
    world.store.append(ev.MemberUpdated(member_id=world.ids["admin"], roles=[Role.MEMBER]))
    assert _run(world, second, lambda: engine) == "failed"
    another_admin = Actor("quan-tri-2", "Quản trị viên khác", frozenset({Role.ADMIN}))
    view = face_imports.get(world.store, another_admin, second)
    assert view.state == "failed" and "no longer an administrator" in (view.error or "") and view.results == []
    assert _faces(world, "member1") == 0


def test_an_ambiguous_folder_or_a_consent_given_again_after_the_upload_enrols_nobody(world: World, engine: FaceEngine) -> None:
    admin = world.actor("admin")
    _consent(world, "member1", "member2")
    # someone whose username is member1's id: a folder of that name could be either of them
    world.store.append(ev.MemberCreated(member_id="ke-mao-danh", body_id=world.body_id, full_name="Kẻ Mạo Danh",
                                        roles=[Role.MEMBER], username=world.ids["member1"]))  # fmt: skip
    with pytest.raises(InvalidInputError) as refused:
        face_imports.create(
            world.store, admin, "a.zip", zip_of({f"{world.ids['member1']}/1.jpg": jpeg_bytes(astronaut())}), max_photo_bytes=MB
        )
    assert "another's username" in refused.value.details["problems"][0]["message_en"]

    import_id = face_imports.create(world.store, admin, "b.zip", zip_of(PHOTOS), max_photo_bytes=15 * MB)
    faces.set_consent(world.store, admin, world.ids["member2"], False)  # withdrawn, then given again, before the job ran
    faces.set_consent(world.store, admin, world.ids["member2"], True, "Phiếu đồng ý mới")
    assert _run(world, import_id, lambda: engine) == "done"
    one, two = face_imports.get(world.store, admin, import_id).results
    assert one.enrolled == 1 and (two.enrolled, two.error_en) == (0, "Consent was recorded again after the upload: upload the photos again")
    assert _faces(world, "member2") == 0


def test_the_file_name_shown_is_cleaned(world: World) -> None:
    _consent(world, "member1")
    name = "A\u0300nh \u0111a\u0323i bie\u0302\u0309u\x00\u202e.zip"  # decomposed, a NUL, a right-to-left override
    import_id = face_imports.create(world.store, world.actor("admin"), name, zip_of({"member1/1.jpg": b"x"}), max_photo_bytes=MB)
    assert face_imports.get(world.store, world.actor("admin"), import_id).filename == "Ành đại biểu.zip"


def test_a_folder_that_names_nobody_suggests_the_member_meant(world: World) -> None:
    """A typo of a username, or the member's full name written as the folder (with or without its
    diacritics): the problem says which username was probably meant (a new administrator's walk-through)."""
    _consent(world, "member1", "member2")
    photo = jpeg_bytes(astronaut())
    archive = zip_of({"membr1/a.jpg": photo, "Người member2/a.jpg": photo, "nguoi_member2/b.jpg": photo, "khong-ai-ca/a.jpg": photo})
    with pytest.raises(InvalidInputError) as refused:
        face_imports.create(world.store, world.actor("admin"), "ho-so.zip", archive, max_photo_bytes=15 * MB)
    problems = {p["where"]: (p["message_vi"], p["message_en"]) for p in refused.value.details["problems"]}
    assert problems["membr1"][0].endswith("(có phải “member1”?)") and problems["membr1"][1].endswith("(did you mean “member1”?)")
    assert problems["Người member2"][1].endswith("(did you mean “member2”?)")
    assert problems["nguoi_member2"][1].endswith("(did you mean “member2”?)")
    assert problems["khong-ai-ca"][1] == "no member has this username or id"


def test_the_folders_with_a_problem_can_be_left_out_and_the_rest_imported(world: World, engine: FaceEngine) -> None:
    """An administrator with a ZIP of 200 members where 3 folders are wrong imports the others now: each
    left-out folder is reported at once as its member's result; a problem of the archive itself still refuses."""
    admin = world.actor("admin")
    _consent(world, "member1", "chair")
    photo = jpeg_bytes(astronaut())
    archive = zip_of(
        {"member1/a.jpg": photo, "member2/a.jpg": photo, "ai-do/a.jpg": photo, "chair/a.jpg": photo, "chair/ghi-chu.txt": b"x"}
    )
    with pytest.raises(InvalidInputError):  # by default nothing is imported
        face_imports.create(world.store, admin, "ho-so.zip", archive, max_photo_bytes=15 * MB)
    import_id = face_imports.create(world.store, admin, "ho-so.zip", archive, max_photo_bytes=15 * MB, skip_problems=True)
    view = face_imports.get(world.store, admin, import_id)
    assert (view.members_total, view.photos_total, view.not_done) == (4, 1, ["member1"])
    left_out = {r.folder: r for r in view.results}
    assert set(left_out) == {"member2", "ai-do", "chair"} and all(r.skipped and r.enrolled == 0 for r in left_out.values())
    assert "13/2023" in (left_out["member2"].error_vi or "")
    assert (left_out["member2"].member_id, left_out["member2"].full_name) == (world.ids["member2"], "Người member2")  # who it is, known
    assert (left_out["ai-do"].member_id, left_out["ai-do"].full_name) == ("", "ai-do")  # nobody: the folder's name
    assert left_out["ai-do"].error_en == "skipped, not imported: no member has this username or id"
    assert left_out["chair"].error_en == "skipped, not imported: chair/ghi-chu.txt: not a JPEG, PNG, WEBP or BMP photo"
    assert _run(world, import_id, lambda: engine) == "done"
    assert _faces(world, "member1") == 1 and _faces(world, "chair") == 0


def test_leaving_out_keeps_the_good_folders_and_never_a_broken_archive(world: World, engine: FaceEngine) -> None:
    admin = world.actor("admin")
    _consent(world, "member1")
    photo = jpeg_bytes(astronaut())
    import_id = face_imports.create(world.store, admin, "a.zip", zip_of({"member1/a.jpg": photo, "member2/a.jpg": photo}),
                                    max_photo_bytes=15 * MB, skip_problems=True)  # fmt: skip
    assert _run(world, import_id, lambda: engine) == "done"
    view = face_imports.get(world.store, admin, import_id)
    by_folder = {r.folder: r for r in view.results}
    assert (by_folder["member1"].enrolled, by_folder["member1"].skipped) == (1, False) and by_folder["member2"].skipped
    assert _faces(world, "member1") == 1 and _faces(world, "member2") == 0
    before = snapshot(world.store)
    with pytest.raises(InvalidInputError):  # a path outside the archive is the archive's problem: no folder to leave out
        face_imports.create(world.store, admin, "b.zip", zip_of({"member1/b.jpg": photo, "../x.jpg": photo}), max_photo_bytes=15 * MB,
                            skip_problems=True)  # fmt: skip
    with pytest.raises(InvalidInputError):  # every folder wrong: nothing to import
        face_imports.create(world.store, admin, "c.zip", zip_of({"member2/a.jpg": photo}), max_photo_bytes=15 * MB, skip_problems=True)
    assert snapshot(world.store) == before
