"""Before the meeting in a real browser: a member on a phone sends a deputy in reply to the invitation
and answers an opinion asked ahead; the secretary's console shows the replies and the opinions."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, expect

from meeting_room.db import tables as t
from meeting_room.roles import Role
from meeting_room.services import members, opinions
from tests.conftest import password_hash
from tests.meeting_room.web.conftest import SHOTS, LiveServer, shot
from tests.meeting_room.web.test_meeting_screens import PHONE, SMALL_PHONE, _fits, _open_page


@pytest.fixture
def asked_ahead(live_server: LiveServer) -> Iterator[LiveServer]:
    """A colleague of the body not invited (a possible deputy) and an opinion asked on the budget item."""
    world = live_server.world
    admin = world.actor("admin")
    members.create_member(
        world.store,
        admin,
        full_name="Phó trưởng ban Trần Văn Dự",
        roles=[Role.MEMBER],
        body_id=world.body_id,
        username="tranvandu",
        password_hash=password_hash(),
    )
    with world.store.read() as session:
        starts = session.get_one(t.Meeting, world.meeting_id).starts_at
    request = opinions.OpinionRequest(
        title="Dự thảo nghị quyết dự toán ngân sách 2027",
        agenda_item_id=world.item_ids[1],
        deadline=starts - timedelta(hours=3),
        options=["Đồng ý", "Không đồng ý"],
    )
    opinions.ask(world.store, world.actor("secretary"), world.meeting_id, request)
    yield live_server


def test_a_member_on_a_phone_sends_a_deputy_and_answers_an_opinion(browser: Browser, asked_ahead: LiveServer) -> None:
    live = asked_ahead
    mid = live.world.meeting_id
    secretary = live.page(browser, "secretary", f"/chair/{mid}")  # follows the replies live
    replies = secretary.locator("#replies")
    expect(replies).to_contain_text("Người member2: Chưa trả lời")
    page = _open_page(browser, live, "member2", f"/member/{mid}", PHONE, touch=True)
    card = page.locator("#reply")
    expect(card).to_be_visible()
    expect(page.locator("#reply-status")).to_contain_text("Bạn chưa trả lời giấy mời")
    # the meeting has not opened: joining online waits, saying when it will work (no refusal after a tap)
    expect(page.get_by_role("button", name="Tham gia trực tuyến")).to_be_disabled()
    expect(page.locator("#call-not-yet")).to_contain_text("Mở khi cuộc họp khai mạc")

    # every answer's circle the same size, however long its label wraps on the phone
    widths = page.locator("#reply-form input[type=radio]").evaluate_all("els => els.map((e) => e.getBoundingClientRect().width)")
    assert len(widths) >= 3 and len(set(widths)) == 1, widths
    card.get_by_text("Cử người dự thay").tap()
    page.get_by_label("Thành viên cùng cơ quan dự thay").select_option(label="Phó trưởng ban Trần Văn Dự")
    _fits(page, PHONE["width"])
    shot(page, "member-reply-deputy-390x844")
    page.locator("#send-reply").tap()
    expect(page.locator("#reply-status")).to_contain_text("Cử người dự thay — Phó trưởng ban Trần Văn Dự")
    shot(page, "member-reply-sent-390x844")

    opinion = page.locator("#opinions")
    expect(opinion).to_contain_text("Dự thảo nghị quyết dự toán ngân sách 2027")
    expect(opinion).to_contain_text("Hạn góp ý")
    opinion.get_by_text("Không đồng ý").tap()
    opinion.get_by_label("Ý kiến của bạn").fill("Đề nghị bổ sung thuyết minh nguồn thu")
    opinion.get_by_role("button", name="Gửi ý kiến").tap()
    expect(opinion).to_contain_text("Bạn đã gửi ý kiến")
    expect(page.locator("#votes #no-open-poll")).to_be_visible()  # an opinion asked ahead is not a vote
    _fits(page, PHONE["width"])
    opinion.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "member-opinion-sent-390x844.png"))
    page.set_viewport_size(SMALL_PHONE)
    _fits(page, SMALL_PHONE["width"])

    expect(replies).to_contain_text("Người member2: Cử người dự thay — Phó trưởng ban Trần Văn Dự")
    expect(replies).to_contain_text("Phó trưởng ban Trần Văn Dự: dự thay Người member2")
    expect(secretary.locator("#expected-quorum")).to_have_text("Dự kiến chưa đủ")
    expect(replies.locator("section.opinions")).to_contain_text("Không đồng ý: 1")
    expect(replies.locator("section.opinions")).to_contain_text("Người member2: Đề nghị bổ sung thuyết minh nguồn thu")
    replies.locator("section.opinions").scroll_into_view_if_needed()
    secretary.screenshot(path=str(SHOTS / "chair-replies-opinions-1280x800.png"))


def test_the_secretary_asks_for_opinions_from_the_console(browser: Browser, live_server: LiveServer) -> None:
    world = live_server.world
    with world.store.read() as session:
        starts = session.get_one(t.Meeting, world.meeting_id).starts_at
    deadline = (starts - timedelta(hours=3)).astimezone(ZoneInfo("Asia/Ho_Chi_Minh")).strftime("%Y-%m-%dT%H:%M")
    secretary = live_server.page(browser, "secretary", f"/chair/{world.meeting_id}")
    form = secretary.locator("#ask-opinion")
    form.get_by_label("Nội dung xin ý kiến").fill("Dự thảo quy chế làm việc")
    form.get_by_label("Mục chương trình").select_option(label="1. Khai mạc")
    form.get_by_label("Hạn góp ý").fill(deadline)
    expect(form.locator(".read-back")).to_contain_text(f"/{deadline[5:7]}/{deadline[:4]} lúc {deadline[11:]}")
    form.scroll_into_view_if_needed()
    secretary.screenshot(path=str(SHOTS / "chair-ask-opinion-1280x800.png"))
    form.get_by_role("button", name="Xin ý kiến").click()
    asked = secretary.locator("#replies section.opinions")
    expect(asked).to_contain_text("Ý kiến: Dự thảo quy chế làm việc")
    expect(asked).to_contain_text("0/4 đã góp ý")
    expect(asked).to_contain_text("Đồng ý: 0")
    expect(form.get_by_label("Nội dung xin ý kiến")).to_have_value("")  # ready for the next one

    member = live_server.page(browser, "member1", f"/member/{world.meeting_id}")
    expect(member.locator("#opinions")).to_contain_text("Dự thảo quy chế làm việc")
    expect(member.locator("#opinions")).to_contain_text("Mục 1. Khai mạc")
