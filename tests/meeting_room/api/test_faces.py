"""Face enrolment and check-in over HTTP, with the live attendance count on the WebSocket."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.conftest import World, login, snapshot
from tests.face_photos import astronaut, coffee, hopper, jpeg_bytes, png_bytes, scene


def _enrol(client: TestClient, world: World, headers: dict[str, str], who: str, *photos: tuple[str, bytes]):
    files = [("photo", (name, data, "image/jpeg")) for name, data in photos]
    return client.post(f"/api/members/{world.ids[who]}/faces", files=files, headers=headers)


def test_consent_then_enrol_then_withdraw(client: TestClient, world: World) -> None:
    admin = login(client, "admin")
    before = snapshot(world.store)
    r = _enrol(client, world, admin, "member1", ("a.jpg", jpeg_bytes(astronaut())))
    assert r.status_code == 409 and "13/2023" in r.json()["error"]["message"]
    assert snapshot(world.store) == before
    r = client.put(f"/api/members/{world.ids['member1']}/biometric-consent", json={"given": True, "note": "Phiếu số 3"}, headers=admin)
    assert r.status_code == 200 and (r.json()["consent"], r.json()["consent_note"]) == (True, "Phiếu số 3")
    r = _enrol(client, world, admin, "member1", ("mat-truoc.jpg", jpeg_bytes(astronaut())), ("anh-2.png", png_bytes(astronaut())))
    assert r.status_code == 201, r.text
    assert [p["photo"] for p in r.json()] == ["mat-truoc.jpg", "anh-2.png"] and r.json()[0]["face_px"] > 150
    mine = client.get(f"/api/members/{world.ids['member1']}/biometrics", headers=login(client, "member1")).json()
    assert len(mine["faces"]) == 2
    assert client.get(f"/api/members/{world.ids['member1']}/biometrics", headers=login(client, "member2")).status_code == 403
    r = client.put(f"/api/members/{world.ids['member1']}/biometric-consent", json={"given": False}, headers=login(client, "member1"))
    assert r.json()["faces"] == [] and r.json()["consent"] is False and r.json()["consent_note"] is None


def test_unusable_uploads_get_clear_errors(client: TestClient, world: World) -> None:
    admin = login(client, "admin")
    client.put(f"/api/members/{world.ids['member2']}/biometric-consent", json={"given": True}, headers=admin)
    before = snapshot(world.store)
    cases = [
        (("ca-phe.png", png_bytes(coffee())), 422, "unusable_photo", "no_face"),
        (("tai-lieu.pdf", b"%PDF-1.7\n"), 415, "invalid_image", None),
        (("rong.jpg", b""), 415, "invalid_image", None),
    ]
    for photo, status, code, reason in cases:
        r = _enrol(client, world, admin, "member2", photo)
        assert (r.status_code, r.json()["error"]["code"]) == (status, code), r.text
        assert reason is None or r.json()["error"]["details"]["reason"] == reason
    r = _enrol(client, world, admin, "member2", ("lon.jpg", b"\xff\xd8" + b"0" * (16 << 20)))
    assert r.status_code == 413
    r = client.post(f"/api/members/{world.ids['member2']}/faces", json={"photo": "x"}, headers=admin)
    assert r.status_code == 422 and "multipart" in r.json()["error"]["message"]
    assert _enrol(client, world, login(client, "chair"), "member2", ("a.jpg", jpeg_bytes(hopper()))).status_code == 403
    assert snapshot(world.store) == before


def test_check_in_from_a_photo_updates_attendance_live(client: TestClient, world: World) -> None:
    admin, chair = login(client, "admin"), login(client, "chair")
    for who, photo in (("member1", astronaut()), ("member2", hopper())):
        client.put(f"/api/members/{world.ids[who]}/biometric-consent", json={"given": True}, headers=admin)
        assert _enrol(client, world, admin, who, ("p.jpg", jpeg_bytes(photo))).status_code == 201
    for target in ("open", "in_session"):
        client.post(f"/api/meetings/{world.meeting_id}/transitions", json={"to": target}, headers=chair)
    token = chair["Authorization"].removeprefix("Bearer ")
    with client.websocket_connect(f"/api/meetings/{world.meeting_id}/stream?token={token}") as ws:
        while ws.receive_json()["kind"] != "ready":
            pass
        room = jpeg_bytes(scene([astronaut(), hopper()], face_width=360))
        r = client.post(
            f"/api/meetings/{world.meeting_id}/attendance/face", files={"photo": ("phong.jpg", room, "image/jpeg")}, headers=chair
        )
        assert r.status_code == 200, r.text
        while (msg := ws.receive_json())["kind"] != "attendance":
            pass
    body = r.json()
    assert body["faces"] == 2 and body["unknown"] == 0
    assert sorted(x["full_name"] for x in body["recognised"]) == ["Người member1", "Người member2"]
    assert msg["summary"]["present_in_room"] >= 1
    records = {x["member_id"]: x for x in client.get(f"/api/meetings/{world.meeting_id}/attendance", headers=chair).json()["records"]}
    assert records[world.ids["member1"]]["source"] == "face" and records[world.ids["member1"]]["late"] is False
    member = login(client, "member1")
    r = client.post(f"/api/meetings/{world.meeting_id}/attendance/face", files={"photo": ("p.jpg", room, "image/jpeg")}, headers=member)
    assert r.status_code == 403


def test_who_may_send_is_checked_before_the_upload_is_read(app: FastAPI, client: TestClient, world: World) -> None:
    """A member sending a photo or a reading she may not send is refused for that (403/404), not for
    the file (415/422): the upload is not decoded and no model is loaded for her."""
    member, outsider = login(client, "member1"), login(client, "outsider")
    not_an_image = {"photo": ("x.jpg", b"not an image at all", "image/jpeg")}
    not_audio = {"audio": ("x.wav", b"not audio at all", "audio/wav")}
    r = client.post(f"/api/meetings/{world.meeting_id}/attendance/face", files=not_an_image, headers=member)
    assert r.status_code == 403, r.text
    r = client.post(f"/api/meetings/{world.meeting_id}/attendance/face", files=not_an_image, headers=outsider)
    assert r.status_code == 404, r.text
    r = client.post(f"/api/members/{world.ids['member2']}/voice", files=not_audio, headers=member)
    assert r.status_code == 403, r.text
    r = client.post(f"/api/members/{world.ids['member2']}/faces", files=not_an_image, headers=member)
    assert r.status_code == 403, r.text
    assert not app.state.runtime.face_engine.loaded  # no model was loaded for a refused request
    # the same garbage from someone allowed is refused for what it is
    chair = login(client, "chair")
    r = client.post(f"/api/meetings/{world.meeting_id}/attendance/face", files=not_an_image, headers=chair)
    assert r.status_code in (415, 422), r.text
