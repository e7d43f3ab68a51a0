"""Documents read inside the meeting page (pdf.js from npm, served by the server): a member on a
phone opens one from the agenda, turns the page, zooms, writes a private note, closes, and is back
where they were; the chair reads one on the tablet console; without pdf.js, a download link."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from meeting_room.api.routes import pages
from meeting_room.files.documents import DocumentFiles
from meeting_room.services import documents
from meeting_room.settings import Settings
from tests.conftest import World
from tests.meeting_room.web.conftest import TABLET, LiveServer, shot
from tests.meeting_room.web.test_meeting_screens import PHONE, SMALL_PHONE, _open_page
from tests.needs import PACKAGES, unavailable

TITLE = "Tờ trình dự toán ngân sách tỉnh năm 2027"
NOTE = "Hỏi lại: chi đầu tư phát triển tăng 12% so với năm trước?"


def _pdf(pages_: int) -> bytes:
    """A readable A4 document: a heading, a paragraph and a table-like grid on every page."""
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    c.setTitle(TITLE)
    for n in range(1, pages_ + 1):
        c.setFont("Helvetica-Bold", 20)
        c.drawString(60, 770, f"Page {n} / {pages_}")
        c.setFont("Helvetica", 12)
        for i in range(30):
            c.drawString(60, 730 - i * 20, f"Line {i + 1}: budget item {n}.{i + 1} ........ {1000 * n + i} million VND")
        c.rect(60, 80, 475, 30)
        c.showPage()
    c.save()
    return buf.getvalue()


@pytest.fixture
def document(world: World, settings: Settings) -> Iterator[str]:
    """A 3-page document on the first agenda item, uploaded by the secretary."""
    if pages.vendor_dir("pdfjs-dist") is None:
        unavailable("pdf.js is not installed (scripts/setup.sh runs npm ci in meeting_room/web)", PACKAGES)
    files = DocumentFiles(settings.documents_dir, settings.max_upload_mb << 20)
    yield documents.attach(
        world.store, files, world.actor("secretary"), world.meeting_id, world.item_ids[0],
        source=io.BytesIO(_pdf(3)), filename="to-trinh-du-toan.pdf", title=TITLE,
    )  # fmt: skip


def _fits(page: Page, width: int) -> None:
    """Nothing wider than the screen: no sideways scroll of the page, the reader's bars inside it."""
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    for bar in (".viewer-head", ".viewer-tools"):
        assert page.evaluate(f"(() => {{ const b = document.querySelector('{bar}'); return b.scrollWidth <= b.clientWidth; }})()"), bar


def test_a_member_reads_a_document_on_a_phone_and_comes_back(browser: Browser, live_server: LiveServer, document: str) -> None:
    world = live_server.world
    member = _open_page(browser, live_server, "member1", f"/member/{world.meeting_id}", PHONE, touch=True)
    expect(member.locator("#connection")).to_have_text("● Cập nhật trực tiếp / Live")  # read and live: no catch-up redraw to come
    link = member.locator(f'#agenda a[data-document="{document}"]')
    link.scroll_into_view_if_needed()
    before = member.evaluate("window.scrollY")
    link.tap()
    viewer = member.locator("#viewer")
    expect(viewer).to_have_attribute("data-page", "1")
    expect(viewer.locator("canvas")).to_be_visible()
    expect(member.locator("#viewer-page")).to_have_value("1")
    expect(member.locator(".viewer-count")).to_have_text("/ 3")
    _fits(member, PHONE["width"])
    # fit to width on a phone: the page fills the screen's width
    width = member.evaluate("document.querySelector('#viewer canvas').getBoundingClientRect().width")
    assert PHONE["width"] - 40 <= width <= PHONE["width"]
    shot(member, "document-viewer-390x844")

    member.locator("#viewer-next").tap()
    expect(viewer).to_have_attribute("data-page", "2")
    expect(member.locator("#viewer-page")).to_have_value("2")
    scale = float(viewer.get_attribute("data-scale") or 0)
    member.locator("#viewer-zoom-in").tap()
    expect(member.locator("#viewer-fit")).to_have_attribute("aria-pressed", "false")
    member.wait_for_function(f"Number(document.querySelector('#viewer').dataset.scale) > {scale}")
    # wider than the screen now: it scrolls inside the reader, not the page
    assert member.evaluate("(() => { const s = document.querySelector('.viewer-pages'); return s.scrollWidth > s.clientWidth; })()")
    assert member.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    # a private note on page 2, saved as it is typed
    member.locator("#viewer-notes-toggle").tap()
    member.locator("#viewer-note-text").fill(NOTE)
    expect(member.locator("#viewer-note-state")).to_contain_text("Đã lưu")
    expect(member.locator("#viewer-notes-toggle .badge")).to_have_text("1")
    shot(member, "document-viewer-390x844-note")

    member.locator("#viewer-close").tap()
    expect(viewer).to_have_count(0)
    assert member.url.endswith(f"/member/{world.meeting_id}")
    assert member.evaluate("window.scrollY") == before  # back where they were
    expect(link).to_be_focused()

    # the phone's back button closes the reader too, without leaving the meeting page; the note is still there
    link.tap()
    expect(viewer).to_have_attribute("data-page", "1")
    member.locator("#viewer-notes-toggle").tap()
    expect(member.locator(".viewer-noted button")).to_have_text("2")
    member.locator(".viewer-noted button").tap()
    expect(member.locator("#viewer-note-text")).to_have_value(NOTE)
    member.go_back()
    expect(viewer).to_have_count(0)
    assert member.url.endswith(f"/member/{world.meeting_id}")
    expect(member.locator("#agenda")).to_contain_text(TITLE)

    # the smallest phone (360 px): the reader's bars still fit, nothing scrolls sideways
    member.set_viewport_size(SMALL_PHONE)
    link.tap()
    expect(viewer).to_have_attribute("data-page", "1")
    _fits(member, SMALL_PHONE["width"])
    member.locator("#viewer-close").tap()
    expect(viewer).to_have_count(0)


def test_the_chair_reads_a_document_on_the_console(browser: Browser, live_server: LiveServer, document: str) -> None:
    world = live_server.world
    chair = live_server.page(browser, "chair", f"/chair/{world.meeting_id}")
    chair.locator(f'#agenda a[data-document="{document}"]').click()
    viewer = chair.locator("#viewer")
    expect(viewer).to_have_attribute("data-page", "1")
    chair.locator("#viewer-page").fill("3")
    chair.locator("#viewer-page").press("Enter")
    expect(viewer).to_have_attribute("data-page", "3")
    chair.locator("#viewer-notes-toggle").click()
    expect(chair.locator("#viewer-note-text")).to_have_value("")  # the member's note is not the chair's
    chair.locator("#viewer-note-text").fill("Nhắc đại biểu xem phụ lục trước phiên chiều.")
    expect(chair.locator("#viewer-note-state")).to_contain_text("Đã lưu")
    _fits(chair, TABLET["width"])
    shot(chair, "document-viewer-1280x800")
    chair.keyboard.press("Escape")  # out of the note
    chair.keyboard.press("Escape")  # and out of the reader
    expect(viewer).to_have_count(0)
    assert chair.url.endswith(f"/chair/{world.meeting_id}")


def test_without_pdfjs_the_document_is_a_download(browser: Browser, live_server: LiveServer, document: str) -> None:
    """The server without npm's pdf.js (its files answer 404): the reader says so and offers the file."""
    world = live_server.world
    member = live_server.page(browser, "member1", f"/member/{world.meeting_id}")
    member.route("**/static/vendor/**", lambda route: route.fulfill(status=404, body="not installed"))
    member.locator(f'#agenda a[data-document="{document}"]').click()
    expect(member.locator("#viewer-status")).to_contain_text("chưa cài trình đọc tài liệu")
    file = f"/api/meetings/{world.meeting_id}/documents/{document}/file"
    expect(member.locator("#viewer-download")).to_have_attribute("href", f"{file}?download=true")
    member.locator("#viewer-close").click()
    expect(member.locator("#viewer")).to_have_count(0)
