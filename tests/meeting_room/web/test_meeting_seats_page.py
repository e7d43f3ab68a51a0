"""Seats for this meeting on the prepare page: the secretary seats a guest in the chair's usual seat,
is told in place when the same guest is given a second seat, and the card fits a 360 px phone; the
chair's console shows the same card and gives the seat back.
No API call in the test body: everything goes through the page."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, ViewportSize, expect
from sqlalchemy import select

from meeting_room.db import tables as t
from meeting_room.services import rooms
from tests.meeting_room.web.conftest import SHOTS, LiveServer

PHONE: ViewportSize = {"width": 360, "height": 640}


@pytest.fixture
def usual_seats(live_server: LiveServer) -> None:
    """The room's A1 is usually the chair's."""
    world = live_server.world
    with world.store.read() as session:
        a1 = session.scalar(select(t.Seat.id).where(t.Seat.room_id == world.room_id, t.Seat.label == "A1"))
    assert a1 is not None
    rooms.set_occupant(world.store, world.actor("admin"), world.room_id, a1, world.ids["chair"])


@pytest.mark.usefixtures("usual_seats")
def test_the_secretary_seats_a_guest_in_the_chairs_seat(browser: Browser, live_server: LiveServer) -> None:
    page = live_server.page(browser, "secretary", f"/prepare/{live_server.world.meeting_id}", touch=True)
    card = page.locator("#seats-card")
    expect(card.get_by_role("heading")).to_have_text("Chỗ ngồi Seats")
    a1, a2 = card.get_by_label("A1", exact=True), card.get_by_label("A2", exact=True)
    expect(a1.locator("option:checked")).to_have_text("mặc định: Người chair")

    # the guest takes the chair's seat for this meeting
    a1.select_option(label="Người guest")
    row = card.locator("li.seat-row", has_text="A1")
    expect(row.locator(".badge")).to_contain_text("Đã đổi")
    expect(card.get_by_label("A1", exact=True).locator("option:checked")).to_have_text("Người guest")

    # one seat per person: the API's refusal shows in the card, in both languages
    a2.select_option(label="Người guest")
    expect(card.locator(".field-error")).to_contain_text("đã được xếp ghế “A1”")
    expect(card.locator(".field-error .en")).to_contain_text("already has seat 'A1'")
    expect(card.get_by_label("A2", exact=True).locator("option:checked")).to_have_text("mặc định: trống / empty")

    # it stays after a reload, and the card fits a phone without sideways scrolling
    page.set_viewport_size(PHONE)
    page.reload()
    expect(page.locator("#seats-card").get_by_label("A1", exact=True).locator("option:checked")).to_have_text("Người guest")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), "the page scrolls sideways"
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.locator("#seats-card").screenshot(path=str(SHOTS / "meeting-seats-phone.png"))
    page.set_viewport_size({"width": 1280, "height": 800})
    page.locator("#seats-card").scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "meeting-seats-prepare.png"))

    # the chair's console shows the same seating, and changes it while the meeting runs
    console = live_server.page(browser, "chair", f"/chair/{live_server.world.meeting_id}", touch=True)
    seats = console.locator("#seats-card")
    expect(seats.get_by_label("A1", exact=True).locator("option:checked")).to_have_text("Người guest")
    seats.get_by_label("A1", exact=True).select_option(label="mặc định: Người chair")
    expect(seats.locator("li.seat-row", has_text="A1").locator(".badge")).to_have_count(0)
    console.locator("#seats-card").screenshot(path=str(SHOTS / "meeting-seats-chair.png"))
