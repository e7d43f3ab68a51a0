"""A member who followed an invitation link is asked to log in with their own account to vote: the
link passed through the hands of whoever made it (an attacker's probe: the chair voted as a member).
When the meeting closes, the link's session ends with it, and the login page says that the meeting
ended, not only that a session did."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, BrowserContext, Page, WebSocketRoute, expect

from meeting_room.lifecycle import MeetingState
from meeting_room.services import invitations, meetings, polls
from tests.conftest import PASSWORD
from tests.meeting_room.web.conftest import SHOTS, LiveServer, shot
from tests.meeting_room.web.test_meeting_screens import SMALL_PHONE, _in_session


def test_a_link_follows_the_vote_and_the_members_own_login_casts_it(browser: Browser, live_server: LiveServer) -> None:
    world = live_server.world
    _in_session(world)
    chair = world.actor("chair")
    poll = polls.create_poll(world.store, chair, world.meeting_id, polls.PollSpec(title="Thông qua chương trình kỳ họp"))
    polls.open_poll(world.store, chair, poll)
    link = invitations.create(world.store, chair, world.meeting_id, world.ids["member2"], hours=4)

    page = _on_link(_phone(browser, live_server).new_page(), live_server, link.token, impatient=True)
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


def _phone(browser: Browser, live_server: LiveServer) -> BrowserContext:
    context = browser.new_context(viewport=SMALL_PHONE, locale="vi-VN", base_url=live_server.base, has_touch=True, is_mobile=True)
    context.set_default_timeout(15_000)
    return context


def _on_link(page: Page, live_server: LiveServer, token: str, *, impatient: bool = False) -> Page:
    page.on("pageerror", lambda exc: live_server.errors.append(f"link: {exc}"))
    page.goto(f"/join/{token}")
    expect(page.locator("#join")).to_be_visible()
    shot(page, "join-link-phone")
    # the link's page, then its one button (a preview fetching the link spends nothing)
    if impatient:  # a second tap before the answer: sent once (else the first spends the link and its cookie is dropped)
        posts: list[str] = []
        page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
        page.locator("#join").dblclick()
    else:
        page.locator("#join").tap()
    page.wait_for_url(f"**/member/{live_server.world.meeting_id}**")
    if impatient:
        assert len(posts) == 1, posts
        # one tab, its meeting (the list of meetings refuses a link), and the header says it came by a link
        expect(page.locator("nav.tabs a")).to_have_count(1)
        expect(page.locator("nav.tabs a")).to_have_attribute("href", f"/member/{live_server.world.meeting_id}")
        expect(page.locator("header .who")).to_contain_text("qua liên kết mời")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), "the page scrolls sideways"
        shot(page, "member-by-link-phone")
    return page


def test_a_member_on_a_link_is_told_that_the_meeting_ended(browser: Browser, live_server: LiveServer) -> None:
    """Both ways a page learns it: its live stream closing (with the meeting's own code), and an
    HTTP answer (a page whose stream is held away from the server, as on a network that drops it)."""
    world = live_server.world
    _in_session(world)
    chair = world.actor("chair")
    following = invitations.create(world.store, chair, world.meeting_id, world.ids["member2"], hours=4)
    offline = invitations.create(world.store, chair, world.meeting_id, world.ids["member1"], hours=4)
    page = _on_link(_phone(browser, live_server).new_page(), live_server, following.token)
    expect(page.locator("#connection")).to_contain_text("Cập nhật trực tiếp")
    held = _phone(browser, live_server).new_page()

    def hold(ws: WebSocketRoute) -> None:  # never reaches the server: no close code can tell this page
        pass

    held.route_web_socket(re.compile(r".*/stream.*"), hold)
    _on_link(held, live_server, offline.token)
    expect(held.locator("header .who")).to_contain_text("member1")

    meetings.transition(world.store, chair, world.meeting_id, MeetingState.CLOSED)
    page.wait_for_url("**/?next=*ended=meeting", timeout=20_000)
    expect(page.locator("#why")).to_contain_text("Cuộc họp đã kết thúc nên liên kết mời không còn hiệu lực")
    expect(page.locator("#why")).to_contain_text("The meeting has ended")
    shot(page, "login-after-meeting-ended")

    held.evaluate(f"import('/static/app.js').then((app) => app.api('GET', '/api/meetings/{world.meeting_id}')).catch(() => null)")
    held.wait_for_url("**/?next=*ended=meeting", timeout=20_000)
    expect(held.locator("#why")).to_contain_text("Cuộc họp đã kết thúc")
    assert not live_server.errors, live_server.errors
