"""Browser tests: the real server on a loopback port, Debian's chromium driven by Playwright.

The browser is the system's own ``chromium`` (``executable_path``), never a downloaded one. In CI
(``$CI`` or ``MEETING_ROOM_TEST_REQUIRE_BROWSER=1``) a missing browser fails; elsewhere the tests skip.
Screenshots at tablet size go to ``$MEETING_ROOM_SCREENSHOTS`` (default ``test-artifacts/screenshots``).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import uvicorn

from meeting_room.api import create_app
from meeting_room.settings import Settings
from tests import needs
from tests.conftest import PASSWORD, World, _settings
from tests.pki import root_ca

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator, Page, ViewportSize

# expect() waits on a condition; Playwright's default of 5 s is short for a tap (a write, its fsync,
# a re-read) on a loaded 2-core machine that is also transcribing: the same 15 s as every action
with contextlib.suppress(ImportError):  # without playwright, chromium() below says so
    from playwright.sync_api import expect

    expect.set_options(timeout=15_000)

TABLET: ViewportSize = {"width": 1280, "height": 800}  # a 10-inch tablet in landscape, CSS pixels
ROOT = Path(__file__).resolve().parents[3]
SHOTS = Path(os.environ.get("MEETING_ROOM_SCREENSHOTS", ROOT / "test-artifacts" / "screenshots"))


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser"):
        if path := shutil.which(name):
            return path
    return None


@contextlib.contextmanager
def chromium(*extra_args: str) -> Iterator[Browser]:
    """Debian's chromium through Playwright, with fake media devices (a test pattern and a tone,
    or what ``extra_args`` choose). In CI a missing browser fails; elsewhere the test skips."""
    executable = _chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        executable = None
    if executable is None:
        needs.unavailable("no chromium or playwright: the browser tests need both (scripts/test.sh installs them)", needs.BROWSER)
    fake_media = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]
    with sync_playwright() as p:
        # --lang: the browser's own controls (date and time pickers) in Vietnamese, as members see them
        flags = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--lang=vi-VN"]
        b = p.chromium.launch(executable_path=executable, args=[*flags, *fake_media, *extra_args])
        yield b
        b.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One chromium per test module. Not per session: Playwright's sync API keeps an event loop
    running in this thread while it lives, and later tests that call asyncio.run() would fail."""
    with chromium() as b:
        yield b


@dataclass
class LiveServer:
    base: str
    world: World
    errors: list[str] = field(default_factory=list)  # JavaScript errors seen on any page

    def page(self, browser: Browser, username: str | None = None, path: str = "/meetings", touch: bool = False) -> Page:
        """A new browser context at tablet size, logged in through the login page; ``touch``: a
        touch screen (the chair's tablet), so that the test can tap instead of click."""
        context = browser.new_context(viewport=TABLET, locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh", base_url=self.base, has_touch=touch)
        context.set_default_timeout(15_000)
        page = context.new_page()
        page.on("pageerror", lambda exc: self.errors.append(f"{username}: {exc}"))
        if username:
            page.goto(f"/?next={path}")
            page.get_by_label("Tên đăng nhập").fill(username)
            page.get_by_label("Mật khẩu").fill(PASSWORD)
            page.get_by_role("button", name="Đăng nhập").click()
            page.wait_for_url(arrived_at(path))
        return page


def arrived_at(path: str) -> re.Pattern[str]:
    """A URL whose path is ``path`` (the glob "**/member/x" also matches the login page's own
    "/?next=/member/x", so a wait on it returned before the log-in had moved on)."""
    return re.compile(rf"^[a-z]+://[^/]+{re.escape(path)}(#.*)?$")


def type_in(field: Locator, text: str) -> None:
    """Fill a field on a page that the live stream redraws: Playwright focuses the field and then sends
    the text in a second step, and a redraw landing between the two (events of the step just taken)
    can take the focus so that the text goes nowhere. Typed again until the field holds it."""
    for _ in range(3):
        field.fill(text)
        if field.input_value() == text:
            return
    expect(field).to_have_value(text)


def shot(page: Page, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.evaluate("window.scrollTo(0, 0)")  # what the person sees when the page opens
    page.screenshot(path=str(path), full_page=False)
    return path


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """The suite's settings, trusting the test CA that issues the signers' certificates."""
    ca = tmp_path / "ca.pem"
    ca.write_bytes(root_ca().pem)
    return _settings(tmp_path, max_upload_mb=1, trust_roots=[ca])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def live_server(settings: Settings, world: World) -> Iterator[LiveServer]:
    """The app over the test world, served by uvicorn on loopback in a thread."""
    port = _free_port()
    config = uvicorn.Config(create_app(settings, world.store), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    live = LiveServer(f"http://127.0.0.1:{port}", world)
    yield live
    server.should_exit = True
    thread.join(timeout=20)
    assert not live.errors, f"JavaScript errors on the pages: {live.errors}"
