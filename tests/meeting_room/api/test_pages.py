"""The pages' browser libraries: pdf.js served from what npm installed; without it, a warning at
start and a server that works all the same."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from meeting_room.api.app import create_app
from meeting_room.api.routes import pages
from meeting_room.settings import Settings
from meeting_room.store import Store
from tests.needs import PACKAGES, unavailable


def test_pdfjs_is_served_under_static_vendor(client: TestClient) -> None:
    if pages.vendor_dir("pdfjs-dist") is None:
        unavailable("pdf.js is not installed (scripts/setup.sh runs npm ci in meeting_room/web)", PACKAGES)
    for path in ("build/pdf.min.mjs", "build/pdf.worker.min.mjs"):
        r = client.get(f"/static/vendor/pdfjs-dist/{path}")
        assert r.status_code == 200 and "javascript" in r.headers["content-type"], path
    assert client.get("/static/app.js").status_code == 200  # /static itself still answers


def test_a_missing_library_is_a_warning_not_a_crash(
    settings: Settings, store: Store, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(pages.VENDOR, "not-installed-lib", ("thiếu", "missing"))
    with caplog.at_level(logging.WARNING, logger=pages.__name__):
        app = create_app(settings, store)
    warned = [r.getMessage() for r in caplog.records if "not-installed-lib" in r.getMessage()]
    assert len(warned) == 1 and "npm ci" in warned[0] and "Thiếu thư viện" in warned[0]
    with TestClient(app, base_url="https://testserver") as client:
        assert client.get("/static/vendor/not-installed-lib/index.js").status_code == 404
        assert client.get("/static/app.js").status_code == 200
