"""QR codes on the chair console: a hall display link and a participant's invitation each come with
a code beside the link that a phone's camera (zbar here) reads as that link, and a print view of one
sheet, alone on the paper."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from playwright.sync_api import Browser, Locator, expect

from tests.meeting_room.web.conftest import SHOTS, LiveServer
from tests.needs import PACKAGES, unavailable


def _scan(code: Locator, tmp: Path) -> str:
    """The code as the screen shows it, read by zbarimg."""
    zbarimg = shutil.which("zbarimg")
    if zbarimg is None:
        unavailable("zbarimg (Debian zbar-tools) is not installed; scripts/test.sh installs it", PACKAGES)
    png = tmp / "code.png"
    code.screenshot(path=str(png))
    out = subprocess.run([zbarimg, "--quiet", "--raw", str(png)], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    return out.stdout.rstrip("\n")


def test_hall_and_invitation_links_as_qr_codes_on_screen_and_on_paper(browser: Browser, live_server: LiveServer, tmp_path: Path) -> None:
    world = live_server.world
    chair = live_server.page(browser, "chair", f"/chair/{world.meeting_id}")
    chair.locator("#hall-link-create").click()
    hall_link = chair.locator("#hall-link-list li").first
    code = hall_link.locator("figure.qr img")
    expect(code).to_be_visible()
    url = hall_link.locator("input.hall-link-url").input_value()
    assert f"/hall/{world.meeting_id}#" in url and _scan(code, tmp_path) == url

    hall_link.get_by_role("button", name="In mã QR").click()
    sheet = chair.locator("#qr-print")
    expect(sheet).to_contain_text("Màn hình hội trường")
    expect(sheet.locator(".qr-url")).to_have_text(url)
    chair.emulate_media(media="print")  # what the printer gets: the sheet alone
    assert chair.locator("main").evaluate("el => getComputedStyle(el).display") == "none"
    expect(chair.locator("#qr-print-go")).to_be_hidden()
    assert _scan(sheet.locator(".qr-page img"), tmp_path) == url
    SHOTS.mkdir(parents=True, exist_ok=True)
    chair.screenshot(path=str(SHOTS / "qr-print-view-hall-display.png"), full_page=True)
    chair.emulate_media(media="screen")
    chair.locator("#qr-print-close").click()
    expect(sheet).to_have_count(0)

    chair.locator("#invitations summary").click()
    chair.locator("#invite-member").select_option(world.ids["member2"])
    chair.locator("#invite-create").click()
    invite = chair.locator(".invite-link")
    expect(invite.locator("figure.qr img")).to_be_visible()
    link = chair.locator("#invite-url").input_value()
    assert "/join/" in link and _scan(invite.locator("figure.qr img"), tmp_path) == link
    chair.locator(".invite-link").get_by_role("button", name="In mã QR").click()
    expect(sheet).to_contain_text("Người member2")
    chair.emulate_media(media="print")
    chair.screenshot(path=str(SHOTS / "qr-print-view-invitation.png"), full_page=True)
    chair.emulate_media(media="screen")
    chair.screenshot(path=str(SHOTS / "qr-print-view-invitation-screen.png"))
