"""Signing the minutes through the API: with one's own registered certificate, the secretary first,
and the signatures checked, on the meeting's signed PDF or on any uploaded copy."""

from __future__ import annotations

import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx2 as httpx
import pytest
from fastapi.testclient import TestClient

from tests.conftest import World, login, snapshot
from tests.meeting_room.api.held_meeting import hold_meeting, register_certificate

REPORT_FIELDS = {
    "field", "signer", "signer_subject", "fingerprint_sha256", "signed_at", "timestamp", "timestamp_trusted", "intact", "valid",
    "trusted", "coverage", "modification", "changed_after_signing", "ok", "registered", "summary", "problems",
}  # fmt: skip


def test_the_secretary_signs_with_a_registered_certificate_and_the_signature_verifies(mclient: TestClient, mworld: World) -> None:
    client, world, url = mclient, mworld, f"/api/meetings/{mworld.meeting_id}"
    hold_meeting(client, world)
    sec, admin, member = login(client, "secretary"), login(client, "admin"), login(client, "member1")
    r = client.get(f"{url}/minutes/verify", headers=sec)
    assert r.status_code == 404 and "chưa được ký" in r.json()["error"]["message"]
    draft = client.get(f"{url}/minutes.pdf", headers=sec).content
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
        "seal_problem": None, "seal_problem_en": None,
    }  # fmt: skip

    assert client.get(f"{url}/minutes.pdf", headers=member).status_code == 403  # signed by one of two: still the officers'
    pdf = client.get(f"{url}/minutes.pdf", headers=sec)
    assert pdf.headers["x-minutes-signed"] == "true"
    stored = client.get(f"{url}/minutes/verify", headers=sec).json()
    uploaded = client.post("/api/minutes/verify", files={"file": ("bb.pdf", pdf.content, "application/pdf")}, headers=member).json()
    assert stored == uploaded
    (report,) = stored
    assert set(report) == REPORT_FIELDS  # every field of the report reaches the client
    assert report["field"] == "ChuKy_ThuKy" and report["signer"] == "Người secretary"
    assert report["intact"] and report["valid"] and report["trusted"] and report["ok"] and report["problems"] == []
    assert report["registered"]  # the certificate the administrator registered for the secretary
    assert report["summary"] and not report["changed_after_signing"]


def test_an_agenda_item_nobody_wrote_blocks_signing_until_the_secretary_writes_it(
    mclient: TestClient, mworld: World, tmp_path: Path
) -> None:
    client, world, url = mclient, mworld, f"/api/meetings/{mworld.meeting_id}"
    admin = login(client, "admin")
    r = client.post(f"{url}/agenda", json={"title": "Các vấn đề phát sinh"}, headers=admin)  # nothing said or decided under it
    assert r.status_code == 201
    item = next(i["id"] for i in r.json() if i["title"] == "Các vấn đề phát sinh")
    hold_meeting(client, world)
    sec = login(client, "secretary")
    assert register_certificate(client, world, "secretary", "thu-ky", admin).status_code == 201
    draft = client.get(f"{url}/minutes", headers=sec).json()
    assert next(s["text"] for s in draft["sections"] if s["item_id"] == item) == ""
    assert "Chưa có nội dung" not in _pdf_text(client.get(f"{url}/minutes.pdf", headers=sec).content, tmp_path)

    before = snapshot(world.store)
    r = client.post(f"{url}/minutes/sign", json={"passphrase": "thu-ky"}, headers=sec)
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_minutes"
    error = r.json()["error"]
    assert error["message"].startswith("Chưa thể ký biên bản: mục “Các vấn đề phát sinh” chưa có nội dung")
    assert "'Các vấn đề phát sinh'" in error["message_en"] and error["details"]["sections"] == ["Các vấn đề phát sinh"]
    assert snapshot(world.store) == before  # not even the draft kept as a version

    written = "Không có vấn đề phát sinh."
    assert client.put(f"{url}/minutes", json={"sections": {item: written}}, headers=sec).json() == {"version": 1}
    r = client.post(f"{url}/minutes/sign", json={"passphrase": "thu-ky"}, headers=sec)
    assert r.status_code == 200, r.text
    text = _pdf_text(client.get(f"{url}/minutes.pdf", headers=sec).content, tmp_path)
    assert "3. Các vấn đề phát sinh" in text and written in text and "Chưa có nội dung" not in text


def _pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "bb.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True, text=True).stdout


def test_a_cleared_item_saves_and_falls_back_to_the_automatic_draft(client: TestClient, world: World) -> None:
    hold_meeting(client, world)
    sec, url = login(client, "secretary"), f"/api/meetings/{world.meeting_id}/minutes"
    draft = client.get(url, headers=sec).json()
    sections = {s["item_id"]: s["text"] for s in draft["sections"]}
    first = next(iter(sections))
    drafted, sections[first] = sections[first], "   "  # the secretary clears an item while editing the others
    saved = client.put(url, json={"base_version": draft["version"], "sections": sections}, headers=sec)
    assert saved.status_code == 200, saved.text  # saving a half-written edit is never refused
    again = client.get(url, headers=sec).json()
    assert next(s["text"] for s in again["sections"] if s["item_id"] == first) == drafted
    assert "(Chưa có nội dung)" not in str(again)


def test_the_draft_is_read_only_by_the_officers_and_clerks_until_both_have_signed(mclient: TestClient, mworld: World) -> None:
    client, world, url = mclient, mworld, f"/api/meetings/{mworld.meeting_id}"
    hold_meeting(client, world)
    people = {who: login(client, who) for who in ("secretary", "chair", "clerk", "admin", "member1", "guest")}
    paths = ("/minutes", "/minutes.pdf", "/minutes.docx")

    def readers() -> set[str]:
        return {who for who, headers in people.items() if all(client.get(url + p, headers=headers).status_code == 200 for p in paths)}

    r = client.get(f"{url}/minutes.docx", headers=people["member1"])
    assert r.status_code == 403 and r.json()["error"]["message_en"].startswith("You may not read the minutes before they are signed")
    assert readers() == {"secretary", "chair", "clerk", "admin"}

    def result_seen(who: str) -> bool:  # the vote (closed, not published): its result as the polls' list gives it to ``who``
        (poll,) = client.get(f"{url}/polls", headers=people[who]).json()
        return poll["result"] is not None

    assert (result_seen("member1"), result_seen("guest"), result_seen("chair"), result_seen("clerk")) == (False, False, True, True)
    draft = client.get(f"{url}/minutes", headers=people["secretary"]).json()
    text = "Đại biểu thảo luận kỹ dự toán."
    edit = {"sections": {draft["sections"][0]["item_id"]: text}}
    assert client.put(f"{url}/minutes", json=edit, headers=people["secretary"]).status_code == 200

    def found(who: str) -> int:  # the archive search follows the same rule
        return int(client.get("/api/search", params={"q": "thao luan ky du toan", "kind": "minutes"}, headers=people[who]).json()["total"])

    assert (found("member1"), found("secretary"), found("clerk")) == (0, 1, 1)

    def saved(who: str) -> dict[str, object]:  # the minutes.saved event as the meeting's event feed shows it to ``who``
        events = client.get(f"{url}/events", headers=people[who]).json()["events"]
        return next(e["data"] for e in events if e["type"] == "minutes.saved")

    assert saved("member1") == {"meeting_id": world.meeting_id, "version": 1, "generated": False}  # not the draft's text
    assert text in str(saved("clerk"))
    final = {"sections": {draft["sections"][0]["item_id"]: text + " Thống nhất thông qua."}, "base_version": 1}
    assert client.put(f"{url}/minutes", json=final, headers=people["secretary"]).json() == {"version": 2}
    for who, passphrase in (("secretary", "thu-ky"), ("chair", "chu-toa")):
        assert register_certificate(client, world, who, passphrase, people["admin"]).status_code == 201
        assert client.post(f"{url}/minutes/sign", json={"passphrase": passphrase}, headers=people[who]).status_code == 200
        if who == "secretary":
            assert readers() == {"secretary", "chair", "clerk", "admin"}  # one signature of two: still a draft
            assert not result_seen("member1")
    assert readers() == set(people)  # signed: every participant reads them
    assert result_seen("member1") and result_seen("guest")  # and the results they state, as the polls give them
    # ... the signed version: a draft before it (what was struck before signing) stays the overseers'
    for p in paths:
        early = client.get(f"{url}{p}", params={"version": 1}, headers=people["member1"])
        assert early.status_code == 403, (p, early.text)
        assert client.get(f"{url}{p}", params={"version": 2}, headers=people["member1"]).status_code == 200
        assert client.get(f"{url}{p}", params={"version": 1}, headers=people["clerk"]).status_code == 200
    assert client.get(f"{url}/minutes", headers=people["member1"]).json()["versions"] == [2]
    assert client.get(f"{url}/minutes", headers=people["secretary"]).json()["versions"] == [1, 2]
    assert found("member1") == 1
    assert client.get(f"{url}/minutes/verify", headers=people["member1"]).status_code == 200


def test_wrong_signing_passphrases_are_slowed_like_wrong_passwords(mclient: TestClient, mworld: World) -> None:
    """A session left open on a tablet (or a stolen one) must not let anyone guess the passphrase of the
    key that signs the record: an attacker's probe tried 40 in 1.8 s. After three wrong ones the next
    waits, the right one included, and nothing is stored meanwhile."""
    client, world, url = mclient, mworld, f"/api/meetings/{mworld.meeting_id}"
    hold_meeting(client, world)
    sec, admin = login(client, "secretary"), login(client, "admin")
    assert register_certificate(client, world, "secretary", "thu-ky", admin).status_code == 201
    throttle = client.app.state.runtime.login_throttle  # type: ignore[attr-defined]
    now = [1000.0]
    throttle._clock = lambda: now[0]
    for guess in ("doan-1", "doan-2", "doan-3"):
        r = client.post(f"{url}/minutes/sign", json={"passphrase": guess}, headers=sec)
        assert r.status_code == 422 and r.json()["error"]["message_en"] == "Wrong passphrase for the PKCS#12 file", r.text
        before = snapshot(world.store)  # (the first try saved the draft as the version to sign)
    for passphrase in ("doan-4", "thu-ky"):  # the fourth waits, whichever it is
        r = client.post(f"{url}/minutes/sign", json={"passphrase": passphrase}, headers=sec)
        assert r.status_code == 429 and r.json()["error"]["details"]["retry_after"] >= 1, r.text
    assert snapshot(world.store) == before
    now[0] += 2
    assert client.post(f"{url}/minutes/sign", json={"passphrase": "thu-ky"}, headers=sec).status_code == 200


def test_a_member_has_one_uploaded_pdf_in_the_checker_at_a_time(
    mclient: TestClient, mworld: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The checker takes one PDF at a time, up to its CPU cap each: one member sending file after file
    must not fill its queue ahead of everyone else (an attacker's probe, 10 s of checking per file)."""
    from meeting_room.api.routes import signatures
    from transcripts.signing import SignatureReport, verify_pdf

    client = mclient
    member1, member2 = login(client, "member1"), login(client, "member2")
    hold_meeting(client, mworld)
    draft = client.get(f"/api/meetings/{mworld.meeting_id}/minutes.pdf", headers=login(client, "secretary")).content
    checking, release = threading.Event(), threading.Event()

    def slow_first(pdf: bytes, roots: list[bytes]) -> list[SignatureReport]:  # the real check, held until the test says so
        if not checking.is_set():
            checking.set()
            assert release.wait(60)
        return verify_pdf(pdf, roots)

    monkeypatch.setattr(signatures, "verify_pdf", slow_first)

    def send(who: dict[str, str]) -> httpx.Response:
        return client.post("/api/minutes/verify", files={"file": ("bb.pdf", draft, "application/pdf")}, headers=who)

    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(send, member1)
        assert checking.wait(60)
        again = send(member1)
        assert again.status_code == 429 and again.json()["error"]["code"] == "still_running", again.text
        assert again.headers["retry-after"] == "10" and "đang được kiểm tra" in again.json()["error"]["message"]
        other = send(member2)  # someone else is not held back by member1's turn
        assert other.status_code == 422 and other.json()["error"]["code"] == "not_signed_pdf", other.text
        release.set()
        assert first.result(timeout=60).json()["error"]["code"] == "not_signed_pdf"
    assert send(member1).json()["error"]["code"] == "not_signed_pdf"  # their turn is over: the next is taken
