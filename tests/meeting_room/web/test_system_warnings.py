"""The chair console says when the server's clock is not synchronised (meeting records carry its time)."""

from __future__ import annotations

from playwright.sync_api import Browser, expect

from meeting_room.operations.clock import clock_status
from tests.meeting_room.web.conftest import LiveServer, shot


def test_the_chair_console_warns_of_an_unsynchronised_clock(browser: Browser, live_server: LiveServer) -> None:
    chair = live_server.page(browser, "chair", f"/chair/{live_server.world.meeting_id}")
    expect(chair.locator("#meeting-state")).to_have_text("Đã lên lịch")
    warning = chair.locator('#system .system-warning[data-part="clock"]')
    if clock_status().synchronized is False:  # as on these sandboxed machines: the kernel reports TIME_ERROR
        expect(warning).to_contain_text("Đồng hồ máy chủ chưa được đồng bộ.")
        box = warning.bounding_box()
        assert box is not None and box["height"] < 60  # one line until tapped
        warning.locator("summary").click()
        expect(warning.locator("p")).to_contain_text("systemd-timesyncd hoặc chrony")
        expect(warning.locator("p")).to_contain_text("not synchronised (NTP)")
        shot(chair, "chair-console-clock-warning")
    else:
        chair.wait_for_function("() => document.querySelector('#system') !== null")
        expect(warning).to_have_count(0)
