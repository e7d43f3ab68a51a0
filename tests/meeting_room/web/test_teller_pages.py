"""Teller keys and a locked secret ballot box, by tap in a real browser."""

from __future__ import annotations

from playwright.sync_api import Browser, expect

from meeting_room.attendance import AttendanceStatus
from meeting_room.db import tables as t
from meeting_room.lifecycle import MeetingState
from meeting_room.services import attendance, meetings, polls
from tests.conftest import TELLER_PASSPHRASE
from tests.meeting_room.web.conftest import LiveServer, shot, type_in
from voting import Secrecy

NEW_PASSPHRASE = "hai khoa cho mot hom phieu"


def test_tellers_make_keys_and_unlock_a_ballot_box_after_a_restart(browser: Browser, live_server: LiveServer) -> None:
    world = live_server.world
    store = world.store
    with store.read() as session, session.begin():
        session.delete(session.get_one(t.TellerKey, world.ids["secretary"]))

    # the secretary makes a teller key on the meetings page
    secretary = live_server.page(browser, "secretary", "/meetings")
    expect(secretary.locator("#teller-status")).to_have_text("Bạn chưa có khóa kiểm phiếu. You have no teller key yet.")
    secretary.locator("#teller-new").fill(NEW_PASSPHRASE)
    secretary.locator("#teller-again").fill("mot cau khac han nhe")
    secretary.locator("#teller-save").click()
    expect(secretary.locator(".toast.error")).to_contain_text("không khớp")
    secretary.locator("#teller-again").fill(NEW_PASSPHRASE)
    secretary.locator("#teller-save").click()
    expect(secretary.locator("#teller-status")).to_contain_text("Bạn đã có khóa")
    shot(secretary, "meetings-teller-key")

    # a secret vote is open with a ballot in it when the server restarts (its memory is gone)
    chair_actor = world.actor("chair")
    meetings.transition(store, chair_actor, world.meeting_id, MeetingState.OPEN)
    meetings.transition(store, chair_actor, world.meeting_id, MeetingState.IN_SESSION)
    for who in ("chair", "secretary", "member1"):
        attendance.record(store, chair_actor, world.meeting_id, world.ids[who], AttendanceStatus.PRESENT_IN_ROOM)
    pid = polls.create_poll(store, chair_actor, world.meeting_id, polls.PollSpec(title="Bầu Trưởng ban", secrecy=Secrecy.SECRET))
    polls.open_poll(store, chair_actor, pid)
    polls.cast_ballot(store, world.actor("member1"), pid, ["yes"])
    store.ballot_keys.forget(pid)

    chair = live_server.page(browser, "chair", f"/chair/{world.meeting_id}", touch=True)
    expect(chair.locator("#ballot-box-locked")).to_be_visible()
    chair.locator("#teller-passphrase").fill("sai mat khau roi")
    chair.locator("#unlock-ballot-box").tap()
    expect(chair.locator(".toast.error")).to_contain_text("Sai mật khẩu khóa kiểm phiếu")
    chair.locator("#teller-passphrase").fill(TELLER_PASSPHRASE)
    chair.locator("#unlock-ballot-box").tap()
    expect(chair.locator("#ballot-box-locked")).to_contain_text("Người chair: đã mở khóa")
    expect(chair.locator("#teller-passphrase")).to_have_value("")  # the secretary, next on this tablet, does not find it filled
    shot(chair, "chair-ballot-box-locked")

    secretary.goto(f"/chair/{world.meeting_id}")
    secretary.locator("#teller-passphrase").fill(NEW_PASSPHRASE)
    # a ballot arriving redraws the votes: what the teller typed stays
    polls.cast_ballot(store, world.actor("secretary"), pid, ["no"])
    expect(secretary.locator("#ballots-cast")).to_contain_text("2/")
    expect(secretary.locator("#teller-passphrase")).to_have_value(NEW_PASSPHRASE)
    # and the field keeps the focus: a tablet's keyboard stays up (the field moved into its redrawn card lost it)
    expect(secretary.locator("#teller-passphrase")).to_be_focused()
    secretary.locator("#unlock-ballot-box").click()
    expect(secretary.locator("#ballot-box-locked")).to_have_count(0)
    expect(secretary.locator("#close-poll")).to_be_visible()
    assert store.ballot_keys.private(pid) is not None
    chair.locator("#close-poll").tap()  # two taps: ending a vote cannot be undone
    # the chair has not cast their own ballot: the second tap says so (a walk-through closed a vote without it)
    expect(chair.locator("#close-poll")).to_have_text("Bạn chưa bỏ phiếu của mình — chạm lần nữa để vẫn kết thúc")
    chair.locator("#close-poll").tap()
    expect(chair.locator("#publish-poll")).to_be_visible()


def test_a_member_checks_a_secret_ballot_with_the_receipt_after_publication(browser: Browser, live_server: LiveServer) -> None:
    world = live_server.world
    store, chair = world.store, world.actor("chair")
    meetings.transition(store, chair, world.meeting_id, MeetingState.OPEN)
    meetings.transition(store, chair, world.meeting_id, MeetingState.IN_SESSION)
    for who in ("chair", "member1"):
        attendance.record(store, chair, world.meeting_id, world.ids[who], AttendanceStatus.PRESENT_IN_ROOM)
    pid = polls.create_poll(store, chair, world.meeting_id, polls.PollSpec(title="Bầu Phó ban", secrecy=Secrecy.SECRET))
    polls.open_poll(store, chair, pid)

    member = live_server.page(browser, "member1", f"/member/{world.meeting_id}")
    member.get_by_label("Không tán thành", exact=True).check()
    member.get_by_role("button", name="Gửi phiếu").click()
    expect(member.locator("#voted")).to_contain_text("Mã biên nhận")
    code = member.locator("#voted .receipt-code").inner_text().strip()
    polls.cast_ballot(store, chair, pid, ["yes"])
    polls.close_poll(store, chair, pid)
    polls.publish_poll(store, chair, pid)

    section = member.locator(f'section[data-poll="{pid}"]')
    section.get_by_text("Kiểm tra phiếu của bạn bằng mã biên nhận").click()
    expect(section.get_by_label("Mã biên nhận")).to_have_value(code)  # kept from the vote, in this page only
    # Others' events redraw the votes panel: the open check and what was typed in it survive that.
    type_in(section.get_by_label("Mã biên nhận"), code.lower())
    member.evaluate("() => window.live.load('polls')")
    expect(section.locator("details.receipt")).to_have_attribute("open", "")
    expect(section.get_by_label("Mã biên nhận")).to_have_value(code.lower())
    section.get_by_role("button", name="Kiểm tra").click()
    expect(section.locator(".receipt-result")).to_contain_text("đúng như bạn đã bỏ: Không tán thành")
    shot(member, "member-page-receipt-check")


def test_a_locked_vote_past_its_time_takes_no_more_ballots_on_the_member_page(browser: Browser, live_server: LiveServer) -> None:
    world, store = live_server.world, live_server.world.store
    chair_actor = world.actor("chair")
    meetings.transition(store, chair_actor, world.meeting_id, MeetingState.OPEN)
    meetings.transition(store, chair_actor, world.meeting_id, MeetingState.IN_SESSION)
    for who in ("chair", "secretary", "member1"):
        attendance.record(store, chair_actor, world.meeting_id, world.ids[who], AttendanceStatus.PRESENT_IN_ROOM)
    pid = polls.create_poll(store, chair_actor, world.meeting_id, polls.PollSpec(title="Bầu Phó ban", secrecy=Secrecy.SECRET))
    polls.open_poll(store, chair_actor, pid, duration_s=10)
    store.ballot_keys.forget(pid)  # a restart: the vote cannot close until the tellers open the box

    member = live_server.page(browser, "member1", f"/member/{world.meeting_id}")
    expect(member.locator(f'#votes [data-poll="{pid}"] button[type=submit]')).to_be_visible()
    expect(member.locator("#time-up")).to_be_visible(timeout=30_000)  # the deadline passes while the page is open
    expect(member.locator(f'#votes [data-poll="{pid}"] button[type=submit]')).to_have_count(0)
    expect(member.locator("#vote-banner")).to_contain_text("Hết thời gian biểu quyết")
    shot(member, "member-page-time-up")
