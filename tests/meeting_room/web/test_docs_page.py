"""/docs in a real browser: Swagger UI from this server's own assets renders under its
Content-Security-Policy (no CDN, no blocked script), and the pages' policy blocks nothing they use."""

from __future__ import annotations

from playwright.sync_api import Browser, expect

from tests.meeting_room.web.conftest import LiveServer


def test_api_docs_render_offline_under_the_csp(browser: Browser, live_server: LiveServer) -> None:
    page = live_server.page(browser)
    blocked: list[str] = []
    outside: list[str] = []
    page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith((live_server.base, "data:")) else None)
    page.goto("/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Meeting Room API")
    expect(page.locator(".opblock-tag").first).to_be_visible()
    assert outside == [] and blocked == [] and live_server.errors == []
    page.goto("/")  # the login page: its styles come from the stylesheet, nothing is blocked
    expect(page.get_by_role("heading", name="Phòng họp thông minh")).to_be_visible()
    assert blocked == []
