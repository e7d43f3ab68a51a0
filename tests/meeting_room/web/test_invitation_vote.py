"""A member who followed an invitation link is asked to log in with their own account to vote: the
link passed through the hands of whoever made it (an attacker's probe: the chair voted as a member)."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, expect

from meeting_room.services import invitations, polls
from tests.conftest import PASSWORD
from tests.meeting_room.web.conftest import SHOTS, LiveServer
from tests.meeting_room.web.test_meeting_screens import SMALL_PHONE, _in_session


def test_a_link_follows_the_vote_and_the_members_own_login_casts_it(browser: Browser, live_server: LiveServer) -> None:
    world = live_server.world
    _in_session(world)
    chair = world.actor("chair")
    poll = polls.create_poll(world.store, chair, world.meeting_id, polls.PollSpec(title="Thông qua chương trình kỳ họp"))
    polls.open_poll(world.store, chair, poll)
    link = invitations.create(world.store, chair, world.meeting_id, world.ids["member2"], hours=4)

    context = browser.new_context(viewport=SMALL_PHONE, locale="vi-VN", base_url=live_server.base, has_touch=True, is_mobile=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.on("pageerror", lambda exc: live_server.errors.append(f"link: {exc}"))
    page.goto(f"/join/{link.token}")
    page.wait_for_url(f"**/member/{world.meeting_id}**")
    card = page.locator(f'#votes section[data-poll="{poll}"]')
    expect(card).to_contain_text("hãy đăng nhập bằng tài khoản của chính bạn")
    expect(card.locator("form.ballot")).to_have_count(0)  # no form the server would refuse
    card.get_by_label("Mật khẩu của tài khoản member2").fill("not the password")
    card.get_by_role("button", name="Đăng nhập để biểu quyết").tap()
    expect(page.locator(".toast.error")).to_contain_text("Sai tên đăng nhập hoặc mật khẩu")
    card.locator("#own-login-" + poll).evaluate("e => e.scrollIntoView({block: 'center'})")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "member-page-invitation-vote-360x640.png"))
    # logged in on the page itself: it is not left (a call on it would hang up and count them as gone)
    page.evaluate("window.stayed = true")
    card.get_by_label("Mật khẩu của tài khoản member2").fill(PASSWORD)
    card.get_by_role("button", name="Đăng nhập để biểu quyết").tap()
    expect(page.locator(".toast.ok")).to_contain_text("Đã đăng nhập bằng tài khoản của bạn")
    expect(page.locator(".toast.error")).to_have_count(0)  # what went wrong was put right
    assert page.evaluate("window.stayed === true"), "the page was left"
    card.get_by_label("Tán thành", exact=True).check()
    card.get_by_role("button", name="Gửi phiếu").tap()
    expect(page.locator("#voted")).to_be_visible()
    expect(page.locator(".toast.ok").last).to_have_text(re.compile(r"^Đã ghi nhận phiếu\s*Ballot recorded"))  # named: no receipt
    expect(page.locator("#voted .receipt-code")).to_have_count(0)
    with world.store.read() as session:
        assert polls.has_voted(session, poll, world.ids["member2"])
    assert not live_server.errors
