"""The administrator's and the clerk's pages in a real browser: enrolment, certificates, search,
a hit opening the recording at its moment, editing, two signatures and their verification."""

from __future__ import annotations

import re
from pathlib import Path

import httpx2 as httpx
import pytest
from playwright.sync_api import Browser, FilePayload, expect

from meeting_room import events as ev
from meeting_room.services import transcripts
from speech.transcript import Segment
from tests.conftest import PASSWORD
from tests.face_photos import astronaut, png_bytes
from tests.meeting_room.web.conftest import SHOTS, LiveServer, shot
from tests.pki import member_cert, root_ca
from tests.signature_pictures import opaque_png, seal_png, signature_png
from tests.speech_audio import speak

SAID = "Tôi đề nghị biểu quyết thông qua dự toán ngân sách năm hai nghìn không trăm hai mươi bảy."


def _closed_meeting_with_a_recording(live: LiveServer, tmp_path: Path) -> str:
    """Run the meeting over the API: a recording, its transcript (one line at 1.5 s), then close."""
    world, mid = live.world, live.world.meeting_id
    with httpx.Client(base_url=live.base, timeout=30) as c:
        token = c.post("/api/auth/login", json={"username": "chair", "password": PASSWORD}).json()["token"]
        c.headers["Authorization"] = f"Bearer {token}"
        for to in ("open", "in_session"):
            assert c.post(f"/api/meetings/{mid}/transitions", json={"to": to}).status_code == 200
        wav = speak(tmp_path / "phien-hop.wav", SAID)
        r = c.post(f"/api/meetings/{mid}/recordings", files={"file": ("phien-hop.wav", wav.read_bytes(), "audio/wav")})
        assert r.status_code == 201, r.text
        recording: str = r.json()["recording_id"]
        pass_id = transcripts.new_pass(world.store, mid, "final", "whisper-base", recording_id=recording)
        spec = ev.SpeakerSpec(cluster="S1", name="Người member1", member_id=world.ids["member1"], source="voice")
        transcripts.add_speakers(world.store, mid, pass_id, [spec])
        transcripts.add_segment(world.store, mid, pass_id, Segment(1.5, 6.0, SAID), "S1")
        transcripts.end_pass(world.store, mid, pass_id, "completed", audio_s=7.0)
        assert c.post(f"/api/meetings/{mid}/transitions", json={"to": "closed"}).status_code == 200
    return recording


def test_admin_enrols_a_face_and_registers_certificates(browser: Browser, live_server: LiveServer) -> None:
    page = live_server.page(browser, "admin", "/admin")
    expect(page.locator("#members")).to_contain_text("Người member1")

    # a new member, with Vietnamese diacritics kept as typed; the form is one tap from the top of the list
    page.locator("#to-new-member").click()
    expect(page.locator("#nm-name")).to_be_focused()
    expect(page.locator("#nm-name")).to_be_in_viewport()
    page.get_by_label("Họ và tên").fill("Trần Thị Ánh Tuyết")
    page.get_by_label("Chức vụ").fill("Trưởng ban Pháp chế")
    page.get_by_label("Tên đăng nhập").fill("tuyet")
    page.get_by_label("Mật khẩu ban đầu").fill("mot-mat-khau-du-dai")
    page.get_by_role("button", name="Thêm thành viên Add member", exact=True).click()
    expect(page.locator("#member-detail h2")).to_have_text("Trần Thị Ánh Tuyết")

    page.locator('#members tr:has-text("Người member1")').get_by_role("button", name="Chọn").click()
    expect(page.locator("#member-detail h2")).to_have_text("Người member1")
    page.get_by_label("Số, ngày của phiếu đồng ý đã ký").fill("Phiếu số 12/2026, ký ngày 20/11/2026")
    page.get_by_role("button", name="Ghi nhận đồng ý").click()
    expect(page.locator("#consent-form")).to_have_text(" — Phiếu số 12/2026, ký ngày 20/11/2026")  # which signed form it rests on
    # the browser camera (Chromium's fake device: a test pattern, no face) -> a clear refusal, nothing stored
    page.get_by_role("button", name="Bật máy ảnh").click()
    page.get_by_role("button", name="Chụp ảnh").click()
    expect(page.locator("#photo-list li")).to_have_count(1)
    page.get_by_role("button", name="Đăng ký khuôn mặt").click()
    expect(page.locator(".toast.error")).to_contain_text("khuôn mặt")
    expect(page.get_by_text("Khuôn mặt (0 ảnh đã đăng ký)")).to_be_visible()
    # a real photo from a file
    page.locator('#members tr:has-text("Người member1")').get_by_role("button", name="Chọn").click()
    page.locator("#face-files").set_input_files({"name": "anh-the.png", "mimeType": "image/png", "buffer": png_bytes(astronaut())})
    page.get_by_role("button", name="Đăng ký khuôn mặt").click()
    expect(page.get_by_text("Khuôn mặt (1 ảnh đã đăng ký)")).to_be_visible()
    shot(page, "admin-member-enrolment")

    for who, passphrase in (("secretary", "thu-ky"), ("chair", "chu-toa")):
        page.locator(f'#members tr:has-text("Người {who}")').get_by_role("button", name="Chọn").click()
        expect(page.locator("#member-detail h2")).to_have_text(f"Người {who}")
        p12 = member_cert(f"Người {who}").pkcs12(passphrase, (root_ca().cert,))
        page.locator("#cert-file").set_input_files({"name": f"{who}.p12", "mimeType": "application/x-pkcs12", "buffer": p12})
        page.get_by_label("Mật khẩu của tệp").fill(passphrase)
        page.get_by_role("button", name="Đăng ký chứng thư số").click()
        expect(page.locator(".toast.ok").last).to_contain_text(f"Đã đăng ký chứng thư của Người {who}")
        expect(page.locator("#member-cert")).to_contain_text(f"Đã đăng ký: Người {who}")

    # the certificates card lists both signers, valid for a year; HTTPS is not issued in this test server
    signers = page.locator("#signer-certificates tbody tr")
    expect(signers).to_have_count(2)
    expect(signers.filter(has_text="Người chair").locator("[data-state]")).to_have_text("Còn hiệu lực Valid")
    expect(page.locator("#https")).to_contain_text("meeting-room serve")
    # the room has no device configuration on this server: said plainly, no error
    expect(page.locator("#devices .room-devices")).to_contain_text("không chạy thiết bị của phòng này")


def test_search_open_a_hit_edit_sign_and_verify(browser: Browser, live_server: LiveServer, tmp_path: Path) -> None:
    world, mid = live_server.world, live_server.world.meeting_id
    recording = _closed_meeting_with_a_recording(live_server, tmp_path)

    def register(who: str, passphrase: str) -> None:
        with httpx.Client(base_url=live_server.base, timeout=30) as c:
            token = c.post("/api/auth/login", json={"username": "admin", "password": PASSWORD}).json()["token"]
            p12 = member_cert(f"Người {who}").pkcs12(passphrase, (root_ca().cert,))
            r = c.post(f"/api/members/{world.ids[who]}/certificate", files={"file": ("c.p12", p12)}, data={"passphrase": passphrase},
                       headers={"Authorization": f"Bearer {token}"})  # fmt: skip
            assert r.status_code == 201, r.text

    register("chair", "chu-toa")

    # the clerk searches without diacritics and finds the line, marked
    clerk = live_server.page(browser, "clerk", "/clerk")
    expect(clerk.locator("#closed")).to_contain_text("Phiên họp thường kỳ tháng 11")
    clerk.get_by_label("Từ khóa").fill("du toan ngan sach")
    clerk.get_by_role("button", name="Tìm").click()
    expect(clerk.locator("#total")).to_contain_text("kết quả")
    hit = clerk.locator(".hit").filter(has_text="Người member1").first
    expect(hit.locator("mark").first).to_have_text("dự toán ngân sách")  # the words typed, where they stand together
    item = clerk.locator(".hit").filter(has_text="Nội dung chương trình")  # the agenda item of that name, found too
    expect(item.first.locator("mark").first).to_have_text("dự toán ngân sách")
    expect(item.first.get_by_role("link")).to_have_attribute("href", f"/clerk/{mid}#minutes")
    shot(clerk, "clerk-search")
    hit.get_by_role("link").click()
    clerk.wait_for_url(re.compile(rf"/clerk/{mid}\?play="))
    audio = clerk.locator("#audio")
    expect(audio).to_have_attribute("src", re.compile(rf"/recordings/{recording}/file#t=1\.5$"))
    position = None
    for _ in range(100):  # wait_for_function would need eval, which the pages' CSP forbids
        position = clerk.evaluate("(a => a.readyState >= 1 ? a.currentTime : null)(document.querySelector('#audio'))")
        if position is not None:
            break
        clerk.wait_for_timeout(100)
    assert position is not None and abs(position - 1.5) < 0.3  # the recording is at the hit's moment (media fragment)
    expect(clerk.locator("#transcript")).to_contain_text(SAID)
    expect(clerk.get_by_role("link", name="Lời phát biểu (Word)")).to_be_visible()  # a transcript exists: its files too
    expect(clerk.locator("#archive-state")).to_have_text("Chưa niêm phong lưu trữ")
    expect(clerk.locator("#archive-state")).not_to_have_class(re.compile(r"\bbad\b"))  # a normal state: neutral, not red
    expect(clerk.locator("#sign")).to_be_hidden()  # a clerk edits but does not sign
    shot(clerk, "clerk-record")

    # the secretary edits the draft and saves a version, then signs; the chair signs second
    sec = live_server.page(browser, "secretary", f"/clerk/{mid}")
    expect(sec.locator("#minutes-heading")).to_have_text("Biên bản — bản nháp tự động")
    # without a registered certificate she is told so, and what to do, before any passphrase is asked
    expect(sec.locator("#signing-key")).to_contain_text("Bạn chưa có chứng thư số được đăng ký")
    expect(sec.get_by_label(re.compile("Ký với vai trò Thư ký"))).to_have_count(0)
    SHOTS.mkdir(parents=True, exist_ok=True)
    sec.locator("#sign").screenshot(path=str(SHOTS / "record-sign-no-certificate.png"))
    register("secretary", "thu-ky")
    sec.reload()
    expect(sec.locator("#minutes-heading")).to_have_text("Biên bản — bản nháp tự động")
    expect(sec.locator("#signing-key")).to_have_count(0)
    # what an empty closing prints is said in it: the meeting's end as the documents write it
    expect(sec.locator("#m-closing")).to_have_attribute("placeholder", re.compile(r"“Cuộc họp kết thúc vào \d\d giờ \d\d, ngày "))
    expect(sec.locator("#minutes-preview")).to_have_attribute("href", f"/api/meetings/{mid}/minutes.pdf")
    section = sec.get_by_label("Nội dung: Biểu quyết dự toán ngân sách")
    section.fill("Các đại biểu thảo luận dự toán ngân sách năm 2027 và thống nhất trình Hội đồng.")
    # nothing was said under "Khai mạc": the minutes are not signed with an empty item, so it is written
    sec.get_by_label("Nội dung: Khai mạc").fill("Chủ tọa tuyên bố khai mạc phiên họp.")
    sec.get_by_role("button", name="Lưu phiên bản mới").click()
    expect(sec.locator("#minutes-heading")).to_have_text("Biên bản — phiên bản 1")
    assert sec.locator("#sign").bounding_box()["y"] > sec.locator("#minutes").bounding_box()["y"]  # type: ignore[index]  # below the editor
    sec.locator("#sign summary").filter(has_text="Ảnh chữ ký").click()  # her own signature image, for the appearance
    image = sec.get_by_label(re.compile("Ảnh chữ ký của bạn"))
    image.set_input_files(files=FilePayload(name="opaque.png", mimeType="image/png", buffer=opaque_png()))
    sec.locator("#my-signature-image").get_by_role("button", name="Tải ảnh lên").click()
    expect(sec.locator("#my-signature-image .error")).to_contain_text("nền trong suốt")  # refused in place, with the reason
    image.set_input_files(files=FilePayload(name="ky.png", mimeType="image/png", buffer=signature_png()))
    sec.locator("#my-signature-image").get_by_role("button", name="Tải ảnh lên").click()
    expect(sec.locator("#my-signature-image img.signature-preview")).to_be_visible()
    sec.locator("#sign").screenshot(path=str(SHOTS / "record-sign-form.png"))  # below the editor, for the signer only
    sec.get_by_label(re.compile("Ký với vai trò Thư ký")).fill("sai-mat-khau")
    sec.get_by_role("button", name="Ký số biên bản").click()
    expect(sec.locator(".toast.error")).to_be_visible()  # a wrong passphrase: refused, nothing signed
    expect(sec.get_by_text("Chưa có chữ ký. No signatures yet.")).to_be_visible()
    sec.get_by_label(re.compile("Ký với vai trò Thư ký")).fill("thu-ky")
    sec.get_by_role("button", name="Ký số biên bản").click()
    expect(sec.locator("#signatures")).to_contain_text("Thư ký đã ký lúc")
    shot(sec, "secretary-signed")
    # signed minutes read as whole text (no small boxes that scroll), the closing as the documents print it
    expect(sec.locator("#minutes textarea")).to_have_count(0)
    expect(sec.get_by_role("group", name="Nội dung: Khai mạc")).to_have_text("Chủ tọa tuyên bố khai mạc phiên họp.")
    expect(sec.locator("#m-closing")).to_contain_text("Cuộc họp kết thúc vào")
    sec.set_viewport_size({"width": 360, "height": 740})
    sec.locator("#minutes").screenshot(path=str(SHOTS / "record-signed-minutes-phone.png"))
    assert sec.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), "the page scrolls sideways"
    sec.set_viewport_size({"width": 1280, "height": 800})

    chair = live_server.page(browser, "chair", f"/clerk/{mid}")
    # the chair is told, before signing, that the signature seals the record and the notice is not signed
    # (a walk-through's chair signed, and the notice could never be signed afterwards)
    warning = chair.locator("#seal-warning")
    expect(warning).to_contain_text("niêm phong hồ sơ cuộc họp")
    expect(warning).to_contain_text("Thông báo kết luận chưa ký")
    warning.screenshot(path=str(SHOTS / "record-chair-seal-warning.png"))
    chair.get_by_label(re.compile("Ký với vai trò Chủ tọa")).fill("chu-toa")
    chair.get_by_role("button", name="Ký số biên bản").click()
    expect(chair.locator("#signatures")).to_contain_text("Chủ tọa đã ký lúc")
    expect(chair.locator("#archive-state")).to_have_text("Hồ sơ lưu trữ nguyên vẹn")
    chair.get_by_role("button", name="Kiểm tra chữ ký").click()
    expect(chair.locator("#verify-result .badge.ok")).to_have_count(2)
    shot(chair, "chair-verified")
    # a file that is not a PDF: refused under the form, saying what to choose (a toast at the top went unseen)
    chair.get_by_text("Kiểm tra một tệp PDF đã ký").click()
    chair.locator("#verify-file").set_input_files(files=FilePayload(name="bien-ban.pdf", mimeType="application/pdf", buffer=b"not a pdf"))
    chair.locator("#signatures form").get_by_role("button", name="Kiểm tra").click()
    expect(chair.locator("#verify-refused")).to_contain_text("hãy chọn tệp PDF của biên bản đã ký")
    expect(chair.locator("#verify-refused .en")).to_contain_text("choose the signed minutes' PDF")
    with chair.expect_download() as download:
        chair.get_by_role("link", name="Biên bản (PDF)").click()
    assert re.fullmatch(r"bien-ban-\d{4}-\d\d-\d\d-phien-hop-thuong-ky-thang-11-da-ky\.pdf", download.value.suggested_filename)


def test_admin_sets_a_seal_image_and_a_bad_file_is_refused_in_place(browser: Browser, live_server: LiveServer) -> None:
    page = live_server.page(browser, "admin", "/admin")
    card = page.locator("#signature-images")
    expect(card.locator("h2")).to_contain_text("Ảnh chữ ký và con dấu")
    page.locator("#seal-owner").select_option(label="Hội đồng nhân dân tỉnh Thử Nghiệm")
    upload = card.get_by_label(re.compile("Ảnh con dấu"))
    upload.set_input_files(files=FilePayload(name="dau.jpg", mimeType="image/png", buffer=b"\xff\xd8\xff\xe0not a png"))
    card.get_by_role("button", name="Tải ảnh lên").click()
    expect(card.locator(".error")).to_contain_text("phải là tệp PNG nền trong suốt")  # beside the file, in both languages
    expect(card.locator(".error .en")).to_contain_text("must be a PNG")
    upload.set_input_files(files=FilePayload(name="dau.png", mimeType="image/png", buffer=seal_png()))
    card.get_by_role("button", name="Tải ảnh lên").click()
    expect(page.locator("#seal-owner option:checked")).to_have_text("Hội đồng nhân dân tỉnh Thử Nghiệm (đã có ảnh)")  # still chosen
    expect(card.locator("img.signature-preview")).to_be_visible()
    SHOTS.mkdir(parents=True, exist_ok=True)
    card.screenshot(path=str(SHOTS / "admin-signature-images.png"))  # the card, wherever it lies on the page


def test_the_record_page_says_where_each_final_transcription_stands(browser: Browser, live_server: LiveServer, tmp_path: Path) -> None:
    """Done, and failed with the reason a worker left after its last try (Vietnamese first)."""
    world, mid = live_server.world, live_server.world.meeting_id
    recording = _closed_meeting_with_a_recording(live_server, tmp_path)
    failed = transcripts.new_pass(world.store, mid, "final", "whisper-base", recording_id=recording)
    reason = (
        "Thất bại sau 3 lần thử / Failed after 3 tries: Tệp ghi âm không còn trên máy chủ / The recording file is missing on the server"
    )
    transcripts.end_pass(world.store, mid, failed, "failed", error=reason)
    clerk = live_server.page(browser, "clerk", f"/clerk/{mid}")
    jobs = clerk.locator("#transcription-jobs")
    expect(jobs.locator("li[data-status=done]")).to_contain_text("Đã xong")
    expect(jobs.locator("li[data-status=failed]")).to_contain_text("Thất bại")
    expect(jobs.locator("li[data-status=failed]")).to_contain_text("Thất bại sau 3 lần thử / Failed after 3 tries")
    expect(clerk.locator("#transcript")).to_contain_text(SAID)  # the completed pass stays the transcript
    assert not live_server.errors, live_server.errors


def test_the_secretary_names_a_voice_nobody_enrolled_by_tap(browser: Browser, live_server: LiveServer, tmp_path: Path) -> None:
    """A "Người nói N" of the transcript gets a participant's name, then a guest's; every line follows,
    and the page fits a phone without scrolling sideways."""
    world, mid = live_server.world, live_server.world.meeting_id
    recording = _closed_meeting_with_a_recording(live_server, tmp_path)
    pass_id = transcripts.new_pass(world.store, mid, "final", "whisper-base", recording_id=recording)
    transcripts.add_speakers(
        world.store, mid, pass_id, [ev.SpeakerSpec(cluster="S2", name="Người nói 1", member_id=None, source="anonymous")]
    )
    transcripts.add_segment(world.store, mid, pass_id, Segment(0.5, 3.0, "Tôi xin phát biểu về mục thứ hai."), "S2")
    transcripts.add_segment(world.store, mid, pass_id, Segment(4.0, 6.0, "Tôi đồng ý với tờ trình."), "S2")
    transcripts.end_pass(world.store, mid, pass_id, "completed", audio_s=7.0)

    with httpx.Client(base_url=live_server.base, timeout=30) as c:  # a second recording of the meeting
        token = c.post("/api/auth/login", json={"username": "chair", "password": PASSWORD}).json()["token"]
        wav = speak(tmp_path / "buoi-chieu.wav", "Phiên buổi chiều.")
        r = c.post(f"/api/meetings/{mid}/recordings", files={"file": ("buoi-chieu.wav", wav.read_bytes(), "audio/wav")},
                   headers={"Authorization": f"Bearer {token}"})  # fmt: skip
        assert r.status_code == 201, r.text
        other = r.json()["recording_id"]

    page = live_server.page(browser, "secretary", f"/clerk/{mid}", touch=True)
    naming = page.locator("#speaker-names")
    # "Nghe" plays the voice from the recording its transcript was made of, whatever the player held
    page.locator("#recording-pick").select_option(value=f"/api/meetings/{mid}/recordings/{other}/file")
    naming.locator("form[data-cluster=S2]").get_by_role("button", name="Nghe").tap()
    expect(page.locator("#recording-pick")).to_have_value(f"/api/meetings/{mid}/recordings/{recording}/file")
    expect(page.locator("#audio")).to_have_attribute("src", re.compile(rf"/recordings/{recording}/file#t=0\.5$"))
    expect(naming).to_have_attribute("open", "")  # a voice has no name yet: the block is open
    expect(naming.locator("summary")).to_contain_text("1 chưa có tên")
    row = naming.locator("form[data-cluster=S2]")
    expect(row).to_contain_text("Người nói 1")
    row.get_by_role("button", name="Lưu tên").tap()
    expect(page.locator(".toast.error")).to_contain_text("Hãy chọn người nói")  # nothing chosen: said, nothing sent
    row.locator("select").select_option(label="Người member2")
    row.get_by_role("button", name="Lưu tên").tap()
    expect(page.locator(".toast.ok")).to_contain_text("Đã đặt tên người nói: Người member2")
    captions = page.locator("#transcript .captions")
    expect(captions.locator("p").filter(has_text="mục thứ hai")).to_contain_text("Người member2:")
    expect(captions.locator("p").filter(has_text="tờ trình")).to_contain_text("Người member2:")  # every line of the voice
    expect(naming.locator("summary")).not_to_contain_text("chưa có tên")

    row = page.locator("#speaker-names form[data-cluster=S2]")
    page.locator("#speaker-names summary").tap()  # every voice has a name now: the block opens on a tap
    row.locator("select").select_option(label="Người khác… / someone else")
    guest = "Khách mời: ông Nguyễn Văn Ánh"
    row.get_by_placeholder("Họ tên, chức vụ").fill(guest)
    row.get_by_role("button", name="Lưu tên").tap()
    expect(captions.locator("p").filter(has_text="tờ trình")).to_contain_text(f"{guest}:")
    with httpx.Client(base_url=live_server.base, timeout=30) as c:
        token = c.post("/api/auth/login", json={"username": "secretary", "password": PASSWORD}).json()["token"]
        speakers = c.get(f"/api/meetings/{mid}/transcript", headers={"Authorization": f"Bearer {token}"}).json()["speakers"]
    assert [(s["cluster"], s["name"], s["member_id"], s["source"]) for s in speakers] == [("S2", guest, None, "chair")]
    page.locator(".toast .dismiss").first.tap()  # the toasts would hide the block in the pictures
    page.locator(".toast .dismiss").first.tap()
    page.locator("#speaker-names").screenshot(path=str(SHOTS / "record-speaker-names.png"))

    page.set_viewport_size({"width": 360, "height": 740})
    page.locator("#speaker-names").scroll_into_view_if_needed()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), "the page scrolls sideways"
    page.locator("#speaker-names").screenshot(path=str(SHOTS / "record-speaker-names-phone.png"))

    member = live_server.page(browser, "member1", f"/clerk/{mid}")
    expect(member.locator("#transcript")).to_contain_text(guest)
    expect(member.locator("#speaker-names")).to_have_count(0)  # naming is the chair's and the secretary's
    assert not live_server.errors, live_server.errors


def test_a_clerk_seals_by_tap_a_record_whose_seal_did_not_complete(
    browser: Browser, live_server: LiveServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both signatures recorded, the seal after the chair's failed (the disk filled as it wrote): the record
    page offers the seal to a record keeper, and one tap seals it."""
    world, mid = live_server.world, live_server.world.meeting_id
    _closed_meeting_with_a_recording(live_server, tmp_path)

    def disk_full(*args: object, **kwargs: object) -> object:
        raise OSError(28, "No space left on device")

    with httpx.Client(base_url=live_server.base, timeout=60) as c:
        auth = {who: {"Authorization": f"Bearer {c.post('/api/auth/login', json={'username': who, 'password': PASSWORD}).json()['token']}"}
                for who in ("admin", "secretary", "chair")}  # fmt: skip
        for who, passphrase in (("secretary", "thu-ky"), ("chair", "chu-toa")):
            p12 = member_cert(f"Người {who}").pkcs12(passphrase, (root_ca().cert,))
            r = c.post(f"/api/members/{world.ids[who]}/certificate", files={"file": ("c.p12", p12)}, data={"passphrase": passphrase},
                       headers=auth["admin"])  # fmt: skip
            assert r.status_code == 201, r.text
        sections = {item: "Các đại biểu thảo luận. Chủ tọa kết luận: thống nhất." for item in world.item_ids}
        assert c.put(f"/api/meetings/{mid}/minutes", json={"sections": sections}, headers=auth["secretary"]).status_code == 200
        r = c.post(f"/api/meetings/{mid}/minutes/sign", json={"passphrase": "thu-ky"}, headers=auth["secretary"])
        assert r.status_code == 200, r.text
        monkeypatch.setattr("transcripts.archive.seal", disk_full)
        r = c.post(f"/api/meetings/{mid}/minutes/sign", json={"passphrase": "chu-toa"}, headers=auth["chair"])
        assert r.status_code == 200 and not r.json()["sealed"] and "No space left on device" in r.json()["seal_problem"], r.text
        monkeypatch.undo()
        assert c.get(f"/api/meetings/{mid}", headers=auth["chair"]).json()["state"] == "minutes_signed"
        r = c.put(f"/api/meetings/{mid}/notice", json={"base_version": 0, "number": "16/TB-HĐND"}, headers=auth["secretary"])
        assert r.status_code == 200, r.text  # a notice written after the signatures, not signed

    member = live_server.page(browser, "member1", f"/clerk/{mid}")
    expect(member.locator("#archive-state")).to_have_text("Chưa niêm phong lưu trữ")
    expect(member.locator("#seal-again")).to_have_count(0)  # sealing is the record keepers'
    clerk = live_server.page(browser, "clerk", f"/clerk/{mid}", touch=True)
    again = clerk.locator("#seal-again")
    expect(again).to_contain_text("chưa được niêm phong")
    expect(again.locator("#seal-again-notice")).to_contain_text("Thông báo kết luận đã soạn nhưng chưa ký")  # said before it is too late
    shot(clerk, "record-seal-again")
    again.get_by_role("button", name="Niêm phong lưu trữ").tap()
    expect(again.get_by_role("button")).to_have_text("Chạm lần nữa để niêm phong / Tap again to seal")  # it cannot be undone
    again.get_by_role("button").tap()
    expect(clerk.locator(".toast.ok")).to_contain_text("Đã niêm phong hồ sơ lưu trữ")
    expect(clerk.locator("#archive-state")).to_have_text("Hồ sơ lưu trữ nguyên vẹn")
    expect(clerk.locator("#seal-again")).to_have_count(0)
    assert not live_server.errors, live_server.errors


def test_the_clerk_narrows_a_search_to_one_body(browser: Browser, live_server: LiveServer, tmp_path: Path) -> None:
    """The archive files meetings of several bodies: the search's body filter finds the council's line, and
    none under another body; the labels say it in English too, and the form fits a phone."""
    _closed_meeting_with_a_recording(live_server, tmp_path)
    with httpx.Client(base_url=live_server.base, timeout=30) as c:
        token = c.post("/api/auth/login", json={"username": "admin", "password": PASSWORD}).json()["token"]
        r = c.post("/api/bodies", json={"name": "Ủy ban nhân dân tỉnh Thử Nghiệm", "short_name": "UBND"},
                   headers={"Authorization": f"Bearer {token}"})  # fmt: skip
        assert r.status_code == 201, r.text
    clerk = live_server.page(browser, "clerk", "/clerk", touch=True)
    form = clerk.locator("#search")
    expect(form).to_contain_text("Body")
    clerk.get_by_label("Từ khóa").fill("du toan ngan sach")
    form.locator("select[name=body_id]").select_option(label="Ủy ban nhân dân tỉnh Thử Nghiệm")
    form.get_by_role("button", name="Tìm").tap()
    expect(clerk.locator("#total")).to_contain_text("Không tìm thấy")  # said at the council, not at the committee
    form.locator("select[name=body_id]").select_option(label="Hội đồng nhân dân tỉnh Thử Nghiệm")
    form.get_by_role("button", name="Tìm").tap()
    expect(clerk.locator("#total")).to_contain_text("kết quả")
    expect(clerk.locator(".hit").filter(has_text="Người member1").first).to_be_visible()  # the line (and the agenda item)
    clerk.set_viewport_size({"width": 360, "height": 740})
    assert clerk.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), "the page scrolls sideways"
    form.screenshot(path=str(SHOTS / "clerk-search-body-phone.png"))
    assert not live_server.errors, live_server.errors
