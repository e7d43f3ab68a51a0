"""The home page after login, "Cuộc họp của tôi": a member on a phone sees the meetings sent to them,
grouped by day, each with its one way in and a mark when it changed since they last opened it; the
staff's page at tablet and small-phone size."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Browser, Page, expect

from meeting_room import events as ev
from meeting_room.db import tables as t
from meeting_room.lifecycle import MeetingState
from meeting_room.services import agenda, meetings
from tests.conftest import World
from tests.meeting_room.web.conftest import TABLET, LiveServer, shot
from tests.meeting_room.web.test_meeting_screens import PHONE, SMALL_PHONE, _fits, _open_page


@pytest.fixture
def world(draft_world: World) -> World:
    """These tests send the invitation themselves."""
    return draft_world


@pytest.fixture
def published(live_server: LiveServer) -> Iterator[LiveServer]:
    """The world's meeting (tomorrow) sent to its participants, looked at by member1, then its agenda
    changed by the secretary; one meeting today not sent yet, one closed yesterday."""
    world = live_server.world
    store, admin, chair, secretary = world.store, world.actor("admin"), world.actor("chair"), world.actor("secretary")
    meetings.publish_meeting(store, secretary, world.meeting_id)
    with store.read() as session:
        meetings.note_opened(store, world.actor("member1"), session.get_one(t.Meeting, world.meeting_id), None)

    def schedule(title: str, starts: datetime) -> str:
        payload = ev.MeetingScheduled(
            meeting_id=meetings.new_meeting_id(), body_id=world.body_id, title=title, room_id=world.room_id, starts_at=starts,
            ends_at=starts + timedelta(hours=2), chair_id=world.ids["chair"], secretary_id=world.ids["secretary"],
        )  # fmt: skip
        return meetings.schedule_meeting(store, admin, payload)

    schedule("Họp giao ban đầu tuần (chưa gửi giấy mời)", datetime.now(UTC))
    past = schedule("Phiên họp chuyên đề tháng 10", datetime.now(UTC) - timedelta(days=1))
    for state in (MeetingState.OPEN, MeetingState.IN_SESSION, MeetingState.CLOSED):
        meetings.transition(store, chair, past, state)
    agenda.add_item(store, secretary, world.meeting_id, title="Thảo luận tờ trình bổ sung về đầu tư công")
    yield live_server


def _card(page: Page, group: str, title: str):
    return page.locator(f'[data-group="{group}"] [data-meeting]', has_text=title)


def test_a_member_sees_the_published_meeting_marked_changed_on_a_phone(browser: Browser, published: LiveServer) -> None:
    world = published.world
    member = _open_page(browser, published, "member1", "/meetings", PHONE, touch=True)
    card = _card(member, "upcoming", "Phiên họp thường kỳ tháng 11")
    expect(card).to_be_visible()
    expect(card.locator(".badge.changed")).to_have_text("Mới thay đổi Changed")
    expect(card).to_contain_text("Phòng họp A")
    expect(card).to_contain_text("Đại biểu")  # a council's members are delegates
    expect(_card(member, "past", "Phiên họp chuyên đề tháng 10").get_by_role("link", name="Hồ sơ")).to_be_visible()
    expect(member.locator("[data-meeting]", has_text="chưa gửi giấy mời")).to_have_count(0)  # not sent to them yet
    expect(member.locator("#new-meeting")).to_be_hidden()
    expect(member.locator("#filters-box")).to_be_hidden()
    _fits(member, PHONE["width"])
    shot(member, f"home-member-{PHONE['width']}x{PHONE['height']}")

    card.get_by_role("link", name="Vào họp").tap()  # opening the meeting is looking at the change
    member.wait_for_url(f"**/member/{world.meeting_id}")
    expect(member.locator("#agenda")).to_contain_text("Thảo luận tờ trình bổ sung")
    member.go_back()
    expect(card).to_be_visible()
    expect(card.locator(".badge.changed")).to_have_count(0)
    member.context.close()


def test_a_meeting_under_way_comes_first_whatever_its_date(browser: Browser, published: LiveServer) -> None:
    """Opened ahead of its day, a meeting is not "upcoming" (walk-through: a member found the meeting
    in progress under "Sắp tới", below another one)."""
    world = published.world
    meetings.transition(world.store, world.actor("chair"), world.meeting_id, MeetingState.OPEN)
    member = _open_page(browser, published, "member1", "/meetings", PHONE, touch=True)
    expect(member.locator("[data-group]").first).to_have_attribute("data-group", "now")
    expect(_card(member, "now", "Phiên họp thường kỳ tháng 11").get_by_role("link", name="Vào họp")).to_be_visible()
    expect(member.locator('[data-group="upcoming"] [data-meeting]', has_text="Phiên họp thường kỳ tháng 11")).to_have_count(0)
    # held early and closed: past, not upcoming, whatever day it was planned for (a walk-through)
    for state in (MeetingState.IN_SESSION, MeetingState.CLOSED):
        meetings.transition(world.store, world.actor("chair"), world.meeting_id, state)
    member.reload()
    expect(_card(member, "past", "Phiên họp thường kỳ tháng 11")).to_be_visible()
    expect(member.locator('[data-group="upcoming"] [data-meeting]', has_text="Phiên họp thường kỳ tháng 11")).to_have_count(0)
    member.context.close()


def test_a_cancelled_meeting_stays_on_its_day_marked_cancelled(browser: Browser, published: LiveServer) -> None:
    """A member looking ahead finds the meeting they were invited to, that it will not be held, and why."""
    world = published.world
    # the chair cancels it on the console, with the reason (it had no field for one: a walk-through)
    chair = _open_page(browser, published, "chair", f"/chair/{world.meeting_id}", TABLET, touch=True)
    chair.locator("#cancel-reason").fill("Lùi sang tuần sau do trùng lịch.")
    cancel = chair.locator("button[data-to=cancelled]")
    cancel.tap()
    expect(cancel).to_contain_text("Chạm lần nữa")  # it cannot be undone: a second tap
    shot(chair, "chair-cancel-armed")
    cancel.tap()
    expect(chair.locator("#meeting-state")).to_have_text("Đã hủy")
    expect(chair.locator("#ended")).to_contain_text("Cuộc họp đã hủy: bàn điều hành chỉ còn để xem.")
    expect(chair.locator("#new-poll-box")).to_be_hidden()  # it looked live after the cancel (a walk-through)
    expect(chair.locator("#attendance")).to_be_hidden()
    shot(chair, "chair-console-cancelled")
    chair.context.close()

    member = _open_page(browser, published, "member1", "/meetings", PHONE, touch=True)
    card = _card(member, "upcoming", "Phiên họp thường kỳ tháng 11")
    expect(card.locator(".badge.bad")).to_have_text("Đã hủy")  # not the grey of the scheduled ones around it
    expect(card.locator(".cancel-reason")).to_have_text("Lý do hủy Why cancelled: Lùi sang tuần sau do trùng lịch.")
    expect(member.locator('[data-group="past"] [data-meeting]', has_text="Phiên họp thường kỳ tháng 11")).to_have_count(0)
    shot(member, "home-member-cancelled-phone")
    # its page says it will not be held, and why (it looked like a meeting that had been held: a walk-through)
    member.goto(f"/member/{world.meeting_id}")
    expect(member.locator("#cancelled-note")).to_contain_text("Cuộc họp này đã bị hủy, không họp: Lùi sang tuần sau do trùng lịch. This")
    expect(member.locator("#floor-ended")).to_have_text("Cuộc họp đã bị hủy. The meeting was cancelled.")
    expect(member.locator("#attendance")).to_be_hidden()  # "no quorum" said of a meeting never held
    assert member.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), "the page scrolls sideways"
    shot(member, "member-page-cancelled-phone")
    # its record page says the same, not "planned, not held yet" over cards of minutes still to come
    member.goto(f"/clerk/{world.meeting_id}")
    expect(member.locator("#held")).to_have_text("Đã hủy, không họp: Lùi sang tuần sau do trùng lịch. Cancelled: it will not be held.")
    expect(member.locator("main > .grid")).to_be_hidden()
    shot(member, "record-cancelled-phone")
    member.context.close()


def test_the_staff_home_page_on_a_tablet_and_a_small_phone(browser: Browser, published: LiveServer) -> None:
    for size in (TABLET, SMALL_PHONE):
        page = _open_page(browser, published, "secretary", "/meetings", size, touch=True)
        today = _card(page, "today", "chưa gửi giấy mời")
        expect(today.get_by_role("link", name="Chuẩn bị")).to_have_attribute("href", f"/prepare/{today.get_attribute('data-meeting')}")
        # she also runs it: the console (open the meeting, roll call, votes) is one tap away too
        expect(today.get_by_role("link", name="Bàn điều hành")).to_have_attribute("href", f"/chair/{today.get_attribute('data-meeting')}")
        expect(_card(page, "upcoming", "Phiên họp thường kỳ tháng 11")).to_contain_text("Thư ký")
        # which meetings still wait for their invitation, at a glance (walk-through: both read "Đã lên lịch")
        expect(today.locator(".badge.unpublished")).to_have_text("Chưa gửi giấy mời Not sent")
        expect(_card(page, "upcoming", "Phiên họp thường kỳ tháng 11").locator(".badge.unpublished")).to_have_count(0)
        expect(page.locator("#new-meeting")).to_be_visible()
        expect(page.locator("#filters-box")).to_be_visible()
        if size is TABLET:
            expect(page.locator("#filters")).to_be_visible()
        else:  # folded on a phone: the meetings come first
            expect(page.locator("#filters")).to_be_hidden()
        expect(page.locator("#teller-key")).to_be_visible()  # the teller-key section stays on the home page
        _fits(page, size["width"])
        shot(page, f"home-secretary-{size['width']}x{size['height']}")
        page.context.close()

    # the staff's filter: one day only
    page = _open_page(browser, published, "secretary", "/meetings", TABLET, touch=True)
    yesterday = (datetime.now(UTC) + timedelta(hours=7) - timedelta(days=1)).date().isoformat()
    page.locator("#filters [name=date_from]").fill(yesterday)
    page.locator("#filters [name=date_to]").fill(yesterday)
    page.locator("#filters button[type=submit]").tap()
    expect(page.locator("[data-meeting]")).to_have_count(1)
    expect(page.locator('[data-group="past"] [data-meeting]')).to_contain_text("Phiên họp chuyên đề tháng 10")
    page.context.close()
