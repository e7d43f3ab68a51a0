"""A remote member in a real browser through the Janus SFU: Debian's chromium (a fake microphone
playing Vietnamese speech) on the member page of a meeting that goes through Janus (the server runs
it). janus.js comes from the npm registry (meeting_room/web/node_modules) and is served by the
server. They hear the room's 1 kHz tone through Janus, are captioned under their name, vote; Janus
killed mid-call: the page says so and is back on the call once the server has restarted Janus;
leaving records them as left."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from playwright.sync_api import Browser, expect

from meeting_room.api.routes.pages import vendor_dir
from speech.models import ModelStore
from tests import needs
from tests.meeting_room.call_server import ROOM_HZ, _h, serve_call, wait_for
from tests.meeting_room.web.conftest import LiveServer, shot
from tests.meeting_room.web.test_call_page import call_browser, voice_wav  # noqa: F401 (fixtures)
from webrtc.janus import free_port


@pytest.fixture
def served(tmp_path: Path, model_store: ModelStore) -> Iterator[dict[str, Any]]:
    needs.janus()
    if vendor_dir("janus-gateway") is None or vendor_dir("webrtc-adapter") is None:
        needs.unavailable("janus.js is not installed (npm ci in meeting_room/web; scripts/setup.sh does it)", needs.PACKAGES)
    extra = {
        "janus": "run",
        "janus_min_participants": 0,
        "janus_ws_port": free_port(),
        "janus_admin_port": free_port(),
        "call_grace_s": 30.0,
    }
    with serve_call(tmp_path, model_store, **extra) as s:
        sfu = s["app"].state.runtime.calls.sfu
        wait_for("Janus running", lambda: sfu.state.value == "running", 30)
        yield s


def test_a_remote_member_joins_through_janus_from_the_browser(call_browser: Browser, served: dict[str, Any]) -> None:  # noqa: F811
    world, mid, base = served["world"], served["world"].meeting_id, served["base"]
    sfu = served["app"].state.runtime.calls.sfu
    site = LiveServer(base, world)
    page = site.page(call_browser, "member2", f"/member/{mid}")
    page.get_by_role("button", name="Tham gia trực tuyến").click()
    expect(page.locator("#call-state")).to_have_text("Đã kết nối Connected", timeout=30_000)
    assert page.evaluate("call.janus !== null && call.pc === null"), "the call goes through Janus, not the built-in peer"

    def tone() -> dict[str, Any] | None:
        h = page.evaluate("call.heard()")
        return h if h and abs(h["hz"] - ROOM_HZ) < 25 and h["db"] > -60 else None

    assert wait_for("the room's 1 kHz tone through Janus, loud, in the page", tone, 30)
    chair = _h(served["tokens"]["chair"])

    def record(who: str) -> dict[str, Any]:
        rows: list[dict[str, Any]] = httpx.get(f"{base}/api/meetings/{mid}/attendance", headers=chair).json()["records"]
        return next(r for r in rows if r["member_id"] == world.ids[who])

    assert wait_for("online", lambda: record("member2")["status"] == "present_online", 20)

    def lines() -> list[dict[str, Any]]:
        rows = httpx.get(f"{base}/api/meetings/{mid}/transcript", headers=chair).json()["lines"]
        return [ln for ln in rows if ln["speaker"] == "Người member2"]

    mine = wait_for("their captions, from their own feed in Janus", lines, 120)
    assert " ".join(ln["text"] for ln in mine).strip(), mine

    motion = {"title": "Thông qua nghị quyết ngân sách", "rule": {"preset": "hdnd_resolution"}, "agenda_item_id": world.item_ids[1]}
    poll = httpx.post(f"{base}/api/meetings/{mid}/polls", json=motion, headers=chair).json()
    httpx.post(f"{base}/api/meetings/{mid}/polls/{poll['id']}/open", json={}, headers=chair).raise_for_status()
    form = page.locator(f"form.ballot[data-poll='{poll['id']}']")
    form.get_by_label(poll["options"][0]["label"], exact=True).check()
    form.get_by_role("button", name="Gửi phiếu").click()
    expect(page.locator("#voted")).to_be_visible()
    assert httpx.get(f"{base}/api/meetings/{mid}/polls/{poll['id']}", headers=chair).json()["ballots_cast"] == 1
    shot(page, "member-page-remote-call-janus")

    # Janus killed mid-call: the page says so, then is back on a new connection once it restarted
    page.evaluate("window.before = call.janus")
    sfu.process.kill()
    expect(page.locator("#toasts")).to_contain_text("Janus", timeout=20_000)
    back = "call.janus !== null && call.janus !== window.before && call.state === 'connected'"
    assert wait_for("the page back through the restarted Janus", lambda: page.evaluate(back), 60)
    assert wait_for("the room heard again", tone, 30)
    assert record("member2")["status"] == "present_online"  # within the grace period: no departure

    page.get_by_role("button", name="Rời cuộc họp").click()
    expect(page.locator("#call-state")).to_have_text("Đã rời cuộc họp Left the meeting")
    assert wait_for("left", lambda: record("member2")["status"] == "left", 10)
    page.context.close()
