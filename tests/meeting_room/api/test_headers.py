"""The HTTP surface's headers: Secure cookies and HSTS over HTTPS, nosniff and a CSP everywhere,
pages without inline script or style, files served as types that cannot run script, /docs offline,
and an unexpected error answered as a bilingual JSON 500 instead of a dropped connection."""

from __future__ import annotations

import re
from importlib.resources import files as package_files
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from meeting_room.api.app import create_app
from meeting_room.api.headers import PAGE_CSP
from meeting_room.api.routes.pages import PAGES
from meeting_room.files.recordings import media_type_of
from meeting_room.server import open_store
from meeting_room.settings import Settings
from meeting_room.store import Store
from tests.conftest import PASSWORD, World, _settings, make_world

WEB = package_files("meeting_room") / "web"


def test_secure_cookie_and_hsts_over_https(client: TestClient, world: World) -> None:
    r = client.post("/api/auth/login", json={"username": "chair", "password": PASSWORD})
    cookie = r.headers["set-cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
    for path in ("/api/health", "/", "/api/nowhere", "/static/app.js"):
        response = client.get(path)
        assert response.headers["strict-transport-security"].startswith("max-age="), path
        assert response.headers["x-content-type-options"] == "nosniff", path


def test_plain_http_has_no_hsts_and_no_secure_cookie_unless_asked(tmp_path: Path) -> None:
    cases: tuple[tuple[dict[str, Any], bool], ...] = (({}, False), ({"cookie_secure": True}, True))
    for extra, secure in cases:
        settings = _settings(tmp_path / str(secure), https=False, **extra)
        store = open_store(settings)
        make_world(store)
        with TestClient(create_app(settings, store)) as client:
            r = client.post("/api/auth/login", json={"username": "chair", "password": PASSWORD})
            assert ("Secure" in r.headers["set-cookie"]) is secure
            assert "strict-transport-security" not in r.headers
            assert r.headers["x-content-type-options"] == "nosniff"
        store.engine.dispose()


def test_every_page_has_a_csp_without_inline_code(client: TestClient) -> None:
    assert "unsafe-inline" not in PAGE_CSP and "script-src 'self'" in PAGE_CSP
    for path in PAGES:
        r = client.get(path.replace("{meeting_id}", "m1"))
        assert r.headers["content-security-policy"] == PAGE_CSP, path
        assert r.headers["x-content-type-options"] == "nosniff"
    # no markup the policy would block: inline scripts, event handler attributes, style attributes
    for page in [WEB / "layout.html", *(WEB / "pages").iterdir()]:
        text = page.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), page.name
        assert not re.search(r"\s(on[a-z]+|style)\s*=", text), page.name
        assert "<style" not in text, page.name
    # JSON answers carry a policy that allows nothing
    assert client.get("/api/health").headers["content-security-policy"].startswith("default-src 'none'")


def test_docs_are_served_from_this_server(client: TestClient) -> None:
    r = client.get("/docs")
    assert r.status_code == 200
    assert not re.search(r"(src|href)=['\"]?https?://", r.text), "no CDN"
    for asset in re.findall(r"(?:src|href)=['\"](/[^'\"]+)['\"]", r.text):
        got = client.get(asset)
        assert got.status_code == 200 and got.content, asset
    csp = r.headers["content-security-policy"]
    assert "'sha256-" in csp and "script-src 'self'" in csp and "cdn" not in csp
    assert client.get("/openapi.json").status_code == 200


def test_recordings_are_served_as_media_or_bytes_never_html() -> None:
    assert media_type_of("họp.WAV") == "audio/wav"
    assert media_type_of("phien-hop.webm") == "video/webm"
    for name in ("x.html", "x.svg", "x.js", "x", "x.xhtml"):
        assert media_type_of(name) == "application/octet-stream"


def test_an_unexpected_error_is_a_bilingual_json_500(settings: Settings, store: Store) -> None:
    app = create_app(settings, store)

    @app.get("/api/boom")
    def boom() -> None:
        raise RuntimeError("a bug")

    # raise_server_exceptions: an error that escaped the app (and so dropped the connection) would raise here
    with TestClient(app, base_url="https://testserver") as client:
        r = client.get("/api/boom")
    assert r.status_code == 500
    assert r.json()["error"]["code"] == "internal_error"
    assert r.json()["error"]["message"] and r.json()["error"]["message_en"]
    assert r.headers["x-content-type-options"] == "nosniff"


def test_a_500_keeps_the_keep_alive_connection(settings: Settings, store: Store) -> None:
    """Over a real server: after the 500 the same connection answers the next request."""
    import asyncio
    import http.client
    import socket
    import threading

    import uvicorn

    app = create_app(settings, store)

    @app.get("/api/boom")
    def boom() -> None:
        raise RuntimeError("a bug")

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="critical", lifespan="off"))
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    try:
        started = threading.Event()
        for _ in range(300):  # wait for the server, at most 30 s on a loaded machine
            if server.started:
                started.set()
                break
            started.wait(0.1)
        assert started.is_set()
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", "/api/boom")
        first = connection.getresponse()
        assert first.status == 500 and b"internal_error" in first.read()
        assert first.getheader("connection", "").lower() != "close"
        sock = connection.sock
        connection.request("GET", "/api/health")  # the same socket: http.client would fail, not reconnect, if it closed
        second = connection.getresponse()
        assert second.status == 200 and second.read()
        assert connection.sock is sock
        connection.close()
    finally:
        server.should_exit = True
        thread.join(timeout=10)
