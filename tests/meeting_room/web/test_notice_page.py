"""The conclusion notice on the record page in a real browser: the chair writes a conclusion the draft
left empty, saves it and signs the notice."""

from __future__ import annotations

import httpx2 as httpx
from playwright.sync_api import Browser, expect

from tests.conftest import PASSWORD
from tests.meeting_room.web.conftest import SHOTS, LiveServer, shot
from tests.pki import member_cert, root_ca


def _closed_meeting_and_the_chairs_certificate(live: LiveServer, certificate: bool = True) -> None:
    """Hold the meeting over the API (no speech, no vote: the draft's conclusions are empty) and register the chair's .p12."""
    world, mid = live.world, live.world.meeting_id
    with httpx.Client(base_url=live.base, timeout=30) as c:
        for who in ("admin", "chair"):
            token = c.post("/api/auth/login", json={"username": who, "password": PASSWORD}).json()["token"]
            c.headers["Authorization"] = f"Bearer {token}"
            if who == "admin" and certificate:
                p12 = member_cert("Người chair").pkcs12("chu-toa", (root_ca().cert,))
                r = c.post(f"/api/members/{world.ids['chair']}/certificate", files={"file": ("c.p12", p12)}, data={"passphrase": "chu-toa"})
                assert r.status_code == 201, r.text
        for to in ("open", "in_session", "closed"):
            assert c.post(f"/api/meetings/{mid}/transitions", json={"to": to}).status_code == 200


def test_the_chair_writes_a_conclusion_and_signs_the_notice(browser: Browser, live_server: LiveServer) -> None:
    _closed_meeting_and_the_chairs_certificate(live_server)
    page = live_server.page(browser, "chair", f"/clerk/{live_server.world.meeting_id}")
    card = page.locator("#notice")
    expect(card.locator("#notice-state")).to_have_text("Bản nháp tự động, chưa ký")

    page.get_by_label("Ký thông báo với vai trò Chủ tọa: mật khẩu của chứng thư số").fill("chu-toa")
    card.get_by_role("button", name="Ký số thông báo").click()  # both items empty: refused, naming them
    expect(page.locator(".toast.error")).to_contain_text("“Khai mạc”, “Biểu quyết dự toán ngân sách” chưa có kết luận")

    card.get_by_label("Kết luận: Khai mạc").fill("Thống nhất khai mạc kỳ họp theo chương trình.")
    card.get_by_label("Kết luận: Biểu quyết dự toán ngân sách").fill("Giao Ban Kinh tế - Ngân sách thẩm tra, trình kỳ họp sau.")
    card.get_by_label("Số thông báo").fill("07/TB-HĐND")
    card.get_by_role("button", name="Lưu thông báo").click()
    expect(card.locator("#notice-state")).to_have_text("Phiên bản 1, chưa ký")
    expect(card.get_by_label("Kết luận: Khai mạc")).to_have_value("Thống nhất khai mạc kỳ họp theo chương trình.")

    page.get_by_label("Ký thông báo với vai trò Chủ tọa: mật khẩu của chứng thư số").fill("chu-toa")
    card.get_by_role("button", name="Ký số thông báo").click()
    expect(card.locator("#notice-state")).to_contain_text("Chủ tọa đã ký lúc")
    expect(card.get_by_label("Kết luận: Khai mạc")).to_have_attribute("readonly", "")
    expect(card.get_by_role("button", name="Lưu thông báo")).to_have_count(0)
    expect(card.locator("#notice-pdf")).to_have_attribute("href", f"/api/meetings/{live_server.world.meeting_id}/notice.pdf")
    shot(page, "record-notice")
    SHOTS.mkdir(parents=True, exist_ok=True)
    card.screenshot(path=str(SHOTS / "record-notice-signed.png"))
    page.set_viewport_size({"width": 360, "height": 800})
    wide = page.evaluate("""[...document.querySelectorAll('*')].filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
      .map(e => e.tagName + '#' + e.id + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right)).slice(0, 15)""")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), wide
    assert not live_server.errors


def test_a_chair_without_a_certificate_is_told_so_before_any_passphrase(browser: Browser, live_server: LiveServer) -> None:
    _closed_meeting_and_the_chairs_certificate(live_server, certificate=False)
    page = live_server.page(browser, "chair", f"/clerk/{live_server.world.meeting_id}")
    card = page.locator("#notice")
    expect(card.locator("#notice-signing-key")).to_contain_text("Bạn chưa có chứng thư số được đăng ký")
    expect(card.locator("#notice-signing-key")).to_contain_text("No signing certificate is registered for you")
    expect(card.locator("#notice-passphrase")).to_have_count(0)
    expect(card.get_by_role("button", name="Lưu thông báo")).to_be_visible()  # writing it does not wait for the certificate
    card.screenshot(path=str(SHOTS / "record-notice-no-certificate.png"))
    assert not live_server.errors
