"""The chair's console and the member pages in a real browser: a meeting run end to end by taps."""

from __future__ import annotations

import re
import time
from urllib.parse import quote

import httpx2 as httpx
from playwright.sync_api import Browser, Page, expect

from meeting_room import events as ev
from meeting_room.services import transcripts
from speech.transcript import Segment
from tests.conftest import PASSWORD
from tests.meeting_room.web.conftest import LiveServer, arrived_at, shot

VOTERS = ("member1", "member2", "secretary")


def test_a_vote_from_the_chair_console_with_member_pages_voting(browser: Browser, live_server: LiveServer) -> None:
    world = live_server.world
    mid = world.meeting_id
    chair = live_server.page(browser, "chair", f"/chair/{mid}", touch=True)  # the chair only taps: no keyboard
    expect(chair.locator("#meeting-state")).to_have_text("Đã lên lịch")

    # the meeting's lifecycle, one tap each
    chair.get_by_role("button", name="Mở phòng họp").tap()
    expect(chair.locator("#meeting-state")).to_have_text("Đã mở phòng họp")
    chair.get_by_role("button", name="Bắt đầu phiên họp").tap()
    # nobody is marked present yet: the first tap says so, a second starts the session all the same
    start = chair.locator("button[data-to=in_session]")
    expect(start).to_contain_text("Chưa đủ số lượng (có mặt 0/")
    start.tap()
    expect(chair.locator("#meeting-state")).to_have_text("Đang họp")

    # attendance by tap (the list is open on the console); the quorum badge follows live
    for who in ("chair", *VOTERS):
        chair.get_by_role("button", name=f"Người {who} có mặt").tap()
        expect(chair.get_by_role("button", name=f"Người {who} có mặt")).to_have_count(0)
    expect(chair.locator("#present-room")).to_have_text("4")
    expect(chair.locator("#quorum")).to_have_text("Đủ số lượng Quorum")

    # the agenda moves on: item by item with one large button, or straight to any item
    chair.locator("#next-item").tap()
    expect(chair.locator("#agenda li.current")).to_contain_text("Khai mạc")
    expect(chair.locator("#next-item")).to_have_text("Mục tiếp theo ▶ 2. Biểu quyết dự toán ngân sách")
    expect(chair.locator("#agenda li.current button")).to_have_count(0)  # the current item has nothing to take
    chair.locator("#next-item").tap()
    expect(chair.locator("#agenda li.current")).to_contain_text("Biểu quyết dự toán ngân sách")
    expect(chair.locator("#next-item")).to_have_count(0)  # the last item: nothing after it
    chair.locator("#agenda li", has_text="Khai mạc").get_by_role("button", name="Chuyển sang mục này").tap()
    expect(chair.locator("#agenda li.current")).to_contain_text("Khai mạc")
    chair.locator("#agenda li", has_text="Biểu quyết dự toán").get_by_role("button", name="Chuyển sang mục này").tap()
    expect(chair.locator("#agenda li.current")).to_contain_text("Biểu quyết dự toán ngân sách")

    members = {who: live_server.page(browser, who, f"/member/{mid}") for who in VOTERS}
    for page in members.values():
        expect(page.locator("#no-open-poll")).to_be_visible()
        expect(page.locator("#agenda li.current")).to_contain_text("Biểu quyết dự toán ngân sách")
        # marked present in the room: the remote call is not offered as the thing to do
        expect(page.locator("#call-in-room")).to_contain_text("Bạn đã được điểm danh có mặt tại phòng họp")
        expect(page.locator("#call-join")).to_contain_text("Vẫn tham gia trực tuyến")
        expect(page.locator("#call-join")).not_to_have_class("primary big")

    # the chair opens a vote on the item under discussion without typing; every member page shows it
    chair.get_by_label("Quy tắc cho biểu quyết nhanh").select_option("majority_present")
    chair.get_by_role("button", name="Biểu quyết thông qua mục “Biểu quyết dự toán ngân sách”").tap()
    expect(chair.locator("#ballots-cast")).to_have_text("0/4")
    expect(chair.locator("#poll-list h3")).to_have_text("Biểu quyết dự toán ngân sách")  # not prefixed again
    shot(chair, "chair-console-vote-open")

    # the chair's own ballot: a tap arms it, a second tap casts it (a ballot redrawing the votes in between keeps it armed)
    chair.locator('[data-vote="yes"]').tap()
    chair.evaluate("() => window.live.load('polls')")
    chair.get_by_role("button", name="Xác nhận: Tán thành").tap()
    expect(chair.get_by_text("Bạn đã biểu quyết")).to_be_visible()
    expect(chair.locator("#ballots-cast")).to_have_text("1/4")

    choices = {"member1": "Tán thành", "member2": "Tán thành", "secretary": "Không tán thành"}
    reads: list[str] = []  # member1's reads of the votes from its own ballot on
    for who, choice in choices.items():
        page = members[who]
        page.get_by_label(choice, exact=True).check()
        if who == "member1":
            shot(page, "member-page-ballot")
            # others' votes redraw the page: the same form stays, with the choice in it
            page.evaluate("() => { document.querySelector('form.ballot').dataset.kept = 'yes'; return window.live.load('polls'); }")
            expect(page.locator("form.ballot")).to_have_attribute("data-kept", "yes")
            expect(page.get_by_label(choice, exact=True)).to_be_checked()
        if who == "member1":
            page.on("request", lambda r: reads.append(r.url) if r.url.endswith("/polls") else None)
        page.get_by_role("button", name="Gửi phiếu").click()
        expect(page.locator("#voted")).to_contain_text("Bạn đã biểu quyết")
        if who == "member1":  # its own ballot is read back twice: after the tap, and for its event
            expect(page.locator(".poll[data-state=open]")).to_contain_text("2/4 đã biểu quyết")
            deadline = time.monotonic() + 20
            while len(reads) < 2 and time.monotonic() < deadline:
                page.wait_for_timeout(50)
            assert len(reads) == 2, reads
    expect(chair.locator("#ballots-cast")).to_have_text("4/4")  # the live tally, pushed over the WebSocket
    # an open member page counts the others' ballots from the stream, without re-reading the votes each time
    expect(members["member1"].locator(".poll[data-state=open]")).to_contain_text("4/4 đã biểu quyết")
    assert len(reads) == 2, reads  # the others' two ballots: none
    expect(chair.locator('#tally [data-option="yes"]')).to_have_text("3")
    expect(chair.locator('#tally [data-option="no"]')).to_have_text("1")

    chair.get_by_role("button", name="Kết thúc biểu quyết").tap()
    chair.get_by_role("button", name="Chạm lần nữa để kết thúc biểu quyết").tap()  # ending a vote takes two taps
    expect(chair.locator(".result")).to_contain_text("Thông qua")
    shot(chair, "chair-console-result")
    chair.get_by_role("button", name="Công bố kết quả").tap()
    for page in members.values():
        expect(page.locator(".result.passed").last).to_contain_text("Kết quả: Thông qua")
    # the published results stay as the chair folded them when the votes are redrawn
    published = chair.locator("#published-polls")
    expect(published).to_have_attribute("open", "")
    published.locator(":scope > summary").tap()  # (each named vote inside has its own list to open)
    expect(published).not_to_have_attribute("open", "")
    chair.evaluate("() => window.live.load('polls')")
    expect(chair.locator("#published-polls")).not_to_have_attribute("open", "")
    shot(members["member1"], "member-page-result")

    # asking to speak, and the chair giving the floor
    m1 = members["member1"]
    m1.get_by_role("button", name="Xin phát biểu").click()
    expect(m1.get_by_role("button", name="Rút đăng ký")).to_be_visible()
    expect(chair.locator("#floor-queue")).to_contain_text("Người member1")
    chair.get_by_role("button", name="Mời Người member1 phát biểu").tap()
    expect(m1.get_by_text("Chủ tọa đã mời bạn phát biểu.")).to_be_visible()

    # live captions with the speaker's name, as the transcription pipeline writes them
    pass_id = transcripts.new_pass(world.store, mid, "live", "whisper-base")
    spec = ev.SpeakerSpec(cluster="ch1", name="Người member1", member_id=world.ids["member1"], source="channel")
    transcripts.add_speakers(world.store, mid, pass_id, [spec])
    transcripts.add_segment(world.store, mid, pass_id, Segment(2.0, 5.0, "Tôi đề nghị tăng chi cho giáo dục vùng cao."), "ch1")
    for page in (chair, m1):
        expect(page.locator("#captions")).to_contain_text("Người member1: Tôi đề nghị tăng chi cho giáo dục vùng cao.")
    shot(m1, "member-page-speaking")
    shot(chair, "chair-console-captions")

    # a dropped connection resumes after the last event it saw: nothing is missed
    m2 = members["member2"]
    m2.evaluate("live.stream.ws.close()")
    expect(m2.locator("#connection")).to_have_class(re.compile("down"))
    transcripts.add_segment(world.store, mid, pass_id, Segment(6.0, 8.0, "Xin cảm ơn chủ tọa."), "ch1")
    expect(m2.locator("#connection")).to_have_text("● Cập nhật trực tiếp / Live")
    expect(m2.locator("#captions")).to_contain_text("Xin cảm ơn chủ tọa.")
    transcripts.end_pass(world.store, mid, pass_id, "completed", audio_s=9.0)

    # closing needs a second tap
    close = chair.get_by_role("button", name="Bế mạc cuộc họp")
    close.click()
    expect(chair.locator("#meeting-state")).to_have_text("Đang họp")
    chair.evaluate("() => window.live.load('meeting')")  # an event in between keeps the first tap
    # the second tap says what it ends, in both languages
    chair.get_by_role("button", name="Chạm lần nữa để bế mạc cuộc họp / Tap again: close the meeting").tap()
    expect(chair.locator("#meeting-state")).to_have_text("Đã bế mạc")
    expect(m1.locator("#meeting-state")).to_have_text("Đã bế mạc")


def test_errors_from_the_api_are_shown_in_both_languages(browser: Browser, live_server: LiveServer) -> None:
    mid = live_server.world.meeting_id
    page = live_server.page(browser)
    page.goto("/")
    page.get_by_label("Tên đăng nhập").fill("chair")
    page.get_by_label("Mật khẩu").fill("sai-mat-khau")
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.locator("#result")).to_contain_text("Sai tên đăng nhập hoặc mật khẩu")
    shot(page, "login-error")

    page.goto(f"/member/{mid}")  # no session: back to the login page, then on to where they were going
    page.wait_for_url(re.compile(r"/\?next="))
    page.get_by_label("Tên đăng nhập").fill("member1")
    page.get_by_label("Mật khẩu").fill("mat-khau-thu-nghiem")
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(arrived_at(f"/member/{mid}"))
    expect(page.locator("#ask-floor")).to_be_disabled()  # not in session yet: nothing to tap

    # the tablet loses the network: the tap says so plainly, in both languages
    with httpx.Client(base_url=live_server.base, timeout=30) as c:
        token = c.post("/api/auth/login", json={"username": "chair", "password": PASSWORD}).json()["token"]
        for to in ("open", "in_session"):
            c.post(f"/api/meetings/{mid}/transitions", json={"to": to}, headers={"Authorization": f"Bearer {token}"})
    expect(page.locator("#ask-floor")).to_be_enabled()
    page.context.set_offline(True)
    page.locator("#ask-floor").click()
    expect(page.locator(".toast.error")).to_contain_text("Không kết nối được máy chủ")
    expect(page.locator(".toast.error .en")).to_contain_text("Cannot reach the server")
    page.context.set_offline(False)
    page.locator("#ask-floor").click()  # the button came back enabled: the tap can simply be repeated
    expect(page.get_by_role("button", name="Rút đăng ký")).to_be_visible()


def _tab_to(page: Page, selector: str, presses: int = 40) -> None:
    """Press Tab until the element matching ``selector`` has the focus (keyboard only, no mouse)."""
    for _ in range(presses):
        page.keyboard.press("Tab")
        if page.evaluate(f"document.activeElement && document.activeElement.matches({selector!r})"):
            return
    raise AssertionError(f"{selector} cannot be reached with Tab")


def test_the_login_page_goes_on_to_this_server_only(browser: Browser, live_server: LiveServer) -> None:
    """An attacker's lure: a link to the real login page whose ``next`` the browser would read as
    another host (a look-alike page asking for the password again). Each lands on the meetings."""
    mid = live_server.world.meeting_id
    page = live_server.page(browser, "member1", "/meetings")  # logged in: the login page goes on at once
    for hostile in (
        "//evil.example/x",
        "/\\evil.example/x",
        "/\t/evil.example/x",
        "/\n/evil.example",
        "https://evil.example/",
        "javascript:alert(1)",
        "/.//evil.example/x",
        "/%2e%2e//evil.example",
        "/a/..//evil.example",
    ):
        page.goto(f"/?next={quote(hostile, safe='')}")
        page.wait_for_url(f"{live_server.base}/meetings")
    page.goto(f"/?next={quote(f'/member/{mid}?a=1#votes', safe='')}")  # where they were going, on this server
    page.wait_for_url(f"{live_server.base}/member/{mid}?a=1#votes")


def test_the_member_page_works_with_the_keyboard_alone(browser: Browser, live_server: LiveServer) -> None:
    world = live_server.world
    with httpx.Client(base_url=live_server.base, timeout=30) as c:
        token = c.post("/api/auth/login", json={"username": "chair", "password": PASSWORD}).json()["token"]
        c.headers["Authorization"] = f"Bearer {token}"
        for to in ("open", "in_session"):
            assert c.post(f"/api/meetings/{world.meeting_id}/transitions", json={"to": to}).status_code == 200
        body = {
            "title": "Lấy ý kiến về giờ họp",
            "kind": "single_choice",
            "options": ["Buổi sáng", "Buổi chiều"],
            "eligibility": "all_members",
        }
        poll = c.post(f"/api/meetings/{world.meeting_id}/polls", json=body).json()
        assert c.post(f"/api/meetings/{world.meeting_id}/polls/{poll['id']}/open", json={}).status_code == 200

    page = live_server.page(browser, "member1", f"/member/{world.meeting_id}")
    expect(page.get_by_label("Buổi chiều")).to_be_visible()
    _tab_to(page, "input[type=radio]")
    page.keyboard.press("ArrowDown")  # radio groups move with the arrow keys
    expect(page.get_by_label("Buổi chiều")).to_be_checked()
    _tab_to(page, "form.ballot button[type=submit]")
    page.keyboard.press("Enter")
    expect(page.locator("#voted")).to_contain_text("Bạn đã biểu quyết")
    _tab_to(page, "#ask-floor")
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Rút đăng ký")).to_be_visible()
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # the focused control is visibly marked
    shot(page, "member-page-keyboard")


def test_a_lost_room_device_is_announced_on_the_chair_console(browser: Browser, live_server: LiveServer) -> None:
    from meeting_room import events as ev

    world = live_server.world
    mid = world.meeting_id
    chair = live_server.page(browser, "chair", f"/chair/{mid}")
    expect(chair.locator("#meeting-state")).to_have_text("Đã lên lịch")
    # what the room runner appends when a camera's stream stops, and when it is back
    world.store.append(ev.RoomDeviceChanged(meeting_id=mid, device="Toàn cảnh", kind="camera", state="lost", detail="connection refused"))
    banner = chair.locator("#devices .device-lost")
    expect(banner).to_contain_text("Camera “Toàn cảnh” mất kết nối")
    expect(banner).to_contain_text("reconnecting")
    shot(chair, "chair-console-device-lost")
    world.store.append(ev.RoomDeviceChanged(meeting_id=mid, device="Toàn cảnh", kind="camera", state="connected"))
    expect(banner).to_have_count(0)


def test_a_face_mismatch_on_a_remote_call_is_a_warning_on_the_chair_console(browser: Browser, live_server: LiveServer) -> None:
    from meeting_room.attendance import FaceCheck
    from meeting_room.lifecycle import MeetingState
    from meeting_room.services import attendance, meetings
    from meeting_room.services.face_attendance import record_online_face_check

    world = live_server.world
    mid, ids = world.meeting_id, world.ids
    meetings.transition(world.store, world.actor("chair"), mid, MeetingState.OPEN)
    chair = live_server.page(browser, "chair", f"/chair/{mid}")
    expect(chair.locator("#meeting-state")).to_have_text("Đã mở phòng họp")
    for who in ("member1", "member2"):
        attendance.record_online(world.store, mid, ids[who], True)
    # what the server's check of their own cameras records: member1's account shows member2's face
    record_online_face_check(world.store, mid, ids["member1"], FaceCheck.MISMATCH, distance=0.74, looks_like=ids["member2"])
    record_online_face_check(world.store, mid, ids["member2"], FaceCheck.CONFIRMED, confidence=0.62)
    warning = chair.locator("#attendance .face-mismatch")
    expect(warning).to_contain_text("camera của Người member1 (trực tuyến) không khớp")
    expect(warning).to_contain_text("giống Người member2")
    expect(chair.locator(f'#attendance li[data-member="{ids["member2"]}"]')).to_contain_text("Đã xác nhận khuôn mặt")
    # still online: a warning, no check-in and no check-out
    expect(chair.locator(f'#attendance li[data-member="{ids["member1"]}"]')).to_contain_text("Trực tuyến")
    shot(chair, "chair-console-face-mismatch")
