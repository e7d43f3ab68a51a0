"""On a phone the answer to a tap must come into view: an error next to a field above the screen, a
search's results under its filters, the part of a record a link points at (found by a new user's
walk-through at 360x640: each tap seemed to do nothing)."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Page, expect

from meeting_room.lifecycle import MeetingState
from meeting_room.services import meetings, polls
from tests.meeting_room.web.conftest import SHOTS, LiveServer
from tests.meeting_room.web.test_meeting_screens import SMALL_PHONE, _in_session, _open_page
from voting import PollKind


def _as_seen(page: Page, name: str) -> None:
    """The screen as the person sees it after the tap (``shot`` scrolls to the top first)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def test_a_refused_title_is_shown_and_its_field_focused(browser: Browser, live_server: LiveServer) -> None:
    page = _open_page(browser, live_server, "secretary", "/prepare/new", SMALL_PHONE, touch=True)
    create = page.get_by_role("button", name="Tạo cuộc họp")
    create.scroll_into_view_if_needed()
    expect(page.get_by_label("Tên cuộc họp")).not_to_be_in_viewport()  # the title is far above the button
    create.tap()
    expect(page.locator("#err-title")).to_contain_text("không được để trống")
    expect(page.locator("#err-title")).not_to_contain_text("Dữ liệu gửi lên không hợp lệ")  # the field's own problem only
    expect(page.locator("#err-title")).to_be_in_viewport()
    expect(page.get_by_label("Tên cuộc họp")).to_be_focused()
    _as_seen(page, "prepare-empty-title-360x640")


def test_the_search_results_and_a_hit_in_the_minutes_come_into_view(browser: Browser, live_server: LiveServer) -> None:
    world = live_server.world
    for state in (MeetingState.OPEN, MeetingState.IN_SESSION, MeetingState.CLOSED):
        meetings.transition(world.store, world.actor("chair"), world.meeting_id, state)
    page = _open_page(browser, live_server, "clerk", "/clerk", SMALL_PHONE, touch=True)
    page.get_by_label("Từ khóa").fill("ngan sach")
    page.get_by_role("button", name="Tìm").tap()
    expect(page.locator("#total")).to_contain_text("ngan sach")
    expect(page.locator("#total")).to_be_in_viewport()
    _as_seen(page, "clerk-search-360x640")

    page.goto(f"/clerk/{world.meeting_id}#minutes")
    expect(page.locator("#minutes h2")).to_contain_text("Biên bản")
    expect(page.locator("#minutes")).to_be_in_viewport()
    _as_seen(page, "record-minutes-link-360x640")


def test_an_opinion_poll_reads_as_asking_for_opinions_not_as_a_vote(browser: Browser, live_server: LiveServer) -> None:
    """No rule passes an opinion poll, and it is not "voted" (walk-through: the member page showed a
    pass rule and "Gửi phiếu", and an empty answer was told to choose an option there were none of)."""
    world = live_server.world
    _in_session(world)
    spec = polls.PollSpec(title="Góp ý dự thảo", kind=PollKind.OPINION)
    poll = polls.create_poll(world.store, world.actor("chair"), world.meeting_id, spec)
    polls.open_poll(world.store, world.actor("chair"), poll)
    page = _open_page(browser, live_server, "member1", f"/member/{world.meeting_id}", SMALL_PHONE, touch=True)
    card = page.locator(f'#votes section[data-poll="{poll}"]')
    expect(card).to_contain_text("Đang lấy ý kiến")
    expect(card).to_contain_text("không có quy tắc thông qua")
    expect(card).not_to_contain_text("tán thành")
    expect(page.locator("#vote-banner")).to_contain_text("Đang lấy ý kiến: Góp ý dự thảo")
    card.get_by_role("button", name="Gửi ý kiến").evaluate("b => b.scrollIntoView({block: 'end'})")  # where a thumb finds it
    card.get_by_role("button", name="Gửi ý kiến").tap()
    expect(page.locator(".toast")).to_contain_text("Hãy viết ý kiến của bạn trước khi gửi")
    note, send = page.locator(".toast").bounding_box(), card.get_by_role("button", name="Gửi ý kiến").bounding_box()
    assert note is not None and send is not None
    assert note["y"] + note["height"] <= send["y"] or send["y"] + send["height"] <= note["y"], "the note covers the button"
    card.get_by_label("Ý kiến của bạn").fill("Đề nghị bổ sung số liệu năm 2025.")
    card.get_by_role("button", name="Gửi ý kiến").tap()
    expect(card).to_contain_text(re.compile(r"1/\d+ đã góp ý"))
    _as_seen(page, "member-opinion-poll-360x640")
