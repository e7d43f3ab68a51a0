"""The conclusion notice through the API: drafted from the minutes' conclusions and the polls, edited in
versions, refused for signing while an item has no conclusion, signed by the chair alone (checked with
pyHanko), read by the officers first and by everyone once signed, and sealed with the archive."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from meeting_room import events as ev
from meeting_room.services import notice as notice_service
from meeting_room.settings import Settings
from tests.conftest import World, login, snapshot
from tests.meeting_room.api.held_meeting import hold_meeting, register_certificate
from tests.pki import root_ca
from transcripts import archive
from transcripts.signing import sign_pdf, verify_pdf

SHOTS = Path(os.environ.get("MEETING_ROOM_SCREENSHOTS", Path(__file__).parents[3] / "test-artifacts" / "screenshots"))
VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
CONCLUDED = "Thống nhất khai mạc kỳ họp theo chương trình đã gửi."


def _text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "tb.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout


def test_the_chair_signs_the_notice_drafted_from_the_minutes_and_the_polls(
    mclient: TestClient, mworld: World, msettings: Settings, tmp_path: Path
) -> None:
    client, world, url = mclient, mworld, f"/api/meetings/{mworld.meeting_id}"
    admin = login(client, "admin")
    r = client.post(f"{url}/agenda", json={"title": "Các vấn đề phát sinh"}, headers=admin)  # nothing said or decided under it
    spare = next(i["id"] for i in r.json() if i["title"] == "Các vấn đề phát sinh")
    chair = hold_meeting(client, world)
    people = {who: login(client, who) for who in ("secretary", "clerk", "member1", "guest")}
    sec, member = people["secretary"], people["member1"]
    minutes = f"Các đại biểu thảo luận.\nChủ tọa kết luận: {CONCLUDED.lower()}"
    assert client.put(f"{url}/minutes", json={"sections": {world.item_ids[0]: minutes}}, headers=sec).status_code == 200

    draft = client.get(f"{url}/notice", headers=sec).json()
    texts = {i["item_id"]: i["text"] for i in draft["items"]}
    assert texts[world.item_ids[0]] == CONCLUDED  # what follows "kết luận" in the minutes
    assert texts[world.item_ids[1]].startswith("Biểu quyết “Thông qua dự toán ngân sách 2027”: Thông qua")  # the poll's outcome
    assert texts[spare] == ""  # nothing to draft from: the secretary writes it
    assert draft["version"] == 0 and draft["number"].startswith("/TB-") and draft["signature"] is None
    assert draft["heading"].startswith("Kết luận của ") and draft["heading"].endswith("tại Phiên họp thường kỳ tháng 11")
    assert draft["editable"] and not draft["can_sign"]
    assert client.get(f"{url}/notice", headers=chair).json()["can_sign"]

    def readers() -> set[str]:
        return {who for who, h in people.items() if client.get(f"{url}/notice", headers=h).status_code == 200}

    assert readers() == {"secretary", "clerk"}
    r = client.get(f"{url}/notice.pdf", headers=member)
    assert r.status_code == 403 and r.json()["error"]["message_en"].startswith("You may not read the conclusion notice before it is signed")
    assert client.put(f"{url}/notice", json={"items": {spare: "x"}}, headers=member).status_code == 403

    assert register_certificate(client, world, "chair", "chu-toa", admin).status_code == 201
    before = snapshot(world.store)
    r = client.post(f"{url}/notice/sign", json={"passphrase": "chu-toa"}, headers=chair)
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["message"].startswith("Chưa thể ký thông báo kết luận: mục “Các vấn đề phát sinh” chưa có kết luận")
    assert error["details"]["sections"] == ["Các vấn đề phát sinh"]
    assert snapshot(world.store) == before  # not even the draft kept

    written = "Giao Văn phòng tổng hợp các kiến nghị phát sinh, báo cáo tại phiên họp sau."
    body = {"base_version": 0, "items": {spare: written}, "number": "15/TB-HĐND", "locality": "Sơn Hà"}
    assert client.put(f"{url}/notice", json=body, headers=sec).json() == {"version": 1}
    r = client.put(f"{url}/notice", json=body, headers=sec)
    assert r.status_code == 409 and r.json()["error"]["details"]["current"] == 1  # a lost update refused
    saved = client.get(f"{url}/notice", headers=sec).json()
    assert saved["version"] == 1 and saved["versions"] == [1] and saved["number"] == "15/TB-HĐND"
    assert {i["item_id"]: i["text"] for i in saved["items"]} == {**texts, spare: written}

    pdf = client.get(f"{url}/notice.pdf", headers=sec)
    assert pdf.headers["x-notice-signed"] == "false"
    page = _text(pdf.content, tmp_path)
    for expected in ("Số: 15/TB-HĐND", "Sơn Hà, ngày", "THÔNG BÁO", "1. Khai mạc: " + CONCLUDED, "3. Các vấn đề phát sinh:", "Nơi nhận:"):
        assert expected in page, expected
    SHOTS.mkdir(parents=True, exist_ok=True)
    (tmp_path / "tb.pdf").write_bytes(pdf.content)
    page1 = ["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile", str(tmp_path / "tb.pdf"), str(SHOTS / "notice-page1")]
    subprocess.run(page1, check=True)

    assert client.post(f"{url}/notice/sign", json={"passphrase": "thu-ky"}, headers=sec).status_code == 403  # the chair alone
    r = client.post(f"{url}/notice/sign", json={"passphrase": "chu-toa"}, headers=chair)
    assert r.status_code == 200, r.text
    assert r.json() == {"version": 1, "pdf_sha256": r.json()["pdf_sha256"], "timestamped": False}
    assert readers() == set(people)  # signed: every participant reads it
    signed = client.get(f"{url}/notice.pdf", headers=member)
    assert signed.headers["x-notice-signed"] == "true"
    (report,) = verify_pdf(signed.content, [root_ca().pem])
    assert report.ok and report.field == "ChuKy_ChuToa" and report.signer == "Người chair" and not report.changed_after_signing
    r = client.put(f"{url}/notice", json={"items": {spare: "khác"}}, headers=sec)
    assert r.status_code == 409 and "đã được ký" in r.json()["error"]["message"]
    assert client.post(f"{url}/notice/sign", json={"passphrase": "chu-toa"}, headers=chair).status_code == 409

    assert register_certificate(client, world, "secretary", "thu-ky", admin).status_code == 201
    assert client.put(f"{url}/minutes", json={"sections": {spare: "Không có."}}, headers=sec).status_code == 200
    for passphrase, headers in (("thu-ky", sec), ("chu-toa", chair)):
        assert client.post(f"{url}/minutes/sign", json={"passphrase": passphrase}, headers=headers).status_code == 200
    sealed = msettings.archive_dir / world.meeting_id / "thong-bao-ket-luan-da-ky.pdf"
    assert sealed.read_bytes() == signed.content  # the chair's signature on the minutes sealed the notice with the record
    assert client.get(f"{url}/archive", headers=member).json()["ok"]


def test_a_written_notice_is_signed_before_the_chairs_signature_seals_the_meeting(
    mclient: TestClient, mworld: World, msettings: Settings
) -> None:
    """The chair's signature on the minutes seals the record, and a notice can never be signed after it
    (found in a walk-through): one that somebody wrote holds that signature up until the chair signs it.
    An automatic draft nobody saved does not (not every meeting issues a notice; the page warns)."""
    client, world, url = mclient, mworld, f"/api/meetings/{mworld.meeting_id}"
    admin = login(client, "admin")
    chair = hold_meeting(client, world)
    sec = login(client, "secretary")
    minutes = f"Các đại biểu thảo luận.\nChủ tọa kết luận: {CONCLUDED.lower()}"
    assert client.put(f"{url}/minutes", json={"sections": {world.item_ids[0]: minutes}}, headers=sec).status_code == 200
    assert client.put(f"{url}/notice", json={"base_version": 0, "number": "16/TB-HĐND"}, headers=sec).json() == {"version": 1}
    for who, passphrase in (("secretary", "thu-ky"), ("chair", "chu-toa")):
        assert register_certificate(client, world, who, passphrase, admin).status_code == 201
    assert client.post(f"{url}/minutes/sign", json={"passphrase": "thu-ky"}, headers=sec).status_code == 200
    before = snapshot(world.store)
    r = client.post(f"{url}/minutes/sign", json={"passphrase": "chu-toa"}, headers=chair)
    assert r.status_code == 409 and r.json()["error"]["details"]["needs"] == "notice_signed", r.text
    assert r.json()["error"]["message"].startswith("Thông báo kết luận đã được soạn nhưng chưa ký")
    assert snapshot(world.store) == before and not (msettings.archive_dir / world.meeting_id).exists()  # nothing sealed
    # a chair whose key is on a USB token could not sign the notice on the server: their path is not held up
    assert client.post(f"{url}/minutes/to-sign", headers=chair).status_code == 200
    # wrong passphrases on the notice count with the minutes' ones (one guesser, whatever they sign)
    throttle = client.app.state.runtime.login_throttle  # type: ignore[attr-defined]
    now = [5000.0]
    throttle._clock = lambda: now[0]
    for guess in ("doan-1", "doan-2", "doan-3"):
        assert client.post(f"{url}/notice/sign", json={"passphrase": guess}, headers=chair).status_code == 422
    assert client.post(f"{url}/minutes/sign", json={"passphrase": "chu-toa"}, headers=chair).status_code == 429
    now[0] += 2
    assert client.post(f"{url}/notice/sign", json={"passphrase": "chu-toa"}, headers=chair).status_code == 200
    r = client.post(f"{url}/minutes/sign", json={"passphrase": "chu-toa"}, headers=chair)
    assert r.status_code == 200 and r.json()["sealed"], r.text
    assert (msettings.archive_dir / world.meeting_id / "thong-bao-ket-luan-da-ky.pdf").is_file()


def _signed_by_the_secretary(client: TestClient, world: World) -> dict[str, str]:
    """A held meeting whose minutes conclude its first item, both signers' certificates registered, the
    secretary's signature made; returns the chair's headers (the chair's signature would seal)."""
    url, admin = f"/api/meetings/{world.meeting_id}", login(client, "admin")
    chair, sec = hold_meeting(client, world), login(client, "secretary")
    sections = {world.item_ids[0]: f"Chủ tọa kết luận: {CONCLUDED.lower()}"}
    assert client.put(f"{url}/minutes", json={"sections": sections}, headers=sec).status_code == 200
    for who, passphrase in (("secretary", "thu-ky"), ("chair", "chu-toa")):
        assert register_certificate(client, world, who, passphrase, admin).status_code == 201
    assert client.post(f"{url}/minutes/sign", json={"passphrase": "thu-ky"}, headers=sec).status_code == 200
    return chair


def test_a_notice_written_while_the_chair_signs_still_holds_the_seal_up(
    mclient: TestClient, mworld: World, msettings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rule is checked again where the chair's signature is recorded: a notice saved while the PDF was
    being signed (after the first check) refuses the signature, and nothing is sealed."""
    client, world, url = mclient, mworld, f"/api/meetings/{mworld.meeting_id}"
    chair = _signed_by_the_secretary(client, world)

    def sign_while_the_secretary_saves_a_notice(*args: object, **kwargs: object) -> bytes:
        edit = notice_service.NoticeEdit(number="17/TB-HĐND")
        notice_service.save_version(world.store, world.actor("secretary"), world.meeting_id, edit, tz=VIETNAM, base_version=0)
        return sign_pdf(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr("meeting_room.services.minutes.sign_pdf", sign_while_the_secretary_saves_a_notice)
    r = client.post(f"{url}/minutes/sign", json={"passphrase": "chu-toa"}, headers=chair)
    assert r.status_code == 409 and r.json()["error"]["details"]["needs"] == "notice_signed", r.text
    monkeypatch.undo()
    assert client.get(url, headers=chair).json()["state"] == "closed"  # the chair's signature was not recorded
    assert not (msettings.archive_dir / world.meeting_id).exists()
    assert client.post(f"{url}/notice/sign", json={"passphrase": "chu-toa"}, headers=chair).status_code == 200
    r = client.post(f"{url}/minutes/sign", json={"passphrase": "chu-toa"}, headers=chair)
    assert r.status_code == 200 and r.json()["sealed"], r.text


def test_a_notice_signed_while_the_archive_is_written_is_not_sealed_without_it(
    mclient: TestClient, mworld: World, msettings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The seal writes its files from one reading, then records them: a notice signed in between would be
    in the log but not in the archive, so the seal is refused and a retry seals it with the notice."""
    client, world, url = mclient, mworld, f"/api/meetings/{mworld.meeting_id}"
    chair, clerk = _signed_by_the_secretary(client, world), login(client, "clerk")
    signed: list[ev.NoticeSigned] = []
    real_seal = archive.seal

    def seal_while_the_notice_is_signed(*args: object, **kwargs: object) -> object:
        done = real_seal(*args, **kwargs)  # type: ignore[arg-type]
        files = client.app.state.runtime.minutes_files  # type: ignore[attr-defined]
        signed.append(notice_service.sign(world.store, world.actor("chair"), world.meeting_id, "chu-toa", files, tz=VIETNAM))
        return done

    monkeypatch.setattr("transcripts.archive.seal", seal_while_the_notice_is_signed)
    r = client.post(f"{url}/minutes/sign", json={"passphrase": "chu-toa"}, headers=chair)
    monkeypatch.undo()
    assert signed and r.status_code == 200 and r.json()["sealed"] is False, r.text  # the signature stands; the seal waits
    assert "niêm phong lại" in r.json()["seal_problem"] and "seal again" in r.json()["seal_problem_en"]
    assert client.get(url, headers=chair).json()["state"] == "minutes_signed"  # signed, not sealed: a clerk retries
    r = client.post(f"{url}/archive", headers=clerk)
    assert r.status_code == 200, r.text
    assert (msettings.archive_dir / world.meeting_id / "thong-bao-ket-luan-da-ky.pdf").is_file()
