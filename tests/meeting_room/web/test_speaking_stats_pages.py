"""Speaking statistics in a real browser: the record page's card after a held meeting, and the
clerk's period form, on a tablet and on a 360 px phone."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import cast
from zoneinfo import ZoneInfo

import httpx2 as httpx
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page, expect

from tests.meeting_room.api.held_meeting import hold_meeting
from tests.meeting_room.web.conftest import SHOTS, LiveServer
from tests.meeting_room.web.test_meeting_screens import SMALL_PHONE, _fits, _open_page


def _shot(page: Page, name: str, card: str) -> None:
    """The viewport with ``card`` scrolled into it (the card sits below the fold)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.locator(card).scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def test_record_page_and_clerk_page_show_speaking_statistics(browser: Browser, live_server: LiveServer) -> None:
    world, mid = live_server.world, live_server.world.meeting_id
    with httpx.Client(base_url=live_server.base, timeout=30) as c:
        hold_meeting(cast(TestClient, c), world)  # the same calls over a real socket (TestClient is an httpx2 client)

    page = live_server.page(browser, "clerk", f"/clerk/{mid}")
    card = page.locator("#speaking-stats")
    expect(card.get_by_role("heading")).to_contain_text("Thống kê phát biểu")
    rows = card.locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Người member1")
    expect(rows.nth(0).locator("td").nth(2)).to_have_text("00:06")
    expect(rows.nth(0).locator("td.share")).to_have_text("63,2%")
    expect(rows.nth(1)).to_contain_text("Người chair")
    expect(rows.nth(1).locator("td").nth(2)).to_have_text("00:04")  # 3.5 s, rounded
    expect(card.locator("tfoot")).to_contain_text("00:10")
    _shot(page, "record-speaking-stats", "#speaking-stats")
    phone = _open_page(browser, live_server, "clerk", f"/clerk/{mid}", SMALL_PHONE, touch=True)
    expect(phone.locator("#speaking-stats tbody tr")).to_have_count(2)
    _fits(phone, SMALL_PHONE["width"])
    _shot(phone, "record-speaking-stats-phone", "#speaking-stats")

    clerk = live_server.page(browser, "clerk", "/clerk")
    form = clerk.locator("#stats-form")
    expect(form.get_by_label("Cơ quan")).to_have_value(world.body_id)  # a clerk belongs to no body: the first one
    today = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date()
    expect(form.locator(".read-back").first).to_contain_text(f", 01/{today:%m/%Y}")  # the month's first day, set by the page
    expect(form.locator(".read-back").nth(1)).to_contain_text(f", {today:%d/%m/%Y}")
    form.get_by_label("Từ ngày").fill(str(date.today() - timedelta(days=7)))
    form.get_by_label("Đến ngày").fill(str(date.today() + timedelta(days=7)))
    form.get_by_role("button", name="Thống kê").click()
    expect(clerk.locator("#stats-summary")).to_contain_text("1 cuộc họp đã kết thúc")
    expect(clerk.locator("#stats-result tbody tr")).to_have_count(2)
    expect(clerk.locator("#stats-result tbody tr").first).to_contain_text("Người member1")
    _shot(clerk, "clerk-speaking-stats", "#period-stats")
    # the dates the other way round: the server's bilingual refusal, shown in place of nothing
    form.get_by_label("Từ ngày").fill(str(date.today() + timedelta(days=8)))
    form.get_by_role("button", name="Thống kê").click()
    expect(clerk.locator(".toast.error")).to_contain_text("sau ngày kết thúc")
    phone = _open_page(browser, live_server, "clerk", "/clerk", SMALL_PHONE, touch=True)
    # the form is ready once its defaults are in (typed earlier, a date would be overwritten by them)
    expect(phone.locator("#stats-form").get_by_label("Cơ quan")).to_have_value(world.body_id)
    phone.locator("#stats-form").get_by_label("Đến ngày").fill(str(date.today() + timedelta(days=7)))
    phone.locator("#stats-form").get_by_role("button", name="Thống kê").click()
    expect(phone.locator("#stats-result tbody tr")).to_have_count(2)
    _fits(phone, SMALL_PHONE["width"])
    _shot(phone, "clerk-speaking-stats-phone", "#period-stats")
