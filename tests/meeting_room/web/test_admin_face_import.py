"""The administrator imports many members' face photos from the administration page: an archive
with problems is refused with each one named, a good one runs in the server and reports each member
(a photo without a face named), on the tablet and on a 360 px phone. Consent is recorded through the
store first (its own page is tested elsewhere)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from meeting_room.db import tables as t
from meeting_room.services import faces
from tests.face_photos import astronaut, coffee, hopper, jpeg_bytes, zip_of
from tests.meeting_room.web.conftest import SHOTS, TABLET, LiveServer

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Dialog, Page

pytestmark = pytest.mark.browser




def _upload(page: Page, data: bytes, name: str) -> None:
    page.get_by_label("Tệp ZIP ảnh").set_input_files({"name": name, "mimeType": "application/zip", "buffer": data})
    page.get_by_role("button", name="Tải lên và nhập").click()


def _shot(page: Page, selector: str, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.locator(selector).evaluate("e => e.scrollIntoView({block: 'start'})")
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)


def test_admin_imports_a_zip_of_face_photos(browser: Browser, live_server: LiveServer) -> None:
    from playwright.sync_api import expect

    world = live_server.world
    for who in ("member1", "member2"):
        faces.set_consent(world.store, world.actor("admin"), world.ids[who], True, "Phiếu đồng ý 2026")
    page = live_server.page(browser, "admin", "/admin")
    expect(page.locator("#import-faces h2")).to_contain_text("Nhập ảnh khuôn mặt hàng loạt")

    # chair has not consented, "ai-do" is nobody, a note is not a photo: all three named, nothing stored
    _upload(page, zip_of({"anh/member1/1.jpg": jpeg_bytes(astronaut()), "anh/chair/1.jpg": jpeg_bytes(hopper()),
                        "anh/ai-do/1.jpg": b"x", "anh/member1/ghi-chu.txt": b"x"}), "anh-sai.zip")  # fmt: skip
    problems = page.locator("#face-import-problems li")
    expect(problems).to_have_count(3)
    expect(page.locator("#face-import-problems")).to_contain_text("chưa nhập gì")
    expect(page.locator("#face-import-problems")).to_contain_text("13/2023")
    # every folder has a problem: leaving them out would import nobody, so that is not offered (a dead end before)
    expect(page.locator("#face-import-none")).to_contain_text("Không còn thư mục nào hợp lệ để nhập")
    expect(page.locator("#face-import-skip")).to_have_count(0)
    expect(page.locator(".face-import")).to_have_count(0)
    # a file that is no ZIP at all is said in the card too, where it stays (only a passing toast before)
    _upload(page, b"PK not really a zip", "anh.zip")
    expect(page.locator("#face-import-refused")).to_contain_text("không phải ZIP")
    expect(page.locator("#face-import-problems li")).to_have_count(0)
    _shot(page, "#import-faces", "admin-face-import-refused")

    # member2's card is open while the import runs: it shows the new photo when the import has done them
    page.locator('#member-list tr[data-username="member2"]').get_by_role("button", name="Chọn").click()
    expect(page.locator("#member-detail")).to_contain_text("Khuôn mặt (0 ảnh đã đăng ký)")
    _upload(page, zip_of({"anh/member1/1.jpg": jpeg_bytes(astronaut()), "anh/member1/ca-phe.jpg": jpeg_bytes(coffee()),
                        "anh/member2/1.jpg": jpeg_bytes(hopper())}), "anh-dai-bieu.zip")  # fmt: skip
    item = page.locator(".face-import").first
    expect(item).to_have_attribute("data-state", "done", timeout=90_000)  # the page follows it until it ends
    expect(page.locator("#member-detail")).to_contain_text("Khuôn mặt (1 ảnh đã đăng ký)", timeout=10_000)
    expect(page.locator("#face-import-problems li")).to_have_count(0)
    expect(item).to_contain_text("2/2 thành viên · 2/3 ảnh đã đăng ký · 1 ảnh bị từ chối")
    expect(item.locator(".badge").first).to_have_text("Xong Done")  # every member has a photo: one refused is no failure
    expect(item.locator('li[data-folder="member1"]')).to_contain_text("ca-phe.jpg")
    expect(item.locator('li[data-folder="member2"]')).to_contain_text("1 ảnh đã đăng ký")
    _shot(page, "#import-faces", "admin-face-import-done")
    page.set_viewport_size({"width": 360, "height": 640})
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), "the page scrolls sideways"
    _shot(page, "#import-faces", "admin-face-import-done-360")
    page.set_viewport_size(TABLET)

    # the same ZIP again adds nothing: each photo is known already
    _upload(page, zip_of({"anh/member1/1.jpg": jpeg_bytes(astronaut()), "anh/member2/1.jpg": jpeg_bytes(hopper())}), "lai-lan-nua.zip")
    again = page.locator(".face-import").first
    expect(again).to_have_attribute("data-state", "done", timeout=90_000)
    expect(again).to_contain_text("0/2 ảnh đã đăng ký · 2 ảnh đã có từ trước")

    # withdrawing consent deletes the faces: asked first, and said after
    page.locator('#member-list tr[data-username="member1"]').get_by_role("button", name="Chọn").click()
    expect(page.locator("#member-detail h3").first).to_be_visible()
    expect(page.locator("#member-detail")).to_contain_text("Khuôn mặt (1 ảnh đã đăng ký)")
    asked: list[str] = []

    def dismiss(dialog: Dialog) -> None:
        asked.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    page.get_by_role("button", name="Rút lại đồng ý").click()
    expect(page.locator("#member-detail")).to_contain_text("Khuôn mặt (1 ảnh đã đăng ký)")  # dismissed: nothing deleted
    assert asked and "1 ảnh khuôn mặt" in asked[0] and "xóa" in asked[0]
    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="Rút lại đồng ý").click()
    expect(page.locator(".toast.ok").last).to_contain_text("đã xóa 1 ảnh khuôn mặt")
    expect(page.locator("#member-detail")).to_contain_text("Khuôn mặt (0 ảnh đã đăng ký)")

    # a folder that names nobody: leave it out and import the others, by one tap after the refusal
    _upload(page, zip_of({"anh/ai-do/1.jpg": jpeg_bytes(astronaut()), "anh/member2/moi.jpg": jpeg_bytes(astronaut())}), "mot-loi.zip")
    expect(page.locator("#face-import-problems")).to_contain_text("không có thành viên")
    page.get_by_role("button", name="Bỏ qua 1 thư mục lỗi, nhập những người còn lại").click()
    expect(page.locator("#face-import-problems li")).to_have_count(0)
    latest = page.locator(".face-import").first
    expect(latest).to_have_attribute("data-state", "done", timeout=90_000)
    expect(latest.locator('li[data-folder="ai-do"]')).to_contain_text("bỏ qua, chưa nhập")
    # a folder left without a photo is not a green "done" (a walk-through took one for it)
    expect(latest.locator(".badge").first).to_have_text("Xong, có người lỗi Done, with problems")
    expect(latest.locator(".badge.warn")).to_have_count(1)
    expect(latest.locator('li[data-folder="member2"]')).to_contain_text("1 ảnh đã đăng ký")
    _shot(page, "#import-faces", "admin-face-import-skipped")


def test_missing_consent_is_recorded_from_the_refusal_and_the_zip_imported(browser: Browser, live_server: LiveServer) -> None:
    """A walk-through recorded each member's consent on their own card, then uploaded the ZIP again."""
    from playwright.sync_api import expect

    world = live_server.world
    faces.set_consent(world.store, world.actor("admin"), world.ids["member1"], True, "Phiếu đồng ý 2026")
    page = live_server.page(browser, "admin", "/admin")
    _upload(page, zip_of({"anh/member1/1.jpg": jpeg_bytes(astronaut()), "anh/member2/1.jpg": jpeg_bytes(hopper())}), "hai-nguoi.zip")
    box = page.locator("#face-import-consent-box")
    expect(box).to_contain_text("Chưa ghi nhận đồng ý sinh trắc của 1 người: Người member2")
    expect(page.locator(".face-import")).to_have_count(0)  # refused: nothing imported yet
    box.get_by_label("Số, ngày của các phiếu đồng ý").fill("Phiếu số 7/2026")
    go = page.locator("#face-import-consent")
    go.click()  # consent is a record that the signed forms exist: a second tap
    expect(go).to_contain_text("Chạm lần nữa")
    with world.store.read() as session:
        assert not session.get_one(t.Member, world.ids["member2"]).biometric_consent  # not on the first tap
    _shot(page, "#face-import-problems", "admin-face-import-consent")
    go.click()
    item = page.locator(".face-import").first
    expect(item).to_have_attribute("data-state", "done", timeout=90_000)  # the same ZIP, sent again
    expect(item).to_contain_text("2/2 thành viên · 2/2 ảnh đã đăng ký")
    expect(page.locator("#face-import-problems li")).to_have_count(0)
    with world.store.read() as session:
        member2 = session.get_one(t.Member, world.ids["member2"])
        assert member2.biometric_consent and member2.biometric_consent_note == "Phiếu số 7/2026"
