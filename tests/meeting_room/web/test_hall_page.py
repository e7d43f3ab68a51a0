"""The hall's big screen in a real browser at 1920×1080: opened from the display link the chair
creates on the console, it follows a speaking turn with its countdown and a whole vote (ballots
cast, then the published result with bars), never scrolls sideways, and goes dark when revoked."""

from __future__ import annotations

import json
import re
import threading
import time

import httpx2 as httpx
import uvicorn
from playwright.sync_api import Browser, Page, ViewportSize, WebSocketRoute, expect

from meeting_room import events as ev
from meeting_room.api import create_app
from meeting_room.attendance import AttendanceStatus
from meeting_room.lifecycle import MeetingState
from meeting_room.services import attendance, invitations, meetings, transcripts
from meeting_room.settings import Settings
from speech.transcript import Segment
from tests.conftest import PASSWORD, World
from tests.meeting_room.web.conftest import SHOTS, LiveServer, _free_port, shot

HALL: ViewportSize = {"width": 1920, "height": 1080}


def _no_sideways_scroll(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= HALL["width"]


def _nothing_cut_off(page: Page) -> None:
    """No card of the screen hides part of its content (nothing on a projector scrolls)."""
    cut = page.evaluate("[...document.querySelectorAll('.hall-card')].filter((c) => c.scrollHeight > c.clientHeight + 1).map((c) => c.id)")
    assert cut == [], f"cut off: {cut}"


def _api(live_server: LiveServer, who: str) -> httpx.Client:
    with httpx.Client(base_url=live_server.base, timeout=30) as c:
        token = c.post("/api/auth/login", json={"username": who, "password": PASSWORD}).json()["token"]
    return httpx.Client(base_url=live_server.base, timeout=30, headers={"Authorization": f"Bearer {token}"})


def _on_a_phone(page: Page, name: str, floor_text: str) -> None:
    """A page's floor panel (the member's, the chair's) at 360 px: its English line there, nothing wider than the screen."""
    size = page.viewport_size
    page.set_viewport_size({"width": 360, "height": 640})
    try:
        expect(page.locator("#floor")).to_contain_text(floor_text)
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        shot(page, name)  # the top: the floor bar
        page.locator("#floor").screenshot(path=str(SHOTS / f"{name}-floor.png"))
    finally:
        if size is not None:
            page.set_viewport_size(size)


def test_the_hall_follows_a_speaking_turn_and_a_whole_vote(browser: Browser, live_server: LiveServer) -> None:
    world = live_server.world
    mid = world.meeting_id
    chair = live_server.page(browser, "chair", f"/chair/{mid}", touch=True)

    # the chair creates the display link on the console; the hall's PC opens it, with no account
    chair.locator("#hall-link-create").tap()
    url = chair.locator("#hall-link-list .hall-link-url").input_value()
    assert re.fullmatch(rf"http://127\.0\.0\.1:\d+/hall/{mid}#[\w-]{{40,}}", url), url
    context = browser.new_context(viewport=HALL, locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh")
    hall = context.new_page()
    hall.on("pageerror", lambda exc: live_server.errors.append(f"hall: {exc}"))
    hall.goto(url)
    expect(hall.locator("#hall-title")).to_have_text("Phiên họp thường kỳ tháng 11")
    expect(hall.locator("#hall-state")).to_have_text("Đã lên lịch")
    expect(hall.locator("#hall-present")).to_have_text("0/4")

    # chair taps reach the hall: the session starts, everyone is present in one tap
    chair.get_by_role("button", name="Mở phòng họp").tap()
    chair.get_by_role("button", name="Bắt đầu phiên họp").tap()
    chair.locator("button[data-to=in_session]").filter(has_text="chạm lần nữa").tap()  # nobody present yet: a second tap
    expect(hall.locator("#hall-state")).to_have_text("Đang họp")
    chair.locator("#all-present").tap()
    expect(hall.locator("#hall-present")).to_have_text("4/4")
    expect(hall.locator("#hall-quorum-state")).to_contain_text("Đủ số lượng")
    chair.locator("#next-item").tap()
    expect(hall.locator("#hall-item")).to_have_text("Nội dung: 1. Khai mạc")

    # a speaking turn: two minutes a turn, a member asks (the chair sees it at a glance), gets the floor
    chair.locator("#limit-meeting").select_option("120")
    expect(chair.locator("#limit-meeting")).to_have_value("120")
    member = live_server.page(browser, "member1", f"/member/{mid}")
    with _api(live_server, "member1") as m1, _api(live_server, "chair") as ch:
        assert m1.post(f"/api/meetings/{mid}/floor/requests").status_code == 201
        expect(chair.locator("#speaking-waiting")).to_have_text("1 người xin phát biểu 1 asked to speak")
        _on_a_phone(member, "hall-member-waiting-360x640", "Bạn đang chờ phát biểu (thứ tự 1). You are waiting to speak")
        expect(hall.locator("#hall-waiting")).to_have_text("1 người đăng ký phát biểu")
        assert ch.put(f"/api/meetings/{mid}/floor/speaker", json={"member_id": world.ids["member1"]}).status_code == 200
    expect(hall.locator("#hall-speaker-name")).to_have_text("Người member1")
    expect(hall.locator("#hall-timer")).to_have_text(re.compile(r"^0[12]:\d\d$"))
    first = hall.locator("#hall-timer").text_content()
    expect(hall.locator("#hall-timer")).not_to_have_text(first or "")  # it counts down
    expect(chair.locator("#speaking-timer")).to_have_text(re.compile(r"^còn 0[12]:\d\d$"))
    expect(member.locator("#speaking-now")).to_contain_text("Bạn đang phát biểu You have the floor")
    expect(chair.locator("#speaking-now")).to_contain_text("Đang phát biểu Speaking: Người member1")
    expect(member.locator("#speaking-timer")).to_have_text(re.compile(r"^còn 0[12]:\d\d$"))
    _on_a_phone(member, "hall-member-speaking-360x640", "Chủ tọa đã mời bạn phát biểu. The chair has given you the floor.")
    # their words, in large type, as the live transcription writes them
    pass_id = transcripts.new_pass(world.store, mid, "live", "whisper-base")
    spec = ev.SpeakerSpec(cluster="ch1", name="Người member1", member_id=world.ids["member1"], source="channel")
    transcripts.add_speakers(world.store, mid, pass_id, [spec])
    transcripts.add_segment(world.store, mid, pass_id, Segment(2.0, 5.0, "Tôi đề nghị tăng chi cho giáo dục vùng cao."), "ch1")
    transcripts.add_segment(world.store, mid, pass_id, Segment(5.5, 9.0, "Nhất là trường học ở các xã biên giới."), "ch1")
    expect(hall.locator("#hall-captions")).to_contain_text("Người member1: Nhất là trường học ở các xã biên giới.")
    expect(hall.locator("#hall-captions")).to_contain_text("Tôi đề nghị tăng chi cho giáo dục vùng cao.")
    _no_sideways_scroll(hall)
    shot(hall, "hall-speaking")
    shot(member, "hall-member-speaking")
    shot(chair, "hall-chair-console")
    SHOTS.mkdir(parents=True, exist_ok=True)
    chair.locator("#hall-links").screenshot(path=str(SHOTS / "hall-chair-links.png"))
    # the chair's speaker card on a phone: who speaks and who waits, both languages, no sideways scroll
    with _api(live_server, "member2") as m2, _api(live_server, "chair") as ch:
        assert m2.post(f"/api/meetings/{mid}/floor/requests").status_code == 201
        expect(chair.locator("#floor-queue")).to_contain_text("1. Người member2")
        _on_a_phone(chair, "hall-chair-floor-360x640", "Đang phát biểu Speaking: Người member1")
        expect(chair.locator("#floor-queue")).to_contain_text("Mời phát biểuGive the floor")
        assert ch.delete(f"/api/meetings/{mid}/floor/requests/{world.ids['member2']}").status_code == 200
        expect(chair.locator("#floor-queue")).to_have_count(0)

    # a whole vote: open -> ballots cast (never what) -> closed, awaiting publication -> the result with bars
    chair.locator("#next-item").tap()
    expect(hall.locator("#hall-item")).to_have_text("Nội dung: 2. Biểu quyết dự toán ngân sách")
    with _api(live_server, "chair") as ch:
        motion = {"title": "Thông qua dự toán ngân sách 2027", "rule": {"preset": "majority_present"}}
        poll = ch.post(f"/api/meetings/{mid}/polls", json=motion).json()
        assert ch.post(f"/api/meetings/{mid}/polls/{poll['id']}/open", json={"duration_s": 600}).status_code == 200
        expect(hall.locator("#hall-cast")).to_have_text("0/4")
        expect(hall.locator("#hall-vote-timer")).to_have_text(re.compile(r"^(10:00|09:\d\d)$"))
        for who, choice in (("member1", "yes"), ("member2", "yes"), ("secretary", "no")):
            with _api(live_server, who) as voter:
                assert voter.post(f"/api/meetings/{mid}/polls/{poll['id']}/ballots", json={"options": [choice]}).status_code == 201
        expect(hall.locator("#hall-cast")).to_have_text("3/4")
        assert "Tán thành" not in (hall.locator("#hall-vote").text_content() or "").split("Cách tính")[0].replace(poll["title"], "")
        _no_sideways_scroll(hall)
        shot(hall, "hall-vote-open")
        assert ch.post(f"/api/meetings/{mid}/polls/{poll['id']}/ballots", json={"options": ["yes"]}).status_code == 201
        expect(hall.locator("#hall-cast")).to_have_text("4/4")
        assert ch.post(f"/api/meetings/{mid}/polls/{poll['id']}/close").status_code == 200
        expect(hall.locator("#hall-awaiting")).to_be_visible()
        expect(hall.locator("#hall-bars")).to_have_count(0)  # no count until the chair publishes
        assert ch.post(f"/api/meetings/{mid}/polls/{poll['id']}/publish").status_code == 200
    expect(hall.locator("#hall-outcome")).to_have_text("Thông qua")
    expect(hall.locator("#hall-bars li")).to_have_count(3)
    expect(hall.locator("#hall-bars li").first).to_contain_text("Tán thành")
    expect(hall.locator("#hall-bars li").first).to_contain_text("3 · ")
    expect(hall.locator("#hall-reason")).to_contain_text("Thông qua: tán thành 3/4")  # the rule's figures, in the reason
    expect(hall.locator("#hall-vote")).not_to_have_class(re.compile(r"\bdense\b"))  # the result in the large type
    widths = hall.locator("#hall-bars .hall-meter > span").evaluate_all("bars => bars.map(b => b.getBoundingClientRect().width)")
    assert widths[0] > widths[1] > 0 and widths[2] == 0  # bars as long as the votes
    _no_sideways_scroll(hall)
    _nothing_cut_off(hall)
    shot(hall, "hall-vote-result")

    # on paper: the chair console prints the result and the whole attendance list, without its controls
    chair.emulate_media(media="print")
    expect(chair.locator("header.bar")).to_be_hidden()
    expect(chair.locator("#hall-links")).to_be_hidden()
    expect(chair.locator("#attendance li", has_text="Người member2")).to_be_visible()  # the list, though folded on screen
    expect(chair.locator("#votes")).to_contain_text("Thông qua")
    chair.screenshot(path=str(SHOTS / "hall-print-chair.png"), full_page=True)
    chair.emulate_media(media="screen")

    # an excused absence, with its reason, from the console's quick attendance: the hall's count follows
    chair.locator("#excused-who").select_option(label="Người member2")
    chair.locator("#excused-reason").fill("Đi công tác")
    chair.locator("#excused-form").get_by_role("button", name="Ghi vắng có lý do").tap()
    expect(hall.locator("#hall-present")).to_have_text("3/4")
    expect(chair.locator("#attendance li", has_text="Người member2")).to_contain_text("Vắng có lý do")

    # the chair revokes the link: the screen goes dark within a second or so, and stays so
    revoke = chair.locator("#hall-link-list").get_by_role("button", name="Thu hồi")
    revoke.tap()
    # attendance changes between the two taps (it redraws the card): the first tap's arming holds (a CI run lost it)
    attendance.record(world.store, world.actor("chair"), world.meeting_id, world.ids["member2"], AttendanceStatus.PRESENT_IN_ROOM)
    expect(hall.locator("#hall-present")).to_have_text("4/4")
    chair.locator("#hall-link-list").get_by_role("button", name="Chạm lần nữa để thu hồi").tap()
    expect(hall.locator("#hall-gone")).to_contain_text("không còn hiển thị")
    shot(hall, "hall-revoked")
    context.close()


def _serve(settings: Settings, world: World, port: int) -> tuple[uvicorn.Server, threading.Thread]:
    app = create_app(settings, world.store)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the test server did not start"
        time.sleep(0.05)
    return server, thread


def test_the_hall_comes_back_by_itself_after_the_server_restarts(browser: Browser, settings: Settings, world: World) -> None:
    port = _free_port()
    server, thread = _serve(settings, world, port)
    link = invitations.create_display(world.store, world.actor("secretary"), world.meeting_id, hours=2)
    context = browser.new_context(viewport=HALL, locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh")
    hall = context.new_page()
    errors: list[str] = []
    hall.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        hall.goto(f"http://127.0.0.1:{port}/hall/{world.meeting_id}#{link.token}")
        expect(hall.locator("#hall-state")).to_have_text("Đã lên lịch")
        server.should_exit = True  # the server goes away (an update, a power cut) ...
        thread.join(timeout=30)
        expect(hall.locator("#hall-connection")).to_contain_text("đang kết nối lại")
        meetings.transition(world.store, world.actor("chair"), world.meeting_id, MeetingState.OPEN)  # ... the meeting moves on meanwhile
        server, thread = _serve(settings, world, port)  # ... and comes back
        expect(hall.locator("#hall-state")).to_have_text("Đã mở phòng họp", timeout=30_000)
        expect(hall.locator("#hall-connection")).to_be_hidden()
    finally:
        context.close()
        server.should_exit = True
        thread.join(timeout=30)
    assert not errors, errors


def test_an_overtime_fits_and_the_hall_says_when_the_meeting_has_ended(browser: Browser, live_server: LiveServer) -> None:
    world = live_server.world
    mid, chair = world.meeting_id, world.actor("chair")
    for state in (MeetingState.OPEN, MeetingState.IN_SESSION):
        meetings.transition(world.store, chair, mid, state)
    token = invitations.create_display(world.store, chair, mid, 2).token
    context = browser.new_context(viewport=HALL, locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh")
    hall = context.new_page()
    hall.goto(f"{live_server.base}/hall/{mid}#{token}")
    expect(hall.locator("#hall-state")).to_have_text("Đang họp")
    assert token not in hall.url  # the token left the address bar at once

    # a long name that has run over its time: one line for the overtime, nothing cut off
    with _api(live_server, "chair") as ch:
        assert ch.put(f"/api/meetings/{mid}/floor/limit", json={"seconds": 10}).status_code == 200
        assert ch.put(f"/api/meetings/{mid}/floor/speaker", json={"member_id": world.ids["member1"]}).status_code == 200
    expect(hall.locator("#hall-timer")).to_have_text(re.compile(r"^quá giờ 00:0\d$"), timeout=30_000)
    box = hall.locator("#hall-timer").bounding_box()
    assert box is not None and box["height"] < 110  # one line
    _nothing_cut_off(hall)
    shot(hall, "hall-overtime")

    meetings.transition(world.store, chair, mid, MeetingState.CLOSED)
    expect(hall.locator("#hall-gone")).to_contain_text("Phiên họp thường kỳ tháng 11")
    expect(hall.locator("#hall-gone")).to_contain_text("The meeting has ended.")
    shot(hall, "hall-ended")
    context.close()


def test_the_hall_says_the_meeting_ended_when_its_link_ends_before_the_last_view_arrives(browser: Browser, live_server: LiveServer) -> None:
    """Closing the meeting ends the display's link; under load the link's end can reach the screen
    before the meeting's closed view does (seen in CI). The view is held back here to make that
    order certain: the screen still shows the meeting's end, not that its link went away."""
    world = live_server.world
    mid, chair = world.meeting_id, world.actor("chair")
    for state in (MeetingState.OPEN, MeetingState.IN_SESSION):
        meetings.transition(world.store, chair, mid, state)
    token = invitations.create_display(world.store, chair, mid, 2).token
    held: list[str] = []

    def route(ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()

        def from_server(message: str | bytes) -> None:
            msg = json.loads(message)
            if msg["kind"] == "hall" and msg["hall"]["state"] != "in_session":
                held.append(msg["hall"]["state"])  # the view that says the meeting ended: never delivered
            else:
                ws.send(message)

        server.on_message(from_server)

    context = browser.new_context(viewport=HALL, locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh")
    hall = context.new_page()
    hall.route_web_socket(re.compile(r"/hall/stream"), route)
    hall.goto(f"{live_server.base}/hall/{mid}#{token}")
    expect(hall.locator("#hall-state")).to_have_text("Đang họp")
    meetings.transition(world.store, chair, mid, MeetingState.CLOSED)
    expect(hall.locator("#hall-gone")).to_contain_text("Phiên họp thường kỳ tháng 11")
    expect(hall.locator("#hall-gone")).to_contain_text("Cuộc họp đã kết thúc")
    expect(hall.locator("#hall-gone")).to_contain_text("The meeting has ended.")
    # the page learnt it from the reason its link ended: the closed view, if the stream sent it before
    # the link's end stopped it, never reached the page
    assert held in ([], ["closed"]), held
    shot(hall, "hall-ended-by-its-link")
    context.close()
