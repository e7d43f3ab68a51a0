"""From a held meeting to sealed, signed minutes through the API: the draft from the record, the
secretary's versions, PDF and Word, certificates, two signatures and the sealed archive."""

from __future__ import annotations

import io
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from meeting_room.db import tables as t
from meeting_room.services import transcripts
from meeting_room.settings import Settings
from tests.conftest import World, login, snapshot
from tests.meeting_room.api.held_meeting import CHAIR_SAYS, MEMBER_SAYS, hold_meeting, register_certificate


@pytest.mark.slow
def test_minutes_from_draft_to_sealed_archive(mclient: TestClient, mworld: World, msettings: Settings, tmp_path: Path) -> None:
    client, world, url = mclient, mworld, f"/api/meetings/{mworld.meeting_id}"
    chair = hold_meeting(client, world)
    sec, admin, member = login(client, "secretary"), login(client, "admin"), login(client, "member1")

    r = client.get(f"{url}/minutes", headers=member)
    assert r.status_code == 403 and "trước khi được ký xong" in r.json()["error"]["message"]  # the draft: the officers' until signed
    assert client.get(f"{url}/minutes.pdf", headers=member).status_code == 403
    draft = client.get(f"{url}/minutes", headers=sec).json()
    assert draft["version"] == 0 and draft["versions"] == [] and draft["editable"] is True
    opening, budget = draft["sections"]
    assert opening["title"] == "Khai mạc" and CHAIR_SAYS in opening["text"] and "Người chair (00:00:00)" in opening["text"]
    assert MEMBER_SAYS in budget["text"] and MEMBER_SAYS not in opening["text"]  # said after the chair moved on
    assert budget["polls"][0]["outcome"] == "Thông qua" and budget["polls"][0]["rows"][0]["votes"] == 3
    assert draft["attendance"]["Vắng mặt có lý do"] == ["Người member2 (lý do: đi công tác)"]
    assert draft["number"] == "/BB-HĐND" and draft["place"] == "Phòng họp A, Tầng 2"

    # the secretary edits; every version is kept; a stale editor is told to reload
    edited = "Chủ tọa khai mạc phiên họp, giới thiệu chương trình.\nĐại biểu thống nhất chương trình."
    assert client.put(f"{url}/minutes", json={"sections": {opening["item_id"]: edited}}, headers=member).status_code == 403
    r = client.put(
        f"{url}/minutes", json={"base_version": 0, "number": "12/BB-HĐND", "sections": {opening["item_id"]: edited}}, headers=sec
    )
    assert r.status_code == 200 and r.json() == {"version": 1}
    before = snapshot(world.store)
    r = client.put(f"{url}/minutes", json={"base_version": 0, "closing": "x"}, headers=sec)
    assert r.status_code == 409 and "phiên bản 1" in r.json()["error"]["message"]
    r = client.put(f"{url}/minutes", json={"sections": {"khong-co": "abc"}}, headers=sec)
    assert r.status_code == 422 and opening["item_id"] in r.json()["error"]["details"]["accepted"]
    assert snapshot(world.store) == before
    assert client.put(f"{url}/minutes", json={"base_version": 1, "recipients": ["Thường trực HĐND tỉnh"]}, headers=sec).json() == {
        "version": 2
    }
    current = client.get(f"{url}/minutes", headers=sec).json()
    assert current["version"] == 2 and current["versions"] == [1, 2] and current["number"] == "12/BB-HĐND"
    assert current["sections"][0]["text"] == edited and current["editable"]
    assert client.get(f"{url}/minutes?version=1", headers=sec).json()["recipients"] == ["Các thành viên dự họp"]

    pdf = client.get(f"{url}/minutes.pdf", headers=sec)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf" and pdf.headers["x-minutes-signed"] == "false"
    (tmp_path / "draft.pdf").write_bytes(pdf.content)
    day = datetime.fromisoformat(client.get(url, headers=sec).json()["starts_at"]).astimezone(ZoneInfo("Asia/Ho_Chi_Minh")).date()
    # named so that a clerk can file it: what, the day, the title (plain ASCII), not the meeting's id
    assert pdf.headers["content-disposition"] == f"attachment; filename*=UTF-8''bien-ban-{day.isoformat()}-phien-hop-thuong-ky-thang-11.pdf"
    text = subprocess.run(["pdftotext", str(tmp_path / "draft.pdf"), "-"], check=True, capture_output=True, text=True).stdout
    named = "Tán thành (3): Người chair, Người member1, Người secretary."  # a named vote: who chose what, under its count
    for expected in (
        "Số: 12/BB-HĐND",
        "Đại biểu thống nhất chương trình.",
        "Thông qua dự toán ngân sách 2027",
        "- Thường trực HĐND tỉnh;",
        MEMBER_SAYS[:40],
        named,
    ):
        assert expected in " ".join(text.split()), expected
    assert "Không tán thành (0)" not in text  # an option nobody chose names nobody
    assert client.get(f"{url}/minutes.docx", headers=member).status_code == 403
    word = client.get(f"{url}/minutes.docx", headers=sec)
    assert word.status_code == 200 and word.content[:2] == b"PK"
    assert word.headers["content-disposition"].endswith(f"bien-ban-{day.isoformat()}-phien-hop-thuong-ky-thang-11.docx")
    srt = client.get(f"{url}/transcript?format=srt", headers=sec)
    assert srt.headers["content-disposition"].endswith(f"loi-phat-bieu-{day.isoformat()}-phien-hop-thuong-ky-thang-11.srt")
    import docx

    paragraphs = [p.text for p in docx.Document(io.BytesIO(word.content)).paragraphs]
    assert "BIÊN BẢN" in paragraphs and edited.splitlines()[1] in paragraphs and named in paragraphs
    transcript_word = client.get(f"{url}/transcript.docx", headers=member)
    assert any(MEMBER_SAYS in p.text for p in docx.Document(io.BytesIO(transcript_word.content)).paragraphs)

    # certificates: the administrator registers each signer's PKCS#12; the passphrase is checked, not kept
    assert client.get(f"{url}/minutes", headers=sec).json()["signing_key"] == "none"  # said before a passphrase is asked
    assert register_certificate(client, world, "secretary", "thu-ky", sec).status_code == 403
    r = register_certificate(client, world, "secretary", "thu-ky", admin)
    assert r.status_code == 201 and r.json()["common_name"] == "Người secretary"
    wrong = client.post(f"/api/members/{world.ids['chair']}/certificate", files={"file": ("c.p12", b"junk", "application/x-pkcs12")},
                        data={"passphrase": "x"}, headers=admin)  # fmt: skip
    assert wrong.status_code == 422 and "PKCS#12" in wrong.json()["error"]["message"]
    assert register_certificate(client, world, "chair", "chu-toa", admin).status_code == 201
    assert b"thu-ky" not in b"".join(p.read_bytes() for p in (msettings.data_dir).rglob("*.sqlite3*"))

    # signatures: secretary first, then chair; the chair's signature seals the archive
    def turn() -> dict[str, bool | None]:  # whose signature the minutes wait for, as each reads them (None: may not read)
        people = {"sec": sec, "chair": chair, "member": member}
        answers = {name: client.get(f"{url}/minutes", headers=h) for name, h in people.items()}
        return {name: r.json()["can_sign"] if r.status_code == 200 else None for name, r in answers.items()}

    assert turn() == {"sec": True, "chair": False, "member": None}  # a member reads the minutes once they are signed
    assert client.get(f"{url}/minutes", headers=sec).json()["signing_key"] == "server"
    assert client.get(f"{url}/minutes", headers=chair).json()["signing_key"] is None  # not their turn yet
    # a certificate whose validity ended after it was registered: said on the page, refused by the server
    cert = t.SignerCertificate
    with world.store.engine.begin() as conn:
        registered_until = conn.execute(select(cert.not_after).where(cert.member_id == world.ids["secretary"])).scalar_one()
        conn.execute(update(cert).where(cert.member_id == world.ids["secretary"]).values(not_after=datetime.now(UTC) - timedelta(days=1)))
    assert client.get(f"{url}/minutes", headers=sec).json()["signing_key"] == "expired"
    before = snapshot(world.store)
    r = client.post(f"{url}/minutes/sign", json={"passphrase": "thu-ky"}, headers=sec)
    assert r.status_code == 409 and "đã hết hạn ngày" in r.json()["error"]["message"] and snapshot(world.store) == before
    with world.store.engine.begin() as conn:
        conn.execute(update(cert).where(cert.member_id == world.ids["secretary"]).values(not_after=registered_until))
    r = client.post(f"{url}/minutes/sign", json={"passphrase": "chu-toa"}, headers=chair)
    assert r.status_code == 409 and "Thư ký cần ký trước" in r.json()["error"]["message"]
    r = client.post(f"{url}/minutes/sign", json={"passphrase": "sai"}, headers=sec)
    assert r.status_code == 422 and "Mật khẩu" in r.json()["error"]["message"]
    assert client.post(f"{url}/minutes/sign", json={"passphrase": "x"}, headers=member).status_code == 403
    r = client.post(f"{url}/minutes/sign", json={"passphrase": "thu-ky"}, headers=sec)
    assert r.status_code == 200 and r.json()["role"] == "secretary" and r.json()["version"] == 2 and not r.json()["sealed"]
    assert client.post(f"{url}/minutes/sign", json={"passphrase": "thu-ky"}, headers=sec).status_code == 409  # double submit
    assert turn() == {"sec": False, "chair": True, "member": None}
    r = client.put(f"{url}/minutes", json={"closing": "sửa sau khi ký"}, headers=sec)
    assert r.status_code == 409 and "đã được ký" in r.json()["error"]["message"]
    r = client.post(f"{url}/minutes/sign", json={"passphrase": "chu-toa"}, headers=chair)
    assert r.status_code == 200 and r.json()["role"] == "chair" and r.json()["sealed"] and r.json()["archive_files"] >= 6
    meeting = client.get(url, headers=chair).json()
    assert meeting["state"] == "archived"
    assert turn() == {"sec": False, "chair": False, "member": False}

    reports = client.get(f"{url}/minutes/verify", headers=member).json()
    assert [(x["field"], x["signer"], x["ok"]) for x in reports] == [
        ("ChuKy_ThuKy", "Người secretary", True),
        ("ChuKy_ChuToa", "Người chair", True),
    ]
    signed = client.get(f"{url}/minutes.pdf", headers=member)
    assert signed.headers["x-minutes-signed"] == "true"
    tampered = bytearray(signed.content)
    tampered[len(tampered) // 5] ^= 0x01
    r = client.post("/api/minutes/verify", files={"file": ("bb.pdf", bytes(tampered), "application/pdf")}, headers=member)
    assert r.status_code == 200 and not any(x["intact"] for x in r.json())
    r = client.post("/api/minutes/verify", files={"file": ("x.txt", b"hello", "text/plain")}, headers=member)
    assert r.status_code == 422

    # sealed: nothing of the meeting changes any more, whoever asks
    before = snapshot(world.store)
    r = client.put(f"{url}/attendance/{world.ids['member2']}", json={"status": "present_in_room"}, headers=admin)
    assert r.status_code == 409
    with pytest.raises(Exception) as err:
        transcripts.new_pass(world.store, world.meeting_id, "final", "whisper-base")
    assert getattr(err.value, "code", "") == "meeting_sealed"
    assert client.post(f"{url}/archive", headers=login(client, "clerk")).status_code == 409
    assert snapshot(world.store) == before

    assert client.get(f"{url}/archive", headers=member).json()["ok"] is True
    archive_dir = msettings.archive_dir / world.meeting_id
    names = {p.name for p in archive_dir.iterdir()}
    assert {"bien-ban-da-ky.pdf", "bien-ban.json", "ban-ghi-loi-noi.json", "diem-danh.json", "bieu-quyet.json",
            "nhat-ky-su-kien.jsonl", "manifest.json"} <= names  # fmt: skip
    target = archive_dir / "diem-danh.json"
    target.chmod(0o644)
    target.write_text(target.read_text().replace("đi công tác", "có mặt"))
    report = client.get(f"{url}/archive", headers=member).json()
    assert not report["ok"] and report["problems"][0]["file"] == "diem-danh.json"

    from meeting_room.cli import main

    result = CliRunner().invoke(main, ["verify"], env={"MEETING_ROOM_DATA_DIR": str(msettings.data_dir)}, catch_exceptions=False)
    assert result.exit_code == 1 and "diem-danh.json" in result.output and "đã bị thay đổi" in result.output
    pdf_path = tmp_path / "signed.pdf"
    pdf_path.write_bytes(signed.content)
    result = CliRunner().invoke(
        main, ["minutes", "verify", "--trust", str(msettings.trust_roots[0]), str(pdf_path)], catch_exceptions=False
    )
    assert result.exit_code == 0 and "OK: mọi chữ ký hợp lệ" in result.output and "coverage=entire_file" in result.output
