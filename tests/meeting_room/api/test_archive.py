"""The sealed archive through the API: none before the signatures, sealed by the chair's, checked file by file."""

from __future__ import annotations

from fastapi.testclient import TestClient

from meeting_room.settings import Settings
from tests.conftest import World, login, snapshot
from tests.meeting_room.api.held_meeting import hold_meeting, register_certificate


def test_only_signed_minutes_are_sealed_and_the_seal_is_checked(mclient: TestClient, mworld: World, msettings: Settings) -> None:
    client, world, url = mclient, mworld, f"/api/meetings/{mworld.meeting_id}"
    chair = hold_meeting(client, world)
    sec, admin, clerk, member = (login(client, who) for who in ("secretary", "admin", "clerk", "member1"))
    unsealed = {"meeting_id": world.meeting_id, "sealed": False, "ok": False, "files": 0, "problems": []}
    assert client.get(f"{url}/archive", headers=member).json() == unsealed
    before = snapshot(world.store)
    assert client.post(f"{url}/archive", headers=member).status_code == 403
    r = client.post(f"{url}/archive", headers=clerk)
    assert r.status_code == 409 and r.json()["error"]["details"]["state"] == "closed"  # the minutes are not signed
    assert snapshot(world.store) == before

    for who, passphrase, headers in (("secretary", "thu-ky", sec), ("chair", "chu-toa", chair)):
        assert register_certificate(client, world, who, passphrase, admin).status_code == 201
        assert client.post(f"{url}/minutes/sign", json={"passphrase": passphrase}, headers=headers).status_code == 200
    report = client.get(f"{url}/archive", headers=member).json()
    assert report == {"meeting_id": world.meeting_id, "sealed": True, "ok": True, "files": report["files"], "problems": []}
    assert report["files"] >= 6
    r = client.post(f"{url}/archive", headers=clerk)
    assert r.status_code == 409  # sealed once, by the chair's signature

    target = msettings.archive_dir / world.meeting_id / "bieu-quyet.json"
    target.chmod(0o644)
    target.write_text(target.read_text() + " ")
    report = client.get(f"{url}/archive", headers=member).json()
    assert not report["ok"] and report["sealed"] and report["files"] >= 6
    (problem,) = report["problems"]
    assert problem["file"] == "bieu-quyet.json" and set(problem) == {"file", "problem", "message"} and problem["message"]
