"""The secretary prepares a meeting from nothing in the browser, by tap: details, agenda (reordered by
a button and by drag), eight participants found by typing names without diacritics, three PDFs
uploaded at once, then "Gửi giấy mời". No API call in the test body: everything goes through the page."""

from __future__ import annotations

import io
import re
import time
from datetime import date, timedelta

import pytest
from playwright.sync_api import Browser, FilePayload, Page, ViewportSize, expect
from reportlab.pdfgen import canvas

from meeting_room.roles import Role
from meeting_room.services import members
from tests.conftest import World, password_hash
from tests.meeting_room.web.conftest import SHOTS, TABLET, LiveServer, shot

# Members of the body with full Vietnamese names; the secretary types each one without diacritics.
PEOPLE = {
    "nguyen van an": "Nguyễn Văn An",
    "tran thi cuc": "Trần Thị Cúc",
    "le hoang dung": "Lê Hoàng Dũng",
    "dao pham": "Phạm Thị Hồng Đào",
    "vo minh duc": "Võ Minh Đức",
    "dang thu ha": "Đặng Thu Hà",
    "bui quoc huy": "Bùi Quốc Huy",
    "hoang thi lan": "Hoàng Thị Lan",
}
OTHERS = ("Nguyễn Văn Bình",)  # found by the same words as "Nguyễn Văn An": the search lists both
ITEMS = ("Khai mạc", "Báo cáo tình hình kinh tế - xã hội", "Thông qua nghị quyết")
PHONE: ViewportSize = {"width": 360, "height": 640}


def _pdf(pages: int, text: str) -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    for n in range(pages):
        c.drawString(72, 720, f"{text} - trang {n + 1}")
        c.showPage()
    c.save()
    return buf.getvalue()


@pytest.fixture
def world(draft_world: World) -> World:
    """These tests send the invitation themselves."""
    return draft_world


@pytest.fixture
def pdfs() -> list[FilePayload]:
    """Three small real PDFs (2, 3 and 5 pages), as a file picker hands them over."""
    made = [("To trinh.pdf", 2), ("Bao cao KT-XH.pdf", 3), ("Du thao nghi quyet.pdf", 5)]
    return [FilePayload(name=name, mimeType="application/pdf", buffer=_pdf(n, name)) for name, n in made]


@pytest.fixture
def body_people(live_server: LiveServer) -> None:
    world = live_server.world
    admin = world.actor("admin")
    secret = password_hash()
    for i, name in enumerate((*PEOPLE.values(), *OTHERS)):
        members.create_member(
            world.store, admin, full_name=name, roles=[Role.MEMBER], body_id=world.body_id, username=f"nguoi{i}", password_hash=secret
        )


def _agenda(page: Page) -> list[str]:
    return [re.sub(r"^\d+\.\s*", "", t) for t in page.locator("#agenda-items li.item .item-title b").all_inner_texts()]


def _drag(page: Page, item: str, onto: str) -> None:
    """Drag ``item`` by its handle to the top half of ``onto``: the page listens to pointer events,
    the same for a finger and a mouse; Playwright moves a mouse (it has no touch drag)."""
    handle = page.get_by_role("button", name=f"Kéo để đổi thứ tự mục “{item}”").bounding_box()
    target = page.locator("#agenda-items li.item", has_text=onto).bounding_box()
    assert handle and target
    x = handle["x"] + handle["width"] / 2
    page.mouse.move(x, handle["y"] + handle["height"] / 2)
    page.mouse.down()
    page.mouse.move(x, target["y"] + target["height"] / 4, steps=8)
    page.mouse.up()


def _touch_drag(page: Page, item: str, onto: str) -> None:
    """The same drag with a finger: touch events through Chromium's DevTools protocol (Playwright only
    taps). Chromium may drop a synthetic tap that follows at once, so nothing is tapped after it."""
    handle = page.get_by_role("button", name=f"Kéo để đổi thứ tự mục “{item}”").bounding_box()
    target = page.locator("#agenda-items li.item", has_text=onto).bounding_box()
    assert handle and target
    x, y0, y1 = handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2, target["y"] + target["height"] / 4
    cdp = page.context.new_cdp_session(page)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y0}]})
    for step in range(1, 9):
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y0 + (y1 - y0) * step / 8}]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()


def test_a_secretary_prepares_and_publishes_a_meeting_from_nothing(
    browser: Browser, live_server: LiveServer, body_people: None, pdfs: list[FilePayload]
) -> None:
    started = time.monotonic()
    page = live_server.page(browser, "secretary", "/prepare/new", touch=True)

    # the details: title, room, time, chair (the secretary is already named: the person preparing it)
    page.get_by_label("Tên cuộc họp").fill("Phiên họp chuyên đề tháng 12")
    page.get_by_label("Phòng họp").select_option(label="Phòng họp A (Tầng 2)")
    page.get_by_label("Ngày họp").fill((date.today() - timedelta(days=400)).isoformat())  # last year's date, by a slip
    page.get_by_role("button", name="Tạo cuộc họp").tap()
    expect(page.locator("#err-start")).to_contain_text("đã qua. Kiểm tra lại ngày")  # said before anything is saved
    expect(page).to_have_url(re.compile(r"/prepare/new$"))
    page.get_by_label("Ngày họp").fill((date.today() + timedelta(days=7)).isoformat())
    page.get_by_label("Bắt đầu").fill("08:00")
    page.get_by_label("Kết thúc").fill("07:00")  # before the start: the API's error shows at the field
    # each seat lists first who fits it by standing role (the rest after them)
    groups = page.get_by_label("Chủ tọa").locator("optgroup").evaluate_all("gs => gs.map(g => [g.label, [...g.children].map(o => o.text)])")
    assert groups[0] == ["Chủ tọa", ["Người chair"]] and groups[1][0] == "Đại biểu / thành viên", groups
    secretaries = page.get_by_label("Thư ký").locator("optgroup").first.evaluate("g => [g.label, [...g.children].map(o => o.text)]")
    assert secretaries == ["Thư ký, văn thư", ["Người secretary"]], secretaries
    page.get_by_label("Chủ tọa").select_option(label="Người chair")
    expect(page.get_by_label("Thư ký")).to_have_value(live_server.world.ids["secretary"])
    expect(page.get_by_label("Mời tất cả thành viên")).not_to_be_checked()  # the secretary picks them
    page.get_by_role("button", name="Tạo cuộc họp").tap()
    expect(page.locator("#err-end")).to_contain_text("Giờ kết thúc phải sau giờ bắt đầu")
    expect(page.locator("#err-end")).to_contain_text("ends_at must be after starts_at")
    page.get_by_label("Kết thúc").fill("11:30")
    # whatever the browser's language draws in the fields (12/11/2026, 08:00 AM), the day as read in Vietnam
    day = date.today() + timedelta(days=7)
    weekday = ["Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật"][day.weekday()]
    short = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][day.weekday()]
    expect(page.locator("#details-form .read-back")).to_have_text(f"{weekday}, {day:%d/%m/%Y}, 08:00–11:30 {short}")
    page.get_by_role("button", name="Tạo cuộc họp").tap()
    page.wait_for_url(re.compile(r"/prepare/[0-9a-f-]{36}$"))
    expect(page.locator("#meeting-state")).to_have_text("Đã lên lịch")
    expect(page.locator("#err-end")).to_be_hidden()

    # three agenda items; one moved up by its button, one by drag
    for title in ITEMS:
        page.get_by_label("Mục mới").fill(title)
        page.get_by_role("button", name="Thêm mục").tap()
        expect(page.locator("#agenda-items li.item", has_text=title)).to_be_visible()
    assert _agenda(page) == list(ITEMS)
    page.get_by_role("button", name="Đưa mục “Thông qua nghị quyết” lên").tap()
    expect(page.locator("#agenda-items li.item").nth(1)).to_contain_text("Thông qua nghị quyết")
    _drag(page, "Báo cáo tình hình kinh tế - xã hội", onto="Khai mạc")
    expect(page.locator("#agenda-items li.item").first).to_contain_text("Báo cáo tình hình kinh tế - xã hội")
    assert _agenda(page) == ["Báo cáo tình hình kinh tế - xã hội", "Khai mạc", "Thông qua nghị quyết"]

    # eight participants, each found by typing the name without diacritics
    for typed, name in PEOPLE.items():
        page.get_by_label("Mời thành viên của cơ quan").fill(typed)
        page.get_by_role("button", name=f"Mời {name}", exact=True).tap()
        expect(page.locator("#participants li", has_text=name)).to_be_visible()
    expect(page.locator("#people-count")).to_have_text("10")  # the eight, the chair and the secretary
    page.get_by_label("Mời thành viên của cơ quan").fill("nguyen van")
    expect(page.locator("#member-search-results li", has_text="Nguyễn Văn An")).to_contain_text("Đã mời")
    expect(page.get_by_role("button", name="Mời Nguyễn Văn Bình")).to_be_visible()

    # three PDFs at once on the first item, over a slow link (Chromium's own throttle): a progress
    # bar per file while they travel, then each shows its size and page count
    cdp = page.context.new_cdp_session(page)
    slowed = time.monotonic()
    cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": 4000})
    page.get_by_label("Tải tài liệu lên cho mục “Báo cáo tình hình kinh tế - xã hội”").set_input_files(pdfs)
    expect(page.locator("li.upload progress")).to_have_count(3)
    docs = page.locator("#agenda-items li.item").first.locator("li.doc")
    expect(docs).to_have_count(3)
    expect(page.locator("li.upload")).to_have_count(0)  # done: the rows give way to the documents
    cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
    slowed = time.monotonic() - slowed
    for title, pages in (("To trinh", 2), ("Bao cao KT-XH", 3), ("Du thao nghi quyet", 5)):
        row = docs.filter(has_text=title)
        expect(row.locator(".doc-pages")).to_contain_text(f"{pages} trang")
        expect(row.locator(".doc-size")).to_have_text(re.compile(r"^\d+(,\d)? KB$"))

    # the secretary checks a document in the page's own reader, and is back in the editor
    docs.filter(has_text="Bao cao KT-XH").locator("a.name").click()
    expect(page.locator("#viewer")).to_be_visible()
    expect(page.locator(".viewer-count")).to_have_text("/ 3")
    page.keyboard.press("Escape")
    expect(page.locator("#viewer")).to_have_count(0)
    expect(docs).to_have_count(3)

    # the order survives a reload: it is the server's
    page.reload()
    expect(page.locator("#agenda-items li.item")).to_have_count(3)
    assert _agenda(page) == ["Báo cáo tình hình kinh tế - xã hội", "Khai mạc", "Thông qua nghị quyết"]
    expect(page.locator("#participants li")).to_have_count(10)
    shot(page, "prepare-1280x800")
    page.screenshot(path=str(SHOTS / "prepare-1280x800-full.png"), full_page=True)

    # usable on a phone: nothing pushes the page sideways
    page.set_viewport_size(PHONE)
    expect(page.locator("#agenda-items li.item")).to_have_count(3)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(page, "prepare-360x640")
    page.locator("#agenda-card").evaluate("el => el.scrollIntoView()")
    page.screenshot(path=str(SHOTS / "prepare-360x640-agenda.png"))
    page.set_viewport_size(TABLET)

    # "Gửi giấy mời": the publish endpoint comes from another change; until it is there (404), only
    # the last assertion is left out (the error is then shown in place, which is checked instead)
    # one more invited after the page was drawn: the second tap counts them too (walk-through: it said 2 of 5)
    page.get_by_label("Mời thành viên của cơ quan").fill("nguyen van binh")
    page.get_by_role("button", name="Mời Nguyễn Văn Bình", exact=True).tap()
    expect(page.locator("#people-count")).to_have_text("11")
    page.get_by_role("button", name="Gửi giấy mời").tap()  # it reaches everyone: the second tap says how many
    expect(page.locator("#publish")).to_contain_text("Chạm lần nữa để gửi cho 11 người")
    with page.expect_response(lambda r: r.url.endswith("/publish")) as answer:
        page.locator("#publish").tap()
    if answer.value.status == 404:
        expect(page.locator("#err-publish")).to_be_visible()
        print(f"\nthe publish endpoint is not there yet (404); from login to the publish tap: {_took(started, slowed)}")
        return
    expect(page.locator("#publish-status")).to_contain_text("Đã gửi giấy mời")
    expect(page.locator("#publish")).to_contain_text("Gửi lại giấy mời (báo thay đổi)")  # no doubt whether a tap sends it again
    print(f"\nfrom login to a published meeting: {_took(started, slowed)}")


def _took(started: float, slowed: float) -> str:
    total = time.monotonic() - started
    return f"{total:.1f} s, of which {slowed:.1f} s the deliberately slowed upload ({total - slowed:.1f} s without it)"


def test_editing_replacing_removing_and_cancelling_with_errors_in_place(browser: Browser, live_server: LiveServer) -> None:
    world = live_server.world
    page = live_server.page(browser, "secretary", f"/prepare/{world.meeting_id}", touch=True)
    expect(page.get_by_label("Tên cuộc họp")).to_have_value("Phiên họp thường kỳ tháng 11")
    expect(page.get_by_label("Cơ quan Body")).to_be_disabled()  # a meeting keeps its body

    # an item edited, another removed
    page.get_by_role("button", name="Sửa mục “Khai mạc”").tap()
    page.get_by_label("Tên mục").fill("Khai mạc kỳ họp")
    page.get_by_label("Nội dung tóm tắt").fill("Chủ tọa phát biểu khai mạc")
    page.locator("form.item-edit").get_by_role("button", name="Lưu").tap()
    expect(page.locator("#agenda-items li.item").first).to_contain_text("Chủ tọa phát biểu khai mạc")
    remove = page.get_by_role("button", name="Xóa mục “Biểu quyết dự toán ngân sách”")
    remove.tap()  # the first tap only arms it: a slip of the finger deletes nothing
    expect(remove).to_have_text("Chạm lần nữa để xóa")
    shot(page, "prepare-delete-armed")
    expect(page.locator("#agenda-items li.item")).to_have_count(2)
    remove.tap()
    expect(page.locator("#agenda-items li.item")).to_have_count(1)

    # a file that is not a PDF: the API's refusal shows on its own row, in both languages
    item = page.locator("#agenda-items li.item").first
    picker = page.get_by_label("Tải tài liệu lên cho mục “Khai mạc kỳ họp”")
    picker.set_input_files([FilePayload(name="ghi-chu.pdf", mimeType="application/pdf", buffer=b"just text")])
    expect(item.locator("li.upload.failed .field-error")).to_contain_text("chỉ nhận tài liệu PDF")
    expect(item.locator("li.upload.failed .field-error .en")).to_contain_text("only PDF documents are accepted")
    item.get_by_role("button", name="Bỏ dòng lỗi của ghi-chu.pdf").tap()
    expect(item.locator("li.upload")).to_have_count(0)

    # a file over the server's limit (1 MB in these tests) is refused on the page, before it is sent
    posted: list[str] = []
    page.on("request", lambda r: posted.append(r.url) if r.method == "POST" and r.url.endswith("/documents") else None)
    picker.set_input_files([FilePayload(name="lon.pdf", mimeType="application/pdf", buffer=b"%PDF-1.7\n" + bytes(3 << 19))])
    expect(item.locator("li.upload.failed .field-error")).to_contain_text("lớn hơn 1 MB")
    expect(item.locator("li.upload.failed .field-error .en")).to_contain_text("over 1 MB")
    assert posted == []
    item.get_by_role("button", name="Bỏ dòng lỗi của lon.pdf").tap()

    # a document uploaded, replaced by a newer file (same title, new page count), then removed
    picker.set_input_files([FilePayload(name="Diễn văn.pdf", mimeType="application/pdf", buffer=_pdf(1, "v1"))])
    expect(item.locator("li.doc .doc-pages")).to_contain_text("1 trang")
    item.get_by_label("Thay tệp của “Diễn văn”").set_input_files(
        [FilePayload(name="Diễn văn v2.pdf", mimeType="application/pdf", buffer=_pdf(4, "v2"))]
    )
    expect(item.locator("li.doc .doc-pages")).to_contain_text("4 trang")
    expect(item.locator("li.doc .filename")).to_have_text("Diễn văn v2.pdf")
    expect(item.locator("li.doc")).to_have_count(1)
    # renamed in place (a file name gives no diacritics, or not the words wanted)
    item.get_by_role("button", name="Đổi tên “Diễn văn”").tap()
    item.get_by_label("Tên tài liệu").fill("Diễn văn khai mạc kỳ họp")
    item.get_by_role("button", name="Lưu").tap()
    expect(item.locator("li.doc .name")).to_have_text("Diễn văn khai mạc kỳ họp")
    item.get_by_role("button", name="Gỡ tài liệu “Diễn văn khai mạc kỳ họp”").tap()
    expect(item.locator("li.doc")).to_have_count(0)

    # a participant withdrawn; the chair and the secretary cannot be (they are set in the details)
    page.get_by_role("button", name="Bỏ Người member2 khỏi danh sách").tap()
    expect(page.locator("#participants li", has_text="Người member2")).to_have_count(0)
    expect(page.get_by_role("button", name="Bỏ Người chair khỏi danh sách")).to_have_count(0)

    # the chair cannot also be the secretary: the API's error shows in the details card
    page.get_by_label("Chủ tọa").select_option(label="Người secretary")
    page.get_by_role("button", name="Lưu thay đổi").tap()
    expect(page.locator("#err-details")).to_contain_text("Chủ tọa và thư ký phải là hai người khác nhau")
    expect(page.locator("#err-details .en")).to_contain_text("The chair and the secretary must be different people")

    # cancelled with a reason: said at the top, and nothing more can be changed
    page.locator("details.cancel summary").tap()
    page.get_by_role("button", name="Xác nhận hủy cuộc họp").tap()
    expect(page.locator("#err-cancel")).to_contain_text("Hãy ghi lý do hủy cuộc họp")
    page.get_by_label("Lý do hủy").fill("Hoãn do bão số 9")
    page.get_by_role("button", name="Xác nhận hủy cuộc họp").tap()
    expect(page.locator("#meeting-state")).to_have_text("Đã hủy")
    expect(page.locator("#cancelled-note")).to_contain_text("Lý do: Hoãn do bão số 9")
    expect(page.locator("#cancelled-note")).to_be_in_viewport()  # not left off screen above the cancel form
    expect(page.get_by_label("Tên cuộc họp")).to_be_disabled()
    expect(page.get_by_role("button", name="Gửi giấy mời")).to_be_disabled()


def test_a_finger_drags_an_item(browser: Browser, live_server: LiveServer) -> None:
    """On a touch screen the handle takes the drag (the page does not scroll), and the order is the server's; a keyboard moves it too."""
    page = live_server.page(browser, "secretary", f"/prepare/{live_server.world.meeting_id}", touch=True)
    expect(page.locator("#agenda-items li.item")).to_have_count(2)
    _touch_drag(page, "Biểu quyết dự toán ngân sách", onto="Khai mạc")
    expect(page.locator("#agenda-items li.item").first).to_contain_text("Biểu quyết dự toán ngân sách")
    page.reload()
    expect(page.locator("#agenda-items li.item").first).to_contain_text("Biểu quyết dự toán ngân sách")
    assert _agenda(page) == ["Biểu quyết dự toán ngân sách", "Khai mạc"]

    # the handle also answers the arrow keys (no pointer needed), and keeps the focus
    handle = page.get_by_role("button", name="Kéo để đổi thứ tự mục “Biểu quyết dự toán ngân sách”")
    handle.press("ArrowDown")
    expect(page.locator("#agenda-items li.item").first).to_contain_text("Khai mạc")
    expect(handle).to_be_focused()
