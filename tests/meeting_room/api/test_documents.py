"""PDF documents on agenda items: upload, download, and every kind of bad file."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from reportlab.pdfgen import canvas

from tests.conftest import World, client_runtime, login, snapshot


def make_pdf(pages: int = 2, text: str = "Dự thảo Nghị quyết") -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    for n in range(pages):
        c.drawString(72, 720, f"{text} — trang {n + 1}")
        c.showPage()
    c.save()
    return buf.getvalue()


def _upload(client: TestClient, world: World, headers: dict[str, str], data: bytes, name: str = "du-thao.pdf", **form: str):
    url = f"/api/meetings/{world.meeting_id}/agenda/{world.item_ids[1]}/documents"
    return client.post(url, files={"file": (name, data, "application/pdf")}, data=form, headers=headers)


def test_upload_list_download(client: TestClient, world: World) -> None:
    sec = login(client, "secretary")
    pdf = make_pdf(3)
    r = _upload(client, world, sec, pdf, name="Tờ trình số 12.pdf", title="Tờ trình dự toán ngân sách 2027")
    assert r.status_code == 201, r.text
    doc = r.json()
    assert (doc["pages"], doc["size"], doc["title"], doc["filename"]) == (
        3,
        len(pdf),
        "Tờ trình dự toán ngân sách 2027",
        "Tờ trình số 12.pdf",
    )
    member = login(client, "member1")  # every participant can read the documents
    agenda = client.get(f"/api/meetings/{world.meeting_id}/agenda", headers=member).json()
    assert [d["id"] for d in agenda[1]["documents"]] == [doc["id"]]
    got = client.get(doc["url"], headers=member)
    assert got.status_code == 200 and got.content == pdf and got.headers["content-type"] == "application/pdf"
    assert got.headers["content-disposition"].startswith("inline")
    attached = client.get(doc["url"] + "?download=true", headers=member)
    assert (
        attached.headers["content-disposition"].startswith("attachment")
        and "filename*=utf-8''T%E1%BB%9D" in attached.headers["content-disposition"]
    )
    assert client.get(doc["url"], headers=login(client, "outsider")).status_code == 404


def test_title_defaults_to_the_file_name(client: TestClient, world: World) -> None:
    r = _upload(client, world, login(client, "secretary"), make_pdf(1), name="../../etc/Báo cáo.pdf")
    assert r.status_code == 201 and (r.json()["filename"], r.json()["title"]) == ("Báo cáo.pdf", "Báo cáo")


@pytest.mark.parametrize(
    ("data", "status", "needle"),
    [
        (b"", 415, "rỗng"),
        (b"Hello, this is a text file, not a PDF at all.", 415, "không phải PDF"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 100, 415, "không phải PDF"),
        (b"%PDF-1.7\n" + b"garbage " * 200, 415, "bị hỏng"),
        (make_pdf(1)[:300], 415, "bị hỏng"),
    ],
)
def test_bad_files_are_refused_and_store_nothing(client: TestClient, world: World, data: bytes, status: int, needle: str) -> None:
    sec = login(client, "secretary")
    before = snapshot(world.store)
    r = _upload(client, world, sec, data)
    assert r.status_code == status, r.text
    assert needle in r.json()["error"]["message"] and r.json()["error"]["message_en"]
    assert snapshot(world.store) == before
    assert list((world_files(client)).glob("**/*.pdf")) == []


def test_a_title_too_long_is_refused_before_the_file_is_stored(client: TestClient, world: World) -> None:
    """A 600-character title was refused by the event after its PDF was stored: the file stayed on disk
    with no document, and repeated uploads filled the disk unseen (an attacker's probe)."""
    sec = login(client, "secretary")
    doc = _upload(client, world, sec, make_pdf(1)).json()
    before = snapshot(world.store)
    r = _upload(client, world, sec, make_pdf(2, "Tờ trình"), title="T" * 600)
    assert r.status_code == 422 and "500" in r.text, r.text
    replaced = client.put(
        f"/api/meetings/{world.meeting_id}/documents/{doc['id']}/file",
        files={"file": ("v2.pdf", make_pdf(3, "Báo cáo"), "application/pdf")},
        data={"title": "T" * 600},
        headers=sec,
    )
    assert replaced.status_code == 422, replaced.text
    assert snapshot(world.store) == before and len(list(world_files(client).glob("**/*.pdf"))) == 1
    named = _upload(client, world, sec, make_pdf(2, "Tờ trình"), title="  Tờ trình số 12  ").json()
    assert named["title"] == "Tờ trình số 12", named


def world_files(client: TestClient) -> Path:
    return client_runtime(client).documents.root


def test_oversized_upload_is_413(client: TestClient, world: World) -> None:
    """The test settings allow 1 MB: a 1.5 MB PDF is refused while it streams in."""
    sec = login(client, "secretary")
    big = make_pdf(1).replace(b"%%EOF", b"%" + b"x" * 1_500_000 + b"\n%%EOF")
    before = snapshot(world.store)
    r = _upload(client, world, sec, big)
    assert r.status_code == 413 and "giới hạn là 1 MB" in r.json()["error"]["message"]
    assert snapshot(world.store) == before


def test_upload_needs_a_file_field_and_multipart(client: TestClient, world: World) -> None:
    sec = login(client, "secretary")
    url = f"/api/meetings/{world.meeting_id}/agenda/{world.item_ids[0]}/documents"
    r = client.post(url, data={"title": "không có tệp"}, headers=sec)
    assert r.status_code == 422 and "file" in r.json()["error"]["message_en"]
    r = client.post(url, content=make_pdf(1), headers={**sec, "content-type": "application/pdf"})
    assert r.status_code == 422 and r.json()["error"]["details"]["accepted"] == "multipart/form-data"


def test_members_cannot_upload_and_unknown_item_is_404(client: TestClient, world: World) -> None:
    before = snapshot(world.store)
    assert _upload(client, world, login(client, "member1"), make_pdf(1)).status_code == 403
    # refused before the body is read (an attacker's probe had the server store 50 MB first): a body that
    # is no form at all is not even looked at
    garbage = {**login(client, "member1"), "content-type": "multipart/form-data; boundary=khong-phai-form"}
    url = f"/api/meetings/{world.meeting_id}/agenda/{world.item_ids[1]}/documents"
    assert client.post(url, content=b"x" * 1000, headers=garbage).status_code == 403
    doc = _upload(client, world, login(client, "secretary"), make_pdf(1)).json()
    replace_url = f"/api/meetings/{world.meeting_id}/documents/{doc['id']}/file"
    assert client.put(replace_url, content=b"x" * 1000, headers=garbage).status_code == 403
    before = snapshot(world.store)
    url = f"/api/meetings/{world.meeting_id}/agenda/nope/documents"
    r = client.post(url, files={"file": ("a.pdf", make_pdf(1), "application/pdf")}, headers=login(client, "secretary"))
    assert r.status_code == 404
    assert snapshot(world.store) == before


def test_remove_document(client: TestClient, world: World) -> None:
    sec = login(client, "secretary")
    doc = _upload(client, world, sec, make_pdf(1)).json()
    assert client.delete(f"/api/meetings/{world.meeting_id}/documents/{doc['id']}", headers=sec).status_code == 204
    assert client.get(f"/api/meetings/{world.meeting_id}/documents", headers=sec).json() == []
    assert client.get(doc["url"], headers=sec).status_code == 404
    assert client.delete(f"/api/meetings/{world.meeting_id}/documents/{doc['id']}", headers=sec).status_code == 404


def test_the_file_answers_range_requests(client: TestClient, world: World) -> None:
    """The viewer (pdf.js) reads a large PDF piece by piece: the file route answers byte ranges,
    only to someone who may read the document, and never compressed (a range of a gzip is useless)."""
    pdf = make_pdf(40)
    doc = _upload(client, world, login(client, "secretary"), pdf).json()
    member = login(client, "member1")
    whole = client.get(doc["url"], headers=member)
    assert whole.headers["accept-ranges"] == "bytes" and int(whole.headers["content-length"]) == len(pdf)
    assert "content-encoding" not in whole.headers
    assert whole.headers["cache-control"] == "private, no-store"  # a shared tablet's browser keeps no copy after logout
    part = client.get(doc["url"], headers={**member, "Range": "bytes=100-1123"})
    assert part.status_code == 206 and part.content == pdf[100:1124]
    assert part.headers["content-range"] == f"bytes 100-1123/{len(pdf)}" and part.headers["content-length"] == "1024"
    tail = client.get(doc["url"], headers={**member, "Range": "bytes=-200"})  # where the cross-reference table is
    assert tail.status_code == 206 and tail.content == pdf[-200:]
    assert client.get(doc["url"], headers={**member, "Range": f"bytes={len(pdf) + 10}-"}).status_code == 416
    # the same version (If-Range with its ETag) gets the range; a changed one the whole file
    same = client.get(doc["url"], headers={**member, "Range": "bytes=0-9", "If-Range": whole.headers["etag"]})
    assert same.status_code == 206 and same.content == pdf[:10]
    other = client.get(doc["url"], headers={**member, "Range": "bytes=0-9", "If-Range": '"not-this-one"'})
    assert other.status_code == 200 and other.content == pdf
    # a range is no way around access: outsiders 404, no session 401
    assert client.get(doc["url"], headers={**login(client, "outsider"), "Range": "bytes=0-9"}).status_code == 404
    assert client.get(doc["url"], headers={"Range": "bytes=0-9"}).status_code == 401


def test_replace_a_document_keeps_its_item_and_title(client: TestClient, world: World) -> None:
    sec = login(client, "secretary")
    old = _upload(client, world, sec, make_pdf(1), name="v1.pdf", title="Dự thảo Nghị quyết").json()
    url = f"/api/meetings/{world.meeting_id}/documents/{old['id']}/file"
    newer = make_pdf(4)
    r = client.put(url, files={"file": ("Dự thảo v2.pdf", newer, "application/pdf")}, headers=sec)
    assert r.status_code == 201, r.text
    new = r.json()
    assert (new["agenda_item_id"], new["title"], new["filename"], new["pages"], new["size"]) == (
        world.item_ids[1],
        "Dự thảo Nghị quyết",
        "Dự thảo v2.pdf",
        4,
        len(newer),
    )
    docs = client.get(f"/api/meetings/{world.meeting_id}/documents", headers=sec).json()
    assert [d["id"] for d in docs] == [new["id"]]  # the old one is gone, in the same write
    assert client.get(new["url"], headers=sec).content == newer
    attached = [e.data for e in world.store.events(meeting_id=world.meeting_id) if e.type == "document.attached"]
    assert attached[-1]["replaces"] == old["id"]
    # a title given with the new file wins
    url = f"/api/meetings/{world.meeting_id}/documents/{new['id']}/file"
    r = client.put(url, files={"file": ("v3.pdf", make_pdf(1))}, data={"title": "Bản cuối"}, headers=sec)
    assert r.status_code == 201 and r.json()["title"] == "Bản cuối"


def test_a_replacement_has_the_uploads_size_limit(client: TestClient, world: World) -> None:
    """A file just under the limit (1 MB in the tests) replaces one as it uploads: the replacement's path
    had the 1 MB limit of a JSON request, which its form's own framing pushed it over (attacker probe)."""
    sec = login(client, "secretary")
    old = _upload(client, world, sec, make_pdf(1)).json()

    def text_pdf(subject: str) -> bytes:  # plain text: 43 pages make ~1.03 MB; the subject tops it up
        buf = io.BytesIO()
        c = canvas.Canvas(buf, pageCompression=0)
        c.setSubject(subject)
        for page in range(43):
            for line in range(60):
                c.drawString(72, 60 + 11 * line, f"Dự thảo Nghị quyết về dự toán ngân sách — trang {page:03d} dòng {line:02d}")
            c.showPage()
        c.save()
        return buf.getvalue()

    near = text_pdf("")
    near = text_pdf("x" * ((1 << 20) - 60 - len(near)))
    assert (1 << 20) - 120 < len(near) <= (1 << 20), len(near)  # the file fits; with its form's framing, the body does not
    url = f"/api/meetings/{world.meeting_id}/documents/{old['id']}/file"
    r = client.put(url, files={"file": ("v2.pdf", near, "application/pdf")}, headers=sec)
    assert r.status_code == 201, r.text


def test_replace_refuses_what_an_upload_refuses_and_stores_nothing(client: TestClient, world: World) -> None:
    sec = login(client, "secretary")
    doc = _upload(client, world, sec, make_pdf(1)).json()
    url = f"/api/meetings/{world.meeting_id}/documents/{doc['id']}/file"
    before = snapshot(world.store)
    assert client.put(url, files={"file": ("x.pdf", b"not a pdf")}, headers=sec).status_code == 415
    assert client.put(url, files={"file": ("x.pdf", make_pdf(1))}, headers=login(client, "member1")).status_code == 403
    missing = f"/api/meetings/{world.meeting_id}/documents/nope/file"
    assert client.put(missing, files={"file": ("x.pdf", make_pdf(1))}, headers=sec).status_code == 404
    assert snapshot(world.store) == before


def test_rename_a_document_gives_it_the_title_with_diacritics(client: TestClient, world: World) -> None:
    """A file name gives a title without diacritics ("To trinh ngan sach 2027"): the secretary renames it;
    a member may not; an empty or control-character title is refused; the same title again changes nothing."""
    sec = login(client, "secretary")
    doc = _upload(client, world, sec, make_pdf(1), name="To-trinh-ngan-sach-2027.pdf").json()
    assert doc["title"] == "To trinh ngan sach 2027"
    url = f"/api/meetings/{world.meeting_id}/documents/{doc['id']}"
    before = snapshot(world.store)
    assert client.patch(url, json={"title": "Tờ trình"}, headers=login(client, "member1")).status_code == 403
    for bad in ("", "   ", "Tờ\x07trình", "x" * 501):
        assert client.patch(url, json={"title": bad}, headers=sec).status_code == 422, bad
    assert client.patch(url, json={"title": "Tờ trình", "filename": "x.pdf"}, headers=sec).status_code == 422
    assert snapshot(world.store) == before
    r = client.patch(url, json={"title": "  Tờ trình ngân sách năm 2027 "}, headers=sec)
    assert r.status_code == 200 and r.json()["title"] == "Tờ trình ngân sách năm 2027", r.text
    agenda = client.get(f"/api/meetings/{world.meeting_id}/agenda", headers=login(client, "member1")).json()
    assert [d["title"] for d in agenda[1]["documents"]] == ["Tờ trình ngân sách năm 2027"]
    renamed = [e for e in world.store.events() if e.type == "document.renamed"]
    assert len(renamed) == 1
    assert client.patch(url, json={"title": "Tờ trình ngân sách năm 2027"}, headers=sec).status_code == 200  # a double tap
    assert len([e for e in world.store.events() if e.type == "document.renamed"]) == 1
    assert client.patch(f"/api/meetings/{world.meeting_id}/documents/nope", json={"title": "X"}, headers=sec).status_code == 404
