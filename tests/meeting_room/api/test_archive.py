"""The sealed archive through the API: none before the signatures, sealed by the chair's, checked file by file."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from meeting_room.errors import ConflictError
from meeting_room.services import archive as archive_service
from meeting_room.settings import Settings
from tests.conftest import World, login, snapshot
from tests.meeting_room.api.held_meeting import hold_meeting, register_certificate
from transcripts import archive


def test_only_signed_minutes_are_sealed_and_the_seal_is_checked(
    mclient: TestClient, mworld: World, msettings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, world, url = mclient, mworld, f"/api/meetings/{mworld.meeting_id}"
    chair = hold_meeting(client, world)
    sec, admin, clerk, member = (login(client, who) for who in ("secretary", "admin", "clerk", "member1"))
    unsealed = {"meeting_id": world.meeting_id, "sealed": False, "ok": False, "files": 0, "problems": [], "checked_seconds_ago": 0.0}
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
    assert report == {
        "meeting_id": world.meeting_id, "sealed": True, "ok": True, "files": report["files"], "problems": [], "checked_seconds_ago": 0.0
    }  # fmt: skip
    hashed: list[str] = []
    real_hash = archive.sha256_file

    def counted(path: Path) -> str:
        hashed.append(path.name)
        return real_hash(path)

    monkeypatch.setattr(archive, "sha256_file", counted)
    assert client.get(f"{url}/archive", headers=member).json()["ok"] and hashed == []  # asked again: the same check
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


def test_a_second_seal_waits_for_the_first_and_finds_it_done(
    mclient: TestClient, mworld: World, msettings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A clerk's seal while the chair's is still writing (the recordings take time) must not write the same
    staging folder: it waits, then is told the meeting is sealed, and the archive checks clean."""
    client, world, url = mclient, mworld, f"/api/meetings/{mworld.meeting_id}"
    chair = hold_meeting(client, world)
    sec, admin, clerk = (login(client, who) for who in ("secretary", "admin", "clerk"))
    real_seal = archive.seal
    monkeypatch.setattr("transcripts.archive.seal", lambda *a, **k: (_ for _ in ()).throw(OSError(28, "No space left on device")))
    for who, passphrase, headers in (("secretary", "thu-ky", sec), ("chair", "chu-toa", chair)):
        assert register_certificate(client, world, who, passphrase, admin).status_code == 201
        r = client.post(f"{url}/minutes/sign", json={"passphrase": passphrase}, headers=headers)
        assert r.status_code == 200, r.text
    assert r.json()["sealed"] is False and "No space left on device" in r.json()["seal_problem"]  # signed; the seal waits
    assert client.get(url, headers=chair).json()["state"] == "minutes_signed"

    entered, release = threading.Semaphore(0), threading.Event()

    def slow_seal(*args: Any, **kwargs: Any) -> Any:
        entered.release()
        release.wait(30)  # the first seal is still copying files
        return real_seal(*args, **kwargs)

    monkeypatch.setattr("transcripts.archive.seal", slow_seal)
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    results: dict[str, object] = {}

    def seal(name: str) -> None:
        try:
            results[name] = archive_service.seal(
                world.store, None, world.meeting_id, runtime.minutes_files, runtime.recordings, runtime.documents
            )
        except Exception as exc:
            results[name] = exc

    first = threading.Thread(target=seal, args=("first",))
    first.start()
    assert entered.acquire(timeout=30)  # the first is writing
    second = threading.Thread(target=seal, args=("second",))
    second.start()
    assert not entered.acquire(timeout=1.0)  # the second waits outside, not writing beside it
    release.set()
    first.join(30)
    second.join(30)
    assert isinstance(results["first"], archive_service.SealResult), results
    assert isinstance(results["second"], ConflictError) and "đã được niêm phong" in results["second"].message_vi
    report = client.get(f"{url}/archive", headers=clerk).json()
    assert report["sealed"] and report["ok"] and not report["problems"], report
