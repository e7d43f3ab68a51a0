"""Signing the minutes through the API: with one's own registered certificate, the secretary first,
and the signatures checked, on the meeting's signed PDF or on any uploaded copy."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import World, login, snapshot
from tests.meeting_room.api.held_meeting import hold_meeting, register_certificate

REPORT_FIELDS = {
    "field", "signer", "signer_subject", "fingerprint_sha256", "signed_at", "timestamp", "timestamp_trusted", "intact", "valid",
    "trusted", "coverage", "modification", "changed_after_signing", "ok", "summary", "problems",
}  # fmt: skip


def test_the_secretary_signs_with_a_registered_certificate_and_the_signature_verifies(mclient: TestClient, mworld: World) -> None:
    client, world, url = mclient, mworld, f"/api/meetings/{mworld.meeting_id}"
    hold_meeting(client, world)
    sec, admin, member = login(client, "secretary"), login(client, "admin"), login(client, "member1")
    r = client.get(f"{url}/minutes/verify", headers=member)
    assert r.status_code == 404 and "chưa được ký" in r.json()["error"]["message"]
    draft = client.get(f"{url}/minutes.pdf", headers=member).content
    r = client.post("/api/minutes/verify", files={"file": ("bb.pdf", draft, "application/pdf")}, headers=member)
    assert r.status_code == 422 and r.json()["error"]["code"] == "not_signed_pdf"

    before = snapshot(world.store)
    r = client.post(f"{url}/minutes/sign", json={"passphrase": "thu-ky"}, headers=sec)
    assert r.status_code == 409 and "chứng thư số" in r.json()["error"]["message"]  # no certificate registered yet
    assert snapshot(world.store) == before
    assert register_certificate(client, world, "secretary", "thu-ky", admin).status_code == 201
    r = client.post(f"{url}/minutes/sign", json={"passphrase": "thu-ky"}, headers=sec)
    assert r.status_code == 200, r.text
    signed = r.json()
    assert len(signed["pdf_sha256"]) == 64
    assert signed == {  # the draft signed becomes version 1; only the chair's signature seals
        "role": "secretary", "version": 1, "pdf_sha256": signed["pdf_sha256"], "timestamped": False, "sealed": False, "archive_files": None,
    }  # fmt: skip

    pdf = client.get(f"{url}/minutes.pdf", headers=member)
    assert pdf.headers["x-minutes-signed"] == "true"
    stored = client.get(f"{url}/minutes/verify", headers=member).json()
    uploaded = client.post("/api/minutes/verify", files={"file": ("bb.pdf", pdf.content, "application/pdf")}, headers=member).json()
    assert stored == uploaded
    (report,) = stored
    assert set(report) == REPORT_FIELDS  # every field of the report reaches the client
    assert report["field"] == "ChuKy_ThuKy" and report["signer"] == "Người secretary"
    assert report["intact"] and report["valid"] and report["trusted"] and report["ok"] and report["problems"] == []
    assert report["summary"] and not report["changed_after_signing"]
