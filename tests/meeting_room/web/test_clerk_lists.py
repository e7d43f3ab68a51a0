"""The clerk's list of ended meetings comes a page at a time: "Xem thêm" by tap brings the next."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import Browser, expect

from meeting_room import events as ev
from meeting_room.lifecycle import MeetingState
from meeting_room.services import meetings
from tests.meeting_room.web.conftest import SHOTS, LiveServer
from tests.meeting_room.web.test_meeting_screens import SMALL_PHONE, _fits, _open_page

ENDED = 23  # more than one page (20)
VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")


def test_the_clerk_pages_through_ended_meetings(browser: Browser, live_server: LiveServer) -> None:
    world = live_server.world
    admin, chair = world.actor("admin"), world.actor("chair")
    held_from = datetime.now(UTC)
    for i in range(ENDED):
        payload = ev.MeetingScheduled(
            meeting_id=meetings.new_meeting_id(), body_id=world.body_id, title=f"Phiên họp đã kết thúc số {i + 1:02d}",
            starts_at=datetime.now(UTC) - timedelta(days=i + 1), chair_id=world.ids["chair"],
        )  # fmt: skip
        mid = meetings.schedule_meeting(world.store, admin, payload, invite_body_members=False)
        for state in (MeetingState.OPEN, MeetingState.IN_SESSION, MeetingState.CLOSED):
            meetings.transition(world.store, chair, mid, state)

    clerk = _open_page(browser, live_server, "clerk", "/clerk", SMALL_PHONE, touch=True)
    rows = clerk.locator("#closed-list > li")
    expect(rows).to_have_count(20)
    expect(rows.first).to_contain_text("số 01")  # newest first
    # when it was held (opened and closed just now), not when it was planned (a day ago)
    days = "|".join({moment.astimezone(VIETNAM).strftime("%d/%m/%Y") for moment in (held_from, datetime.now(UTC))})
    expect(rows.first.locator(".muted")).to_have_text(re.compile(rf"^({days}) \d\d:\d\d–(\d\d/\d\d/\d{{4}} )?\d\d:\d\d$"))
    expect(clerk.locator("#closed-count")).to_have_text(f"20 / {ENDED} cuộc họp")
    clerk.locator("#closed-more").tap()
    expect(rows).to_have_count(ENDED)
    expect(rows.last).to_contain_text(f"số {ENDED:02d}")
    expect(clerk.locator("#closed-more")).to_be_hidden()  # the last page
    _fits(clerk, SMALL_PHONE["width"])
    clerk.locator("#closed").screenshot(path=str(SHOTS / "clerk-ended-meetings-phone.png"))
    clerk.context.close()
