"""The administrator manages people in the browser: imports a list (refused with its bad rows named,
then a corrected one), deactivates a member, resets a password that must be changed at login.
Only the pages are used: no API call in the test bodies."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.meeting_room.web.conftest import SHOTS, TABLET, LiveServer

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, ViewportSize

pytestmark = pytest.mark.browser

BODY = "Hội đồng nhân dân tỉnh Thử Nghiệm"
PHONE: ViewportSize = {"width": 360, "height": 640}


def _list(bad: bool) -> bytes:
    """50 delegates as an office would type them (Vietnamese headers, UTF-8 with BOM); ``bad``: two rows wrong."""
    rows = [["Tên đăng nhập", "Họ và tên", "Chức vụ", "Cơ quan", "Vai trò"]]
    rows += [[f"daibieu{i:02d}", f"Nguyễn Thị Đại Biểu {i:02d}", "Đại biểu HĐND tỉnh", BODY, "Thành viên"] for i in range(1, 51)]
    if bad:
        rows[12][0] = ""  # row 13: no username
        rows[31][4] = "Thủ quỹ"  # row 32: no such role
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return ("\ufeff" + out.getvalue()).encode()


def _choose_file(page: Page, data: bytes, name: str) -> None:
    page.get_by_label("Tệp danh sách").set_input_files({"name": name, "mimeType": "text/csv", "buffer": data})
    page.get_by_role("button", name="Xem trước").click()


def _shot_of(page: Page, selector: str, name: str) -> Path:
    """The part of the page that matters at the top of the screen (``shot`` shows the top of the page)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.locator(selector).evaluate("e => e.scrollIntoView({block: 'start'})")
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path


def _no_sideways_scroll(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), "the page scrolls sideways"


def test_admin_imports_deactivates_and_resets(browser: Browser, live_server: LiveServer, tmp_path: Path) -> None:
    page = live_server.page(browser, "admin", "/admin")
    from playwright.sync_api import expect

    members = page.locator("#member-list tbody tr")
    expect(members.first).to_be_visible()
    for card in ("#rooms", "#devices", "#certificates"):  # the whole page has loaded
        expect(page.locator(f"{card} h2")).to_be_visible()
    before = members.count()

    # a list with two bad rows: the preview names both (row, column, reason) and nothing is stored
    _choose_file(page, _list(bad=True), "dai-bieu.csv")
    problems = page.locator("#import-problems li")
    expect(problems).to_have_count(2)
    expect(problems.nth(0)).to_contain_text("Dòng 13")
    expect(problems.nth(0)).to_contain_text("Thiếu tên đăng nhập")
    expect(problems.nth(1)).to_contain_text("Dòng 32")
    expect(problems.nth(1)).to_contain_text("Không có vai trò “Thủ quỹ”")
    expect(page.locator("#import-summary")).to_contain_text("48 thành viên hợp lệ")
    expect(page.locator("#import-run")).to_have_count(0)  # nothing to run until the file is right
    _shot_of(page, "#import-members", "admin-import-preview")
    page.set_viewport_size(PHONE)
    _no_sideways_scroll(page)
    _shot_of(page, "#import-result", "admin-import-preview-360")
    page.set_viewport_size(TABLET)
    page.reload()
    expect(members).to_have_count(before)

    # the corrected list: all 50 in one go, each with a temporary password offered once as a CSV
    _choose_file(page, _list(bad=False), "dai-bieu-da-sua.csv")
    expect(page.locator("#import-summary")).to_contain_text("50 thành viên hợp lệ")
    page.get_by_role("button", name="Nhập 50 thành viên").click()
    expect(page.locator("#import-done")).to_contain_text("Đã nhập 50 thành viên")
    expect(members).to_have_count(before + 50)
    expect(page.locator("#member-list")).to_contain_text("Nguyễn Thị Đại Biểu 37")
    # on a phone the list is one card a member in the page's own scroll (no box scrolling inside it),
    # and a few letters of the name, without diacritics, narrow it
    page.set_viewport_size(PHONE)
    _no_sideways_scroll(page)
    assert page.locator(".member-scroll").evaluate("e => e.scrollHeight <= e.clientHeight + 1"), "the list scrolls inside a box"
    page.get_by_label("Tìm thành viên theo họ tên").fill("dai bieu 37")
    expect(page.locator("#member-list tbody tr:visible")).to_have_count(1)
    expect(page.locator("#member-list tbody tr:visible")).to_contain_text("Nguyễn Thị Đại Biểu 37")
    _shot_of(page, "#members", "admin-member-list-360")
    # the card of the member found, far below on a phone, leads back to the list
    page.locator("#member-list tbody tr:visible").get_by_role("button", name="Chọn").click()
    expect(page.locator("#member-detail")).to_contain_text("Tên đăng nhập: daibieu37")
    _no_sideways_scroll(page)  # the card's own controls too (its back button once did)
    page.get_by_role("button", name="Về danh sách thành viên").click()
    expect(page.locator('#member-list tr[data-username="daibieu37"]')).to_be_in_viewport()
    page.get_by_label("Tìm thành viên theo họ tên").fill("ieu")  # words are found by how they begin: "ieu" is inside "biểu" only
    expect(page.locator("#member-none")).to_be_visible()
    page.get_by_label("Tìm thành viên theo họ tên").fill("")
    expect(page.locator("#member-list tbody tr:visible")).to_have_count(before + 50)
    page.set_viewport_size(TABLET)
    with page.expect_download() as download:
        page.locator("#import-passwords").click()
    saved = tmp_path / "mat-khau.csv"
    download.value.save_as(saved)
    issued = list(csv.reader(io.StringIO(saved.read_text(encoding="utf-8-sig"))))
    assert issued[0] == ["Tên đăng nhập", "Họ và tên", "Mật khẩu tạm thời"] and len(issued) == 51
    temporary = {row[0]: row[2] for row in issued[1:]}

    # an imported member logs in with the temporary password and must choose their own first
    newcomer = _login(browser, live_server, "daibieu07", temporary["daibieu07"])
    # the page opened again: the temporary password is asked for too, and a wrong one is said on the
    # form (its 401 is the form's answer, not a session that ended: the page stays, nothing reloads)
    newcomer.reload()
    newcomer.locator("#current").fill("not-the-temporary-one")
    newcomer.locator("#new-password").fill("bay-con-co-bay-qua-dong")
    newcomer.get_by_label("Nhập lại mật khẩu mới").fill("bay-con-co-bay-qua-dong")
    # a navigation away is noted as it starts (the tab's sessionStorage outlives it), not only once it is done
    newcomer.evaluate("addEventListener('beforeunload', () => sessionStorage.setItem('left', location.href))")
    newcomer.get_by_role("button", name="Đổi mật khẩu").click()
    expect(newcomer.locator("#change-result")).to_contain_text("Mật khẩu hiện tại không đúng")
    assert newcomer.evaluate("sessionStorage.getItem('left')") is None and "ended" not in newcomer.url, newcomer.url
    newcomer.locator("#current").fill(temporary["daibieu07"])
    _change_password(newcomer, "bay-con-co-bay-qua-dong")

    # deactivate one: the row says so
    page.locator('#member-list tr[data-username="daibieu05"]').get_by_role("button", name="Chọn").click()
    expect(page.locator("#member-detail")).to_contain_text("Tên đăng nhập: daibieu05")  # its card, not the one open before
    page.once("dialog", lambda d: d.accept())
    page.locator("#member-active").click()
    expect(page.locator('#member-list tr[data-username="daibieu05"]')).to_contain_text("Đã khóa")
    expect(page.locator("#member-state")).to_have_text("Đã khóa Disabled")
    locked = _login(browser, live_server, "daibieu05", temporary["daibieu05"], expect_ok=False)
    expect(locked.locator("#result")).to_contain_text("Sai tên đăng nhập hoặc mật khẩu")

    # an e-mail address for the invitations; a malformed one is refused in both languages
    page.locator('#member-list tr[data-username="daibieu07"]').get_by_role("button", name="Chọn").click()
    expect(page.locator("#member-detail")).to_contain_text("Tên đăng nhập: daibieu07")  # its card, not the one open before
    page.locator("#em-email").fill("daibieu07@hdnd.sonha.gov.vn")
    page.locator("#em-email").fill("daibieu07@")
    page.get_by_role("button", name="Lưu thông tin").click()
    assert page.locator("#em-email").evaluate("e => e.validity.typeMismatch") is True  # the browser's own check first
    page.locator("#em-email").fill("daibieu07@hdnd.sonha.gov.vn")
    page.get_by_role("button", name="Lưu thông tin").click()
    expect(page.locator(".toast.ok").last).to_contain_text("Đã lưu thông tin")
    page.reload()
    page.locator('#member-list tr[data-username="daibieu07"]').get_by_role("button", name="Chọn").click()
    expect(page.locator("#member-detail")).to_contain_text("Tên đăng nhập: daibieu07")  # its card, not the one open before
    expect(page.locator("#em-email")).to_have_value("daibieu07@hdnd.sonha.gov.vn")  # stored, not only typed

    # reset a password: shown once to the admin; the member must change it at login
    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="Đặt lại mật khẩu").click()
    code = page.locator("#temp-password")
    expect(code).to_be_visible()
    reset_to = code.inner_text().strip()
    assert len(reset_to) == 16
    _shot_of(page, "#member-state", "admin-temporary-password")
    expect(newcomer.locator("main")).to_be_visible()
    newcomer.reload()  # their session ended with the reset
    newcomer.wait_for_url(re.compile(r"/\?next="))
    member = _login(browser, live_server, "daibieu07", reset_to)
    _change_password(member, "tam-con-vit-boi-giua-ao")


def _login(browser: Browser, live: LiveServer, username: str, password: str, expect_ok: bool = True) -> Page:
    from playwright.sync_api import expect

    page = live.page(browser)
    page.goto("/?next=/meetings")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.locator("#password").fill(password)
    page.get_by_role("button", name="Đăng nhập").click()
    if expect_ok:
        expect(page.locator("#change")).to_be_visible()  # asked for a new password before anything else
        expect(page.locator("#current")).to_have_count(0)  # the temporary one was just typed
    return page


def _change_password(page: Page, new: str) -> None:
    from playwright.sync_api import expect

    page.locator("#new-password").fill(new)
    page.get_by_label("Nhập lại mật khẩu mới").fill(new + "x")
    page.get_by_role("button", name="Đổi mật khẩu").click()
    expect(page.locator("#change-result")).to_contain_text("không khớp")
    page.get_by_label("Nhập lại mật khẩu mới").fill(new)
    page.get_by_role("button", name="Đổi mật khẩu").click()
    page.wait_for_url("**/meetings")
    expect(page.locator("header.bar")).to_be_visible()


def test_admin_edits_a_room_its_seats_and_who_sits_where(browser: Browser, live_server: LiveServer) -> None:
    from playwright.sync_api import expect

    page = live_server.page(browser, "admin", "/admin")
    room = page.locator("#room-list > li").filter(has_text="Phòng họp A")
    room.get_by_text("Sửa phòng, ghế và chỗ ngồi").click()
    room.locator('select[data-seat="A2"]').select_option(label="Người member1")
    expect(page.locator(".toast.ok").last).to_contain_text("Ghế A2: đã lưu")
    room.locator('select[data-seat="A3"]').select_option(label="Người member1")  # one usual seat a person: refused, named
    expect(page.locator(".toast.error").last).to_contain_text("đã ngồi ghế “A2”")
    expect(room.locator('select[data-seat="A3"]')).to_have_value("")
    room.get_by_label("Tên phòng").fill("Phòng họp A (tầng 2)")
    room.get_by_label("Ghế (cách nhau").fill("A1, A2, A3, A4")
    room.get_by_role("button", name="Lưu phòng họp").click()
    renamed = page.locator("#room-list > li").filter(has_text="Phòng họp A (tầng 2)")
    expect(renamed).to_contain_text("4 ghế: A1, A2, A3, A4")
    renamed.get_by_text("Sửa phòng, ghế và chỗ ngồi").click()
    expect(renamed.locator('select[data-seat="A2"] option:checked')).to_have_text("Người member1")  # kept with its label
    page.set_viewport_size(PHONE)
    _no_sideways_scroll(page)
    page.locator("#toasts").evaluate("box => box.replaceChildren()")  # the notes would cover the seats
    _shot_of(page, "#room-list", "admin-room-seats-360")


def test_admin_adds_and_renames_a_body_by_tap(browser: Browser, live_server: LiveServer) -> None:
    """A new installation's first step: the body whose meetings these are (found in a new user's
    walk-through: no page could create one, so no meeting could be prepared)."""
    from playwright.sync_api import expect

    page = live_server.page(browser, "admin", "/admin")
    card = page.locator("#bodies")
    card.get_by_label("Tên cơ quan").last.fill("Ủy ban nhân dân huyện Sơn Hà")
    card.get_by_label("Tên viết tắt").last.fill("UBND huyện Sơn Hà")
    card.get_by_label("Cơ quan cấp trên").last.fill("Tỉnh Quảng Ngãi")
    expect(card.get_by_label("Loại cơ quan").last).to_have_value("committee")  # the kind follows the name typed
    card.get_by_label("Tên cơ quan").last.fill("Hội đồng nhân dân huyện Sơn Hà")
    expect(card.get_by_label("Loại cơ quan").last).to_have_value("council")
    card.get_by_label("Loại cơ quan").last.select_option("other")  # picked by hand: the name no longer moves it
    card.get_by_label("Tên cơ quan").last.fill("Ủy ban nhân dân huyện Sơn Hà")
    expect(card.get_by_label("Loại cơ quan").last).to_have_value("other")
    card.get_by_label("Loại cơ quan").last.select_option("committee")
    card.get_by_role("button", name="Thêm cơ quan").click()
    expect(page.locator(".toast.ok").last).to_contain_text("Đã thêm cơ quan Ủy ban nhân dân huyện Sơn Hà")
    added = page.locator("#body-list > li").filter(has_text="Ủy ban nhân dân huyện Sơn Hà")
    expect(added).to_contain_text("Ủy ban nhân dân — Tỉnh Quảng Ngãi")
    expect(page.locator("#nm-body option", has_text="Ủy ban nhân dân huyện Sơn Hà")).to_have_count(1)  # a new member can join it now
    card.get_by_role("button", name="Thêm cơ quan").click()  # the form was emptied: nothing is added twice
    expect(page.locator("#body-list > li").filter(has_text="Ủy ban nhân dân huyện Sơn Hà")).to_have_count(1)
    added.get_by_text("Sửa cơ quan").click()
    added.get_by_label("Tên cơ quan").fill("Ủy ban nhân dân huyện Sơn Hà (khóa mới)")
    added.get_by_label("Cơ quan cấp trên").fill("")
    added.get_by_role("button", name="Lưu cơ quan").click()
    renamed = page.locator("#body-list > li").filter(has_text="(khóa mới)")
    expect(renamed).to_contain_text("Ủy ban nhân dân")
    expect(renamed.locator(".muted").first).to_have_text("Ủy ban nhân dân People's Committee")  # the parent cleared
    expect(page.locator("#nm-body option", has_text="(khóa mới)")).to_have_count(1)
    page.set_viewport_size(PHONE)
    _no_sideways_scroll(page)
    page.locator("#toasts").evaluate("box => box.replaceChildren()")
    _shot_of(page, "#bodies", "admin-bodies-360")
    page.set_viewport_size(TABLET)
    _shot_of(page, "#bodies", "admin-bodies-tablet")
