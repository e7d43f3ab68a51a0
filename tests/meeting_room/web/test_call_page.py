"""A remote member in a real browser: Debian's chromium with a fake microphone that plays a
Vietnamese WAV (``--use-file-for-fake-audio-capture``), joining the running meeting from the member
page over WebRTC. They hear the room (its 1 kHz tone, measured in the page by WebAudio), their words
are captioned under their name, they count as online, their ballot is counted, a dropped connection
comes back by itself without touching the attendance, and leaving records them as left."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import numpy as np
import pytest
from playwright.sync_api import Browser, expect

from meeting_room.operations.tls import ensure_tls
from speech.audio import SAMPLE_RATE, read_all
from speech.models import ModelStore
from tests.meeting_room.call_server import ROOM_HZ, _h, serve_call, wait_for
from tests.meeting_room.web.conftest import SHOTS, LiveServer, chromium, shot
from tests.speech_audio import speak, write_wav


@pytest.fixture(scope="module")
def voice_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("voice")
    voice = read_all(speak(folder / "say.wav", "Tôi đồng ý với dự thảo nghị quyết về ngân sách của tỉnh.", voice="vi+f3", pitch=75))
    pause = np.zeros(SAMPLE_RATE, np.float32)
    return write_wav(folder / "fake-mic.wav", np.concatenate([pause, voice, pause, pause]))  # chromium loops it


@pytest.fixture(scope="module")
def call_browser(voice_wav: Path) -> Iterator[Browser]:
    """Its microphone plays the Vietnamese WAV; the room's sound plays without a tap."""
    with chromium(f"--use-file-for-fake-audio-capture={voice_wav}", "--autoplay-policy=no-user-gesture-required") as b:
        yield b


@pytest.fixture
def served(tmp_path: Path, model_store: ModelStore) -> Iterator[dict[str, Any]]:
    with serve_call(tmp_path, model_store) as s:
        yield s


def test_a_remote_member_joins_from_the_browser(call_browser: Browser, served: dict[str, Any]) -> None:
    world, mid, base = served["world"], served["world"].meeting_id, served["base"]
    site = LiveServer(base, world)
    page = site.page(call_browser, "member2", f"/member/{mid}")
    page.get_by_role("button", name="Tham gia trực tuyến").click()
    expect(page.locator("#call-state")).to_have_text("Đã kết nối Connected", timeout=20_000)

    # they hear the room: the loudest frequency of what arrives is the room's 1 kHz tone
    def tone() -> dict[str, Any] | None:  # loud, not the first quiet frames of a starting stream
        h = page.evaluate("call.heard()")
        return h if h and abs(h["hz"] - ROOM_HZ) < 25 and h["db"] > -60 else None

    assert wait_for("the room's 1 kHz tone, loud, in the page", tone, 20)

    chair = _h(served["tokens"]["chair"])

    def record(who: str) -> dict[str, Any]:
        rows: list[dict[str, Any]] = httpx.get(f"{base}/api/meetings/{mid}/attendance", headers=chair).json()["records"]
        return next(r for r in rows if r["member_id"] == world.ids[who])

    assert wait_for("online", lambda: record("member2")["status"] == "present_online", 10)
    expect(page.locator("#present-online")).to_have_text("1")

    # what they say is captioned under their name
    def lines() -> list[dict[str, Any]]:
        rows = httpx.get(f"{base}/api/meetings/{mid}/transcript", headers=chair).json()["lines"]
        return [ln for ln in rows if ln["speaker"] == "Người member2"]

    mine = wait_for("their captions", lines, 90)
    assert " ".join(ln["text"] for ln in mine).strip(), mine
    expect(page.locator("#captions")).to_contain_text("Người member2", timeout=20_000)

    # a vote opens; they vote from the same page
    motion = {"title": "Thông qua nghị quyết ngân sách", "rule": {"preset": "hdnd_resolution"}, "agenda_item_id": world.item_ids[1]}
    poll = httpx.post(f"{base}/api/meetings/{mid}/polls", json=motion, headers=chair).json()
    httpx.post(f"{base}/api/meetings/{mid}/polls/{poll['id']}/open", json={}, headers=chair).raise_for_status()
    form = page.locator(f"form.ballot[data-poll='{poll['id']}']")
    form.get_by_label(poll["options"][0]["label"], exact=True).check()
    form.get_by_role("button", name="Gửi phiếu").click()
    expect(page.locator("#voted")).to_be_visible()
    assert httpx.get(f"{base}/api/meetings/{mid}/polls/{poll['id']}", headers=chair).json()["ballots_cast"] == 1
    shot(page, "member-page-remote-call")

    # the connection drops (socket and peer): the page reconnects by itself; attendance unchanged
    # (waiting for the text "Đã kết nối" alone would pass at once on the state before the drop)
    page.evaluate("window.droppedWs = call.ws; call.ws.close(); call.pc.close()")
    back = "call.ws !== null && call.ws !== window.droppedWs && call.state === 'connected'"  # (the page's CSP forbids wait_for_function)
    assert wait_for("the page back on a new connection", lambda: page.evaluate(back), 30)
    expect(page.locator("#call-state")).to_have_text("Đã kết nối Connected")

    page.get_by_role("button", name="Rời cuộc họp").click()
    expect(page.locator("#call-state")).to_have_text("Đã rời cuộc họp Left the meeting")
    assert wait_for("left", lambda: record("member2")["status"] == "left", 10)
    events = httpx.get(f"{base}/api/meetings/{mid}/events?limit=5000", headers=chair).json()["events"]
    mine = [e["data"] for e in events if e["type"] == "attendance.recorded" and e["data"]["member_id"] == world.ids["member2"]]
    statuses = [d["status"] for d in mine]
    assert statuses == ["present_online", "left"], statuses
    assert not site.errors, site.errors
    page.context.close()


def test_the_chair_invites_sees_and_mutes_a_remote_member(call_browser: Browser, served: dict[str, Any]) -> None:
    """From the console, by taps: a link for member2 → opened in a browser that never logged in →
    on the call; the chair's list shows them connected (live, no reload), the chair switches their
    microphone off (the member's page says so), then revokes the link: the call ends, they are left."""
    world, mid, base = served["world"], served["world"].meeting_id, served["base"]
    site = LiveServer(base, world)
    console = site.page(call_browser, "chair", f"/chair/{mid}", touch=True)
    panel = console.locator("#remote")
    expect(panel.locator("#call-list")).to_have_text("Chưa có ai tham gia trực tuyến. Nobody has joined online yet.")
    panel.get_by_text("Liên kết mời tham gia từ xa").tap()
    panel.locator("#invite-member").select_option(label="Người member2")
    panel.locator("#invite-hours").select_option("8")
    panel.get_by_role("button", name="Tạo liên kết mời").tap()
    link = panel.locator("#invite-url")
    expect(link).to_have_value(re.compile(rf"^{re.escape(base)}/join/\S+$"))
    astray = panel.locator(".invite-link").get_attribute("data-invitation")
    expect(panel.locator(f'#invitation-list li[data-invitation="{astray}"]')).to_contain_text("Chưa dùng")
    # sent again (the first went astray): the first, never opened, no longer opens, and the console says so
    panel.locator("#invite-member").select_option(label="Người member2")
    panel.get_by_role("button", name="Tạo liên kết mời").tap()
    expect(panel.locator("#invite-replaced")).to_contain_text("chưa được mở nay không còn dùng được")
    expect(panel.locator(f'#invitation-list li[data-invitation="{astray}"]')).to_contain_text("Đã thay bằng liên kết mới")
    expect(panel.locator(f'#invitation-list li[data-invitation="{astray}"]')).not_to_contain_text("hết hạn")  # no expiry for a dead link
    invitation = panel.locator(".invite-link").get_attribute("data-invitation")
    assert invitation != astray
    url = link.input_value()
    expect(panel.locator("#invite-url-text")).to_have_text(url)  # the whole link, readable
    row = panel.locator(f'#invitation-list li[data-invitation="{invitation}"]')
    expect(row).to_contain_text("Chưa dùng")
    # the link readable, not a 115 px slit (measured in one go: live events redraw the panel)
    share = console.evaluate("() => document.querySelector('#invite-url').offsetWidth / document.querySelector('#remote').offsetWidth")
    assert share > 0.7, share
    console.evaluate("document.querySelector('.invite-link').scrollIntoView()")  # (live events redraw the panel)
    shot(console, "chair-console-invitation-link")

    # the member opens the link in a browser that has no session of theirs
    member = site.page(call_browser)
    member.goto(url)
    member.locator("#join").click()  # the link's page names them; only its button uses the link
    member.wait_for_url(f"**/member/{mid}")
    expect(member.locator("header .who")).to_have_text("Người member2 qua liên kết mời / by invitation link")
    member.get_by_role("button", name="Tham gia trực tuyến").click()
    expect(member.locator("#call-state")).to_have_text("Đã kết nối Connected", timeout=20_000)

    # the console follows: on the call, connected; the link is now used
    on_call = panel.locator("#call-list li[data-member]").filter(has_text="Người member2")
    expect(on_call.locator(".badge")).to_have_text("Đã kết nối", timeout=10_000)
    expect(row).to_contain_text("Đã dùng")
    expect(console.locator("#present-online")).to_have_text("1")  # the quorum counts them
    shot(console, "chair-console-remote")

    # the chair switches the remote microphone off: the server stops mixing it, the member is told
    on_call.get_by_role("button", name="Tắt micrô của Người member2").tap()
    expect(on_call).to_contain_text("micrô tắt")
    expect(member.locator("#call-mute")).to_have_attribute("aria-pressed", "true")
    expect(member.locator("#toasts")).to_contain_text("đã tắt micrô của bạn")
    chair = _h(served["tokens"]["chair"])
    calls = httpx.get(f"{base}/api/meetings/{mid}/calls", headers=chair).json()["calls"]
    assert [(c["name"], c["muted"]) for c in calls] == [("Người member2", True)]
    # a member cannot mute anyone; nobody can mute who is not on the call
    other = _h(served["tokens"]["member1"])
    r = httpx.post(f"{base}/api/meetings/{mid}/calls/{world.ids['member2']}/mute", json={"muted": False}, headers=other)
    assert r.status_code == 403, r.text
    r = httpx.post(f"{base}/api/meetings/{mid}/calls/{world.ids['member1']}/mute", json={"muted": True}, headers=chair)
    assert r.status_code == 404 and "không tham gia trực tuyến" in r.json()["error"]["message"], r.text

    # a link sent again once the last was opened: it is not replaced (that browser may be theirs), the
    # console says so until the opened one is revoked
    panel.locator("#invite-member").select_option(label="Người member2")
    panel.get_by_role("button", name="Tạo liên kết mời").tap()
    expect(panel.locator("#invite-opened")).to_contain_text("đã được mở và vẫn dùng được")
    expect(row).to_contain_text("Đã dùng")
    console.evaluate("document.querySelector('#invite-opened').scrollIntoView()")
    shot(console, "chair-console-invitation-opened-warning")

    # revoking takes two taps; the call ends at once and they are recorded as having left
    revoke = row.get_by_role("button", name="Thu hồi liên kết của Người member2")
    revoke.tap()
    expect(revoke).to_have_text("Chạm lần nữa để thu hồi / Tap again to revoke")
    console.evaluate("() => window.live.load('invitations')")  # a redraw between the taps keeps the first one
    expect(revoke).to_have_text("Chạm lần nữa để thu hồi / Tap again to revoke")
    revoke.tap()
    expect(row).to_contain_text("Đã thu hồi")
    expect(panel.locator("#invite-opened")).to_have_count(0)  # the warning goes with the link it was about
    expect(panel.locator("#call-list")).to_have_text("Chưa có ai tham gia trực tuyến. Nobody has joined online yet.")
    # their session is gone too: the page lands on the login page, which says why
    member.wait_for_url("**/?next=*ended=1")
    expect(member.locator("#why")).to_contain_text("liên kết mời bị thu hồi")

    def status() -> str:
        rows: list[dict[str, str]] = httpx.get(f"{base}/api/meetings/{mid}/attendance", headers=chair).json()["records"]
        return next(r["status"] for r in rows if r["member_id"] == world.ids["member2"])

    assert wait_for("left", lambda: status() == "left", 10)
    assert not site.errors, site.errors
    member.context.close()
    console.context.close()


def test_the_admin_sees_the_room_devices_and_https(call_browser: Browser, served: dict[str, Any]) -> None:
    """The admin page over a server running a room: its microphone connected and the meeting it
    serves; the HTTPS card with the local CA's fingerprint and its download."""
    files = ensure_tls(served["app"].state.runtime.settings)  # what `serve` does at start
    site = LiveServer(served["base"], served["world"])
    page = site.page(call_browser, "admin", "/admin")
    room = page.locator("#devices .room-devices").filter(has_text="Phòng họp A")
    mic = room.locator("tr[data-device='ban-hop']")
    expect(mic).to_contain_text("Micrô")
    expect(mic.locator(".badge")).to_have_text("Đã kết nối Connected")
    expect(room.get_by_role("link", name="Đang họp")).to_have_attribute("href", f"/chair/{served['world'].meeting_id}")
    page.get_by_text("Thiết bị âm thanh và camera gắn vào máy chủ").click()
    expect(page.locator("#machine-devices")).to_contain_text("Camera (V4L2)")
    page.get_by_role("button", name="Kiểm tra lại").click()
    expect(page.locator("#machine-devices")).to_have_attribute("open", "")  # a refresh keeps it open
    expect(page.locator("#tls-fingerprint")).to_have_text(files.fingerprint)
    with page.expect_download() as download:
        page.get_by_role("link", name="Tải CA nội bộ").click()
    assert Path(download.value.path()).read_bytes() == files.ca.read_bytes()  # type: ignore[union-attr]
    SHOTS.mkdir(parents=True, exist_ok=True)
    for card in ("devices", "certificates"):  # below the member list: shown as the admin scrolls to them
        page.locator(f"#{card}").evaluate("el => el.scrollIntoView()")
        page.screenshot(path=str(SHOTS / f"admin-{card}.png"))
    assert not site.errors, site.errors
    page.context.close()
