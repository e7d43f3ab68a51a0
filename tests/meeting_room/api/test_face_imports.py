"""Face imports over HTTP on SQLite (the server's own thread): upload, progress, results, stop,
refusals that store nothing, and the import that a restart interrupted resumed at the next start."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from meeting_room.api.app import create_app
from meeting_room.db import tables as t
from meeting_room.services import face_imports
from meeting_room.settings import Settings
from meeting_room.store import Store
from tests.conftest import World, client_runtime, login, snapshot
from tests.face_photos import astronaut, coffee, hopper, jpeg_bytes, zip_of
from tests.queue_workers import wait_for


def _upload(client: TestClient, headers: dict[str, str], data: bytes, name: str = "anh-dai-bieu.zip"):
    return client.post("/api/face-imports", files={"archive": (name, data, "application/zip")}, headers=headers)


def _consent(client: TestClient, world: World, admin: dict[str, str], *who: str) -> None:
    for name in who:
        r = client.put(f"/api/members/{world.ids[name]}/biometric-consent", json={"given": True}, headers=admin)
        assert r.status_code == 200


def _faces(world: World) -> int:
    with world.store.read() as session:
        return session.scalar(select(func.count()).select_from(t.FaceEncoding)) or 0


def test_an_import_runs_in_the_server_and_reports_each_member(client: TestClient, world: World) -> None:
    admin = login(client, "admin")
    _consent(client, world, admin, "member1", "member2")
    data = zip_of({"member1/a.jpg": jpeg_bytes(astronaut()), "member1/ca-phe.jpg": jpeg_bytes(coffee()),
                 "member2/1.jpg": jpeg_bytes(hopper())})  # fmt: skip
    r = _upload(client, admin, data)
    assert r.status_code == 202, r.text
    import_id = r.json()["id"]
    assert r.json()["members_total"] == 2 and r.json()["photos_total"] == 3
    wait_for(lambda: client.get(f"/api/face-imports/{import_id}", headers=admin).json()["state"] == "done", 120, "the import")
    done = client.get(f"/api/face-imports/{import_id}", headers=admin).json()
    assert (done["members_done"], done["photos_enrolled"]) == (2, 2)
    first = done["results"][0]
    assert first["full_name"] and first["refused"][0]["photo"] == "ca-phe.jpg" and first["refused"][0]["message_vi"]
    listed = client.get("/api/face-imports", headers=admin).json()
    assert [i["id"] for i in listed] == [import_id]
    assert client.get("/api/face-imports", headers=login(client, "chair")).status_code == 403
    assert client.post(f"/api/face-imports/{import_id}/stop", headers=admin).status_code == 409  # it has ended


def test_refusals_store_nothing(client: TestClient, world: World, settings: Settings) -> None:
    admin = login(client, "admin")
    before = snapshot(world.store)
    photo = jpeg_bytes(astronaut())
    cases = [
        (login(client, "chair"), zip_of({"member1/a.jpg": photo}), 403, None),
        (admin, b"", 422, "empty"),
        (admin, b"%PDF-1.7 not a zip", 422, "not a ZIP"),
        (admin, zip_of({"member1/a.jpg": photo}), 422, "Decree 13/2023"),  # no consent yet
        (admin, zip_of({"nobody/a.jpg": photo, "member1/readme.txt": b"x"}), 422, "2 problem(s)"),
    ]
    for headers, data, status, said in cases:
        r = _upload(client, headers, data)
        assert r.status_code == status, r.text
        assert said is None or said in r.json()["error"]["message_en"], r.text
        if said == "Decree 13/2023":  # whose consent would clear it, for the page to record it in one go
            (problem,) = r.json()["error"]["details"]["problems"]
            assert problem["needs_consent"] == {"member_id": world.ids["member1"], "full_name": "Người member1"}
    # how many folders leaving out the faulty ones would import: none here (the page then offers no skip)
    assert r.json()["error"]["details"]["importable"] == 0, r.text
    r = client.post("/api/face-imports", json={"archive": "x"}, headers=admin)
    assert r.status_code == 422 and "multipart" in r.text
    # skip_problems is exactly "true" or "false", sent once (which of two would count is a guess)
    bad = zip_of({"nobody/a.jpg": photo})
    for form in ({"skip_problems": "TRUE"}, {"skip_problems": "1"}, {"skip_problems": ["false", "true"]}):
        r = client.post("/api/face-imports", files={"archive": ("a.zip", bad, "application/zip")}, data=form, headers=admin)
        assert r.status_code == 422 and "skip_problems" in r.json()["error"]["message_en"], (form, r.text)
    small = settings.model_copy(update={"max_face_import_mb": 1})
    with TestClient(create_app(small, world.store), base_url="https://testserver") as limited:
        r = _upload(limited, login(limited, "admin"), zip_of({f"member1/{i}.jpg": photo for i in range(10)}) + bytes(1 << 20))
        assert r.status_code == 413 and "1 MB" in r.json()["error"]["message_en"], r.text
    assert snapshot(world.store) == before and _faces(world) == 0
    with world.store.read() as session:
        assert session.scalar(select(func.count()).select_from(t.FaceImport)) == 0


def test_an_import_a_stop_interrupted_resumes_at_the_next_start(settings: Settings, store: Store, world: World) -> None:
    admin_actor = world.actor("admin")
    from meeting_room.services import faces

    for who in ("member1", "member2"):
        faces.set_consent(store, admin_actor, world.ids[who], True)
    data = zip_of({"member1/a.jpg": jpeg_bytes(astronaut()), "member2/1.jpg": jpeg_bytes(hopper())})
    import_id = face_imports.create(store, admin_actor, "a.zip", data, max_photo_bytes=15 << 20)  # as if the server stopped before its turn
    with TestClient(create_app(settings, store), base_url="https://testserver") as client:
        wait_for(lambda: face_imports.get(store, admin_actor, import_id).state == "done", 120, "the resumed import")
        assert client_runtime(client).face_imports.queue is None
    assert _faces(world) == 2
